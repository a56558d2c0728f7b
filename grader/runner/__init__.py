"""Grading: read a submission, run it in a box, run the exercise's checks against it."""

from grader.runner.grade import ChecksError, Grader
from grader.runner.source import SubmissionError, find_blanks, read_source

__all__ = ["ChecksError", "Grader", "SubmissionError", "find_blanks", "read_source"]
