"""Report jobs: the manager (queue, running slots, cancel), a job and its event log,
sending its events, and the report pipeline stage by stage with its progress."""

from .events import JobReporter
from .job import Job, JobSpec
from .manager import JobManager
from .pipeline import ReportPipeline

__all__ = ["Job", "JobManager", "JobReporter", "JobSpec", "ReportPipeline"]
