"""Regrade requests: a learner asks about one check of a submission (bearer token, the
API's way), a thread of messages follows, the staff answer and close it; each step is
in the ledger. Requests open until WINDOW after the exercise's publication."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from grader.results import ExerciseResult
from grader.server.api import caller, problem
from grader.server.console.access import STAFF, staff
from grader.server.models import (
    Course,
    Event,
    Learner,
    Publication,
    RegradeMessage,
    RegradeRequest,
)

WINDOW = timedelta(days=7)
MAX_TEXT = 4000


def _described(found: RegradeRequest) -> dict[str, Any]:
    return {"id": found.id, "submission": found.submission_id, "check": found.check,
            "exercise": found.submission.exercise, "opened_at": found.opened_at.isoformat(),
            "closed_at": found.closed_at.isoformat() if found.closed_at else None,
            "messages": [{"author": m.author, "staff": m.staff, "text": m.text,
                          "at": m.at.isoformat()} for m in found.messages.order_by("at", "id")]}


def _open(learner: Learner, exercise: str) -> bool:
    """Requests are taken until WINDOW after the exercise's publication."""
    published = Publication.objects.filter(course=learner.course, exercise=exercise).first()
    return published is None or timezone.now() <= published.at + WINDOW


def _text(request: HttpRequest) -> tuple[dict[str, Any], str] | None:
    try:
        body = json.loads(request.body)
        text = str(body["message"]).strip()[:MAX_TEXT]
    except (ValueError, KeyError, TypeError):
        return None
    return (body, text) if text else None


@csrf_exempt  # bearer tokens, never cookies (as the rest of the API)
def learner_requests(request: HttpRequest, ident: str = "") -> HttpResponse:
    """GET /api/v1/regrades: the caller's requests; POST /api/v1/submissions/ID/regrades
    {check, message}: a new request about one check of the caller's submission."""
    learner = caller(request)
    if learner is None:
        return problem(401, "no valid token: run grade login URL --token TOKEN")
    if request.method == "GET" and not ident:
        mine = RegradeRequest.objects.filter(submission__learner=learner).select_related(
            "submission").order_by("opened_at")
        return JsonResponse({"regrades": [_described(r) for r in mine]})
    if request.method != "POST" or not ident:
        return problem(405, "POST /api/v1/submissions/ID/regrades, or GET /api/v1/regrades")
    job = learner.submissions.filter(id=ident).first()
    if job is None or not job.result:
        return problem(404, "no such graded submission of yours")
    given = _text(request)
    if given is None:
        return problem(400, "expected JSON: check, message")
    body, text = given
    names = {c.name for c in ExerciseResult.model_validate_json(job.result).checks}
    if str(body.get("check", "")) not in names:
        return problem(400, "no check of that name in this submission")
    if not _open(learner, job.exercise):
        return problem(403, f"regrade requests closed {WINDOW.days} days after publication")
    now = timezone.now()
    with transaction.atomic():
        found = RegradeRequest.objects.create(submission=job, check=str(body["check"]),
                                              opened_at=now)
        RegradeMessage.objects.create(request=found, author=learner.student, text=text, at=now)
        Event.objects.create(at=now, course=learner.course, submission=job,
                             actor=learner.student, kind="regrade-asked",
                             why=f"{found.check}: {text}")
    return JsonResponse(_described(found), status=201)


@csrf_exempt
def learner_reply(request: HttpRequest, ident: int) -> HttpResponse:
    """POST /api/v1/regrades/ID/messages {message}: the learner adds to their open thread."""
    learner = caller(request)
    if learner is None:
        return problem(401, "no valid token: run grade login URL --token TOKEN")
    found = RegradeRequest.objects.filter(id=ident, submission__learner=learner).first()
    if found is None:
        return problem(404, "no such regrade request of yours")
    given = _text(request)
    if request.method != "POST" or given is None:
        return problem(400, "POST JSON: message")
    if found.closed_at is not None:
        return problem(403, "this request is closed")
    now = timezone.now()
    with transaction.atomic():
        RegradeMessage.objects.create(request=found, author=learner.student, text=given[1],
                                      at=now)
        Event.objects.create(at=now, course=learner.course, submission=found.submission,
                             actor=learner.student, kind="regrade-asked", why=given[1])
    return JsonResponse(_described(found))


@staff(*STAFF)
def staff_requests(request: HttpRequest, course: Course) -> HttpResponse:
    """The course's regrade requests, open first; the staff answer and close them."""
    if request.method == "POST":
        given = str(request.POST.get("request", ""))
        found = get_object_or_404(RegradeRequest, submission__course=course,
                                  id=int(given) if given.isdigit() else 0)
        text = str(request.POST.get("message", "")).strip()[:MAX_TEXT]
        close = request.POST.get("close") == "1"
        now, who = timezone.now(), str(request.user.get_username())
        with transaction.atomic():
            if text:
                RegradeMessage.objects.create(request=found, author=who, staff=True, text=text,
                                              at=now)
            if close and found.closed_at is None:
                found.closed_at, found.closed_by = now, who
                found.save(update_fields=["closed_at", "closed_by"])
            Event.objects.create(at=now, course=course, submission=found.submission,
                                 actor=who, kind="regrade-closed" if close else "regrade-reply",
                                 why=f"{found.check}: {text}")
        return HttpResponseRedirect(f"/console/{course.slug}/regrades/")
    found = (RegradeRequest.objects.filter(submission__course=course)
             .select_related("submission__learner").prefetch_related("messages")
             .order_by("-closed_at", "opened_at")[:200])
    return render(request, "console/regrades.html", {
        "course": course, "role": getattr(request, "role", ""), "requests": found,
        "blind": request.session.get("blind", False)})
