"""Grading one submission: read it into a `Source`, preflight, load it through a channel,
run its checks (pipeline.py); `Grader` does all of it for a course."""

from grader.runner.grade import Catalogue, ChecksError, Grader, box_limits
from grader.runner.pipeline import Failure, check, load, run_check, run_checks
from grader.runner.read import read
from grader.runner.source import Source, SubmissionError, describe_blanks, find_blanks

__all__ = ["Catalogue", "ChecksError", "Failure", "Grader", "Source", "SubmissionError",
           "box_limits", "check", "describe_blanks", "find_blanks", "load", "read", "run_check",
           "run_checks"]
