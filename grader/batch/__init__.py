"""Grading a whole class: discover student folders, grade on warm workers, journal
every result durably, and hand the class's results to the exporters."""

from grader.batch.run import BatchError, BatchRequest, BatchRun, run_batch

__all__ = ["BatchError", "BatchRequest", "BatchRun", "run_batch"]
