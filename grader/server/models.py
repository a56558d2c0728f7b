"""The server's tables: courses, their learners and staff, submissions (the job queue)
and the append-only ledger of grading events."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_id() -> str:
    """A submission id nobody can guess (128 random bits), so ids leak nothing. Never
    one starting with "-": a learner types it after `grade regrade ask`, and a command
    line reads "-4uSx..." as an option (one id in 64 did)."""
    while True:
        ident = secrets.token_urlsafe(16)
        if not ident.startswith("-"):
            return ident


class Course(models.Model):
    """One course served: its folder (course.yaml) and whether hidden checks are published."""

    slug = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=300, default="")
    root = models.CharField(max_length=1000, help_text="the folder of course.yaml")
    hidden_published = models.BooleanField(default=False)


class Learner(models.Model):
    """A roster row of one course, with the hash of their personal token."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="learners")
    student = models.CharField(max_length=200)
    name = models.CharField(max_length=300, default="", blank=True)
    email = models.CharField(max_length=300, default="", blank=True)
    sis_id = models.CharField(max_length=200, default="", blank=True)
    sis_login = models.CharField(max_length=200, default="", blank=True)
    section = models.CharField(max_length=200, default="", blank=True)
    token_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "student"],
                                               name="one_learner_per_course")]


class Role(models.Model):
    """A staff account's role in one course."""

    INSTRUCTOR = "instructor"
    TA = "ta"
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=20, choices=[(INSTRUCTOR, INSTRUCTOR), (TA, TA)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "user"],
                                               name="one_role_per_course")]


class Submission(models.Model):
    """One upload and its grading job: queued -> grading (leased) -> graded."""

    QUEUED = "queued"
    GRADING = "grading"
    GRADED = "graded"
    LEARNER = 0  # lanes: learners' uploads go ahead of bulk regrades
    BULK = 1

    id = models.CharField(max_length=32, primary_key=True, default=new_id)
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="submissions")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="submissions")
    exercise = models.CharField(max_length=100)
    sha256 = models.CharField(max_length=64)
    suffix = models.CharField(max_length=10, help_text=".py or .ipynb; never the learner's name")
    size = models.IntegerField()
    idempotency_key = models.CharField(max_length=100)
    received_at = models.DateTimeField()
    lane = models.SmallIntegerField(default=LEARNER)
    state = models.CharField(max_length=10, default=QUEUED, db_index=True)
    tries = models.SmallIntegerField(default=0, help_text="grader faults retried so far")
    lease_owner = models.CharField(max_length=100, default="", blank=True)
    lease_until = models.DateTimeField(null=True)
    leased_at = models.DateTimeField(null=True)
    graded_at = models.DateTimeField(null=True)
    result = models.TextField(default="", blank=True, help_text="the --json contract")
    score = models.FloatField(null=True)
    counts = models.BooleanField(default=False, help_text="an attempt (not a grader fault)")
    grader_version = models.CharField(max_length=50, default="", blank=True)
    course_digest = models.CharField(max_length=64, default="", blank=True)
    # The console's facts of a graded result, as columns (grader/server/facts.py
    # keeps them; the grid and the grade tables read them instead of the result).
    facts_at = models.DateTimeField(null=True, help_text="the graded_at the facts are of")
    max_score = models.FloatField(null=True)
    error_kind = models.CharField(max_length=20, default="", blank=True)
    latest = models.BooleanField(default=False, help_text="the newest counted attempt")
    top = models.BooleanField(default=False, help_text="the best counted attempt (newest tie)")
    attempts = models.IntegerField(default=0, help_text="on the latest: counted attempts")
    best = models.FloatField(null=True, help_text="on the latest: the best score")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["learner", "idempotency_key"],
                                               name="one_submission_per_key")]
        indexes = [models.Index(fields=["state", "lane", "received_at"], name="queue_order")]


class Event(models.Model):
    """One line of the ledger: what happened to a submission, who did it, when and why."""

    at = models.DateTimeField()
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="events")
    submission = models.ForeignKey(Submission, null=True, on_delete=models.CASCADE,
                                   related_name="events")
    actor = models.CharField(max_length=200)
    kind = models.CharField(max_length=30)
    why = models.TextField(default="", blank=True)


# The TA's console (docs/console.md): its records, each with who and when. Adjustments
# and extensions become the batch's Override and Extension rows (grader.server.review).


class Adjustment(models.Model):
    """A TA's points for one learner's exercise, or one check of it: an overrides.csv line."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="adjustments")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="adjustments")
    exercise = models.CharField(max_length=100)
    check = models.CharField(max_length=300, default="", blank=True)
    points = models.FloatField()
    reason = models.TextField()
    by = models.CharField(max_length=200)
    at = models.DateTimeField()


class Extension(models.Model):
    """A new deadline for one learner (and exercise): an extensions.csv line."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="extensions")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="extensions")
    exercise = models.CharField(max_length=100, default="", blank=True)
    deadline = models.DateTimeField()
    reason = models.TextField(default="", blank=True)
    by = models.CharField(max_length=200)
    at = models.DateTimeField()


class Publication(models.Model):
    """An exercise whose hidden checks and final grades learners may now see."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="publications")
    exercise = models.CharField(max_length=100)
    by = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "exercise"],
                                               name="one_publication_per_exercise")]


class RubricItem(models.Model):
    """A rubric line of an exercise: points added (or, negative, taken) when a grader
    marks it; picked with its digit key on a learner's page."""

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="rubric")
    exercise = models.CharField(max_length=100)
    key = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=300)
    points = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["course", "exercise", "key"],
                                               name="one_rubric_item_per_key")]


class RubricMark(models.Model):
    """A rubric item marked on one learner's exercise, by whom and when."""

    item = models.ForeignKey(RubricItem, on_delete=models.CASCADE, related_name="marks")
    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="marks")
    by = models.CharField(max_length=200)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["item", "learner"],
                                               name="one_mark_per_item")]


class RegradeRequest(models.Model):
    """A learner's request to look again at one check of a submission: a thread of
    messages (learner and staff), open until the staff close it."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE,
                                   related_name="regrades")
    check = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    closed_by = models.CharField(max_length=200, default="", blank=True)


class RegradeMessage(models.Model):
    """One message of a regrade request's thread."""

    request = models.ForeignKey(RegradeRequest, on_delete=models.CASCADE,
                                related_name="messages")
    author = models.CharField(max_length=200, help_text="the learner's id, or a staff name")
    staff = models.BooleanField(default=False)
    text = models.TextField()
    at = models.DateTimeField()
