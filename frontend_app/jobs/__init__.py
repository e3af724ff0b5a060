"""Report jobs: the manager (queue, running slots, cancel), a job with its event log,
and the report pipeline stage by stage with the writing stage's progress."""

from .job import Job, JobReporter, JobSpec
from .manager import JobManager
from .pipeline import ReportPipeline

__all__ = ["Job", "JobManager", "JobReporter", "JobSpec", "ReportPipeline"]
