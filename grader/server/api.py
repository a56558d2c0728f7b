"""The HTTP API under /api/v1/ (bearer tokens, JSON), /healthz and the OpenAPI document."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from grader.server import queue, reads, store, waiting
from grader.server.accounts import learner_of
from grader.server.models import Learner, Submission
from grader.server.openapi import OPENAPI
from grader.server.ratelimit import RATE, limiter
from grader.server.settings import MAX_UPLOAD_BYTES
from grader.server.views import course_of, describe

SUFFIXES = (".py", ".ipynb")


def problem(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def caller(request: HttpRequest) -> Learner | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return learner_of(token.strip()) if scheme.lower() == "bearer" else None


def workers() -> int:
    return int(getattr(settings, "GRADE_WORKERS", 1))


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    queued = Submission.objects.filter(state=Submission.QUEUED).count()
    return JsonResponse({"ok": True, "queued": queued})


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(OPENAPI)


@csrf_exempt  # bearer tokens, never cookies: no cross-site request can carry one
def submissions(request: HttpRequest) -> HttpResponse:
    learner = caller(request)
    if learner is None:
        return problem(401, "no valid token: run grade login URL --token TOKEN")
    if request.method == "GET":
        jobs = learner.submissions.select_related("course").order_by("received_at", "id")
        exercise = request.GET.get("exercise")
        if exercise:
            jobs = jobs.filter(exercise=exercise)
        return JsonResponse({"submissions": [describe(j, workers()) for j in jobs]})
    if request.method == "POST":
        return _upload(request, learner)
    return problem(405, "GET or POST")


def _upload(request: HttpRequest, learner: Learner) -> JsonResponse:
    if len(request.body) > MAX_UPLOAD_BYTES * 2:
        return problem(413, f"the upload is over {MAX_UPLOAD_BYTES >> 10} KB")
    try:
        body: Any = json.loads(request.body)
        exercise, key = str(body["exercise"]), str(body["idempotency_key"])[:100]
        suffix = Path(str(body.get("filename", "x.py"))).suffix.lower()
        content = base64.b64decode(str(body["content"]), validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        return problem(400, "expected JSON: exercise, idempotency_key, filename, content "
                            "(base64)")
    if course_of(learner.course.root).exercise(exercise) is None:
        return problem(404, f"{learner.course.slug} has no exercise {exercise!r}")
    if suffix not in SUFFIXES:
        return problem(400, "only .py files and .ipynb notebooks are graded")
    if len(content) > MAX_UPLOAD_BYTES:
        return problem(413, f"the file is over {MAX_UPLOAD_BYTES >> 10} KB")
    # a retry of an upload already stored (same key) is answered, whatever the rate
    if not limiter.admit(learner) and not learner.submissions.filter(
            idempotency_key=key).exists():
        return problem(429, f"more than {RATE} uploads in a minute: wait a little")
    sha = store.put(Path(settings.GRADE_DATA), content)  # on disk before the row commits
    job, new = queue.enqueue(queue.Upload(learner, exercise, sha, suffix, len(content), key))
    # ?wait=S: the upload, committed, also waits for its verdict (a long poll), so a
    # learner's submission is usually one request, not an upload and then a look
    wait = waiting.asked(request.GET.get("wait"))
    if wait:
        job = _awaited(learner, job.id, wait) or job
    return JsonResponse(describe(job, workers()), status=201 if new else 200)


@require_GET
def submission(request: HttpRequest, ident: str) -> JsonResponse:
    """One of the caller's submissions; `?wait=S`: once it is graded, or after S seconds
    (a long poll: grader.server.waiting)."""
    learner = caller(request)
    if learner is None:
        return problem(401, "no valid token: run grade login URL --token TOKEN")
    job = _awaited(learner, ident, waiting.asked(request.GET.get("wait")))
    if job is None:
        return problem(404, "no such submission of yours")
    return JsonResponse(describe(job, workers()))


def _awaited(learner: Learner, ident: str, wait: float) -> Submission | None:
    """The learner's submission `ident` once graded, or as it is after `wait` seconds
    (or at once, if no waiting slot is free); None if it is none of theirs."""
    # watched before the first look: a verdict stored between the two is not missed
    with waiting.verdicts.watch(ident) if wait else contextlib.nullcontext() as stored:
        job = _own(learner, ident)
        until = time.monotonic() + wait
        while job is not None and job.state != Submission.GRADED and stored is not None:
            if not stored.wait(until - time.monotonic()) or waiting.verdicts.closed:
                break
            stored.clear()
            job = _own(learner, ident)
    return job


def _own(learner: Learner, ident: str) -> Submission | None:
    # another learner's id is "not found", exactly like an id that does not exist
    return reads.own(learner.id, ident)
