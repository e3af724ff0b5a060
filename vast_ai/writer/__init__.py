"""The one report writer, shared by the GPU tier and the dashboard's in-process engines."""

from vast_ai.writer.report import ReportWriter

__all__ = ["ReportWriter"]
