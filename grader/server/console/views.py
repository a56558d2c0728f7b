"""The console's pages: the grid, a learner's page, adjustments, extensions,
publication, insight and exports. Every state change is a POST with Django's CSRF
token and a ledger event (who, when, why)."""

from __future__ import annotations

from pathlib import Path

from django import forms
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grader.reports.charts import distribution_chart
from grader.reports.classstats import exercise_summaries
from grader.reports.export import EXPORTS
from grader.reports.reteach import check_failures, exercise_attempts
from grader.server.accounts import add_staff
from grader.server.console import exports, grid, similar, student
from grader.server.console.access import STAFF, staff
from grader.server.console.forms import (
    AdjustForm,
    ExtendForm,
    PublishForm,
    RubricForm,
    StaffForm,
)
from grader.server.export import class_result
from grader.server.models import (
    Adjustment,
    Course,
    Event,
    Extension,
    Learner,
    Publication,
    Role,
    RubricItem,
    RubricMark,
    Submission,
)
from grader.server.views import course_of

STATIC = Path(__file__).parent / "static"
TYPES = {".js": "text/javascript", ".css": "text/css"}
INSTRUCTOR = (Role.INSTRUCTOR,)
PAGE = 100  # learners a grid page shows (a class of 3,000 is 30 pages; filter first)
STAFF_KINDS = ("adjusted", "extended", "published", "staff", "rubric", "marked", "unmarked",
               "regrade-asked", "regrade-reply", "regrade-closed")


@require_GET
def static(request: HttpRequest, name: str) -> HttpResponse:
    path = STATIC / name
    if path.suffix not in TYPES or path.name != name or not path.is_file():
        raise Http404(name)
    return HttpResponse(path.read_bytes(), content_type=TYPES[path.suffix])


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return HttpResponseRedirect("/login/?next=/console/")
    roles = Role.objects.filter(user=request.user).select_related("course").order_by(
        "course__slug")
    if len(roles) == 1:
        return HttpResponseRedirect(f"/console/{roles[0].course.slug}/")
    return render(request, "console/index.html", {"roles": roles})


def _context(request: HttpRequest, course: Course, **extra: object) -> dict[str, object]:
    model = course_of(course.root)
    published = set(Publication.objects.filter(course=course).values_list("exercise", flat=True))
    return {"course": course, "role": getattr(request, "role", ""),
            "exercises": [e.id for e in model.exercises], "published": published,
            "blind": request.session.get("blind", False), **extra}


def _page(request: HttpRequest, course: Course) -> grid.Page:
    """The page of the grid the request asks for (filters and page number)."""
    state = request.GET.get("state", "")
    try:
        number = int(request.GET.get("page", "1"))
    except ValueError:
        number = 1
    return grid.grid(course, request.GET.get("section", ""),
                     state if state in grid.STATES else "", number, PAGE)


@require_GET
@staff(*STAFF)
def class_grid(request: HttpRequest, course: Course) -> HttpResponse:
    page = _page(request, course)
    blind = bool(request.session.get("blind", False))
    shown = [grid.row_html(r, course.slug, page.exercises, blind) for r in page.rows]
    return render(request, "console/grid.html", _context(
        request, course, shown=shown, total=page.total, page=page.number, pages=page.pages,
        columns=page.exercises,
        sections=grid.sections(course), states=grid.STATES,
        section=request.GET.get("section", ""), state=request.GET.get("state", "")))


@require_GET
@staff(*STAFF)
def grid_json(request: HttpRequest, course: Course) -> JsonResponse:
    """This page of the grid's cells, for live updates (the page polls this)."""
    page = _page(request, course)
    return JsonResponse({"exercises": page.exercises, "total": page.total,
                         "page": page.number, "pages": page.pages,
                         "rows": [{"learner": r.learner.id,
                                   "cells": {e: r.cells[e].json() for e in page.exercises}}
                                  for r in page.rows]})


def _learner(course: Course, ident: int) -> Learner:
    return get_object_or_404(Learner, course=course, id=ident)


@require_GET
@staff(*STAFF)
def learner_page(request: HttpRequest, course: Course, ident: int) -> HttpResponse:
    learner = _learner(course, ident)
    model = course_of(course.root)
    exercise = request.GET.get("exercise") or model.exercises[0].id
    if model.exercise(exercise) is None:
        raise Http404("no such exercise")
    items = list(RubricItem.objects.filter(course=course, exercise=exercise).order_by("key"))
    marked = set(RubricMark.objects.filter(learner=learner, item__in=items)
                 .values_list("item_id", flat=True))
    return render(request, "console/student.html", _context(
        request, course, learner=learner, exercise=exercise,
        attempts=student.attempts(learner, exercise),
        after=_next(course, learner, exercise),
        items=[(item, item.id in marked) for item in items],
        adjustments=learner.adjustments.order_by("-at"),
        extensions=learner.extensions.order_by("-at"),
        adjust_form=AdjustForm(initial={"exercise": exercise}),
        extend_form=ExtendForm(initial={"exercise": exercise})))


def _refused(what: str, form: forms.Form) -> HttpResponse:
    return HttpResponseBadRequest(f"{what}: {form.errors.as_text() or 'no such exercise'}")


def _next(course: Course, learner: Learner, exercise: str) -> Learner | None:
    """The next learner in the grid's order (section, then id) with an attempt at
    `exercise`: review goes through the class in the same order every time."""
    later = Q(section__gt=learner.section) | Q(section=learner.section,
                                                student__gt=learner.student)
    tried = Submission.objects.filter(learner=OuterRef("pk"), exercise=exercise)
    return (course.learners.filter(later).filter(Exists(tried))
            .order_by("section", "student").first())


def _actor(request: HttpRequest) -> str:
    return str(request.user.get_username())


def _back(course: Course, learner: Learner, exercise: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"/console/{course.slug}/learner/{learner.id}/"
                                f"?exercise={exercise}")


@require_POST
@staff(*STAFF)
def adjust(request: HttpRequest, course: Course, ident: int) -> HttpResponse:
    learner = _learner(course, ident)
    form = AdjustForm(request.POST)
    if not form.is_valid() or course_of(course.root).exercise(
            form.cleaned_data["exercise"]) is None:
        return _refused("not adjusted", form)
    data, now = form.cleaned_data, timezone.now()
    with transaction.atomic():
        Adjustment.objects.create(course=course, learner=learner, exercise=data["exercise"],
                                  check=data["check"], points=data["points"],
                                  reason=data["reason"], by=_actor(request), at=now)
        Event.objects.create(at=now, course=course, actor=_actor(request), kind="adjusted",
                             why=f"{learner.student} {data['exercise']} "
                                 f"{data['check'] or '(exercise)'} -> {data['points']:g}: "
                                 f"{data['reason']}")
    return _back(course, learner, data["exercise"])


@require_POST
@staff(*STAFF)
def extend(request: HttpRequest, course: Course, ident: int) -> HttpResponse:
    learner = _learner(course, ident)
    form = ExtendForm(request.POST)
    exercise = form.data.get("exercise", "")
    if not form.is_valid() or (exercise and course_of(course.root).exercise(exercise) is None):
        return _refused("not extended", form)
    data, now = form.cleaned_data, timezone.now()
    with transaction.atomic():
        Extension.objects.create(course=course, learner=learner, exercise=data["exercise"],
                                 deadline=data["deadline"], reason=data["reason"],
                                 by=_actor(request), at=now)
        Event.objects.create(at=now, course=course, actor=_actor(request), kind="extended",
                             why=f"{learner.student} {data['exercise'] or '(every exercise)'} "
                                 f"to {data['deadline'].isoformat()}: {data['reason']}")
    return _back(course, learner, data["exercise"] or course_of(course.root).exercises[0].id)


@require_POST
@staff(*STAFF)
def mark(request: HttpRequest, course: Course, ident: int) -> HttpResponse:
    """Mark (or unmark) a rubric item on a learner's exercise."""
    learner = _learner(course, ident)
    given = str(request.POST.get("item", ""))
    item = get_object_or_404(RubricItem, course=course, id=int(given) if given.isdigit() else 0)
    now = timezone.now()
    with transaction.atomic():
        found = RubricMark.objects.filter(item=item, learner=learner).first()
        if found:
            found.delete()
        else:
            RubricMark.objects.create(item=item, learner=learner, by=_actor(request), at=now)
        Event.objects.create(at=now, course=course, actor=_actor(request),
                             kind="unmarked" if found else "marked",
                             why=f"{learner.student} {item.exercise}: {item.label} "
                                 f"({item.points:+g})")
    return _back(course, learner, item.exercise)


@staff(*STAFF)
def rubric(request: HttpRequest, course: Course, exercise: str) -> HttpResponse:
    """An exercise's rubric; a changed item applies to every submission marked with it."""
    if course_of(course.root).exercise(exercise) is None:
        raise Http404("no such exercise")
    form = RubricForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _refused("not saved", form)
        data, now = form.cleaned_data, timezone.now()
        with transaction.atomic():
            RubricItem.objects.update_or_create(
                course=course, exercise=exercise, key=data["key"],
                defaults={"label": data["label"], "points": data["points"]})
            Event.objects.create(at=now, course=course, actor=_actor(request), kind="rubric",
                                 why=f"{exercise} [{data['key']}] {data['label']} "
                                     f"({data['points']:+g})")
        return HttpResponseRedirect(f"/console/{course.slug}/rubric/{exercise}/")
    items = RubricItem.objects.filter(course=course, exercise=exercise).order_by("key")
    return render(request, "console/rubric.html", _context(
        request, course, exercise=exercise, items=items, form=form))


@require_POST
@staff(*INSTRUCTOR)
def publish(request: HttpRequest, course: Course) -> HttpResponse:
    form = PublishForm(request.POST)
    if not form.is_valid() or course_of(course.root).exercise(
            form.cleaned_data["exercise"]) is None:
        return HttpResponseBadRequest("not published: no such exercise")
    exercise, now = form.cleaned_data["exercise"], timezone.now()
    with transaction.atomic():
        _, made = Publication.objects.get_or_create(
            course=course, exercise=exercise, defaults={"by": _actor(request), "at": now})
        if made:
            Event.objects.create(at=now, course=course, actor=_actor(request),
                                 kind="published",
                                 why=f"{exercise}: hidden checks and final grades")
    return HttpResponseRedirect(f"/console/{course.slug}/")


@require_POST
@staff(*STAFF)
def blind(request: HttpRequest, course: Course) -> HttpResponse:
    """Hide (or reveal) learners' names in this session's pages."""
    request.session["blind"] = not request.session.get("blind", False)
    return HttpResponseRedirect(request.POST.get("next", f"/console/{course.slug}/")
                                if str(request.POST.get("next", "")).startswith("/console/")
                                else f"/console/{course.slug}/")


@require_GET
@staff(*STAFF)
def insight(request: HttpRequest, course: Course) -> HttpResponse:
    result, _, _ = class_result(course)
    return render(request, "console/insight.html", _context(
        request, course, failures=check_failures(result)[:20],
        attempts=exercise_attempts(result),
        chart=distribution_chart(exercise_summaries(result))))


SINGLE = {e.files: "text/html" if e.files.endswith(".html") else
          "application/json" if e.files.endswith(".json") else "text/csv"
          for e in EXPORTS if "*" not in e.files}  # one file each: served one at a time


def _building(request: HttpRequest, course: Course) -> HttpResponse:
    """202: the zip of the current data is being built (never the last one instead)."""
    response = render(request, "console/exports.html", _context(
        request, course, ready=False, tables=exports.TABLES, single=sorted(SINGLE),
        failed=exports.failed.get(course.id, "")))
    response.status_code = 202
    response["Retry-After"] = "5"
    return response


@require_GET
@staff(*STAFF)
def export_zip(request: HttpRequest, course: Course) -> HttpResponse:
    """Everything `grade batch` writes, as one zip of the data as it is now: built in the
    background when the data changed (202 and a page saying so until it is ready)."""
    path = exports.current(course, Path(settings.GRADE_DATA))
    if path is None:
        return _building(request, course)
    return FileResponse(path.open("rb"), as_attachment=True,
                        filename=f"{course.slug}-grades.zip", content_type="application/zip")


@require_GET
@staff(*STAFF)
def export_file(request: HttpRequest, course: Course, name: str) -> HttpResponse:
    """One export file: the grade tables rendered now from the database, the others
    read from the current zip (202 while it is being rebuilt)."""
    if name not in SINGLE:
        raise Http404("no such export")
    if name in exports.TABLES:
        blob = exports.table(course, name).encode()
    else:
        path = exports.current(course, Path(settings.GRADE_DATA))
        if path is None:
            return _building(request, course)
        blob = exports.member(path, name) or b""
    response = HttpResponse(blob, content_type=f"{SINGLE[name]}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{course.slug}-{name}"'
    return response


@require_GET
@staff(*STAFF)
def exports_page(request: HttpRequest, course: Course) -> HttpResponse:
    """The exports: the grade tables (always current) and the zip's state."""
    ready = exports.current(course, Path(settings.GRADE_DATA)) is not None
    return render(request, "console/exports.html", _context(
        request, course, ready=ready, tables=exports.TABLES, single=sorted(SINGLE),
        failed=exports.failed.get(course.id, "")))


@staff(*STAFF)
def similarity(request: HttpRequest, course: Course, exercise: str) -> HttpResponse:
    """The exercise's most similar pairs of counted submissions, compared on demand (a
    POST: the comparison takes a while for a large class)."""
    if course_of(course.root).exercise(exercise) is None:
        raise Http404("no such exercise")
    extra: dict[str, object] = {}
    if request.method == "POST":
        try:
            report = similar.compare(course, exercise, Path(settings.GRADE_DATA))
        except similar.SimilarityUnavailable as error:
            extra["problem"] = f"Similarity cannot run here: {error}"
        else:
            blind = request.session.get("blind", False)
            ids = dict(course.learners.values_list("student", "id")) if blind else {}

            def who(student: str) -> str:
                return f"learner {ids.get(student, '?')}" if blind else student

            found, threshold = report["exercises"][0], report["threshold"]
            pairs = [(p, max(p["a"]["similarity"], p["b"]["similarity"]))
                     for p in found["pairs"]]
            extra.update(result=found, threshold=threshold, pairs=[
                {"a": who(p["a"]["student"]), "b": who(p["b"]["student"]),
                 "similarity": top, "overlap": p["overlap"], "flagged": top >= threshold}
                for p, top in pairs])
    elif request.method != "GET":
        return HttpResponseBadRequest("GET or POST")
    return render(request, "console/similarity.html", _context(
        request, course, exercise=exercise, **extra))


@require_GET
@staff(*STAFF)
def changes(request: HttpRequest, course: Course) -> HttpResponse:
    """What moved between the last two zips, as `grade batch` reports a regrade."""
    rows, text = exports.changes(course, Path(settings.GRADE_DATA))
    return render(request, "console/changes.html", _context(
        request, course, header=rows[0] if rows else [], rows=rows[1:], markdown=text))


@require_GET
@staff(*STAFF)
def ledger(request: HttpRequest, course: Course) -> HttpResponse:
    events = Event.objects.filter(course=course, kind__in=STAFF_KINDS).order_by(
        "-at")[:300]
    return render(request, "console/ledger.html", _context(request, course, events=events))


@staff(*INSTRUCTOR)
def staff_accounts(request: HttpRequest, course: Course) -> HttpResponse:
    form = StaffForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return HttpResponseBadRequest(f"not added: {form.errors.as_text()}")
        data = form.cleaned_data
        add_staff(course, data["username"], data["role"], data["password"])
        Event.objects.create(at=timezone.now(), course=course, actor=_actor(request),
                             kind="staff", why=f"{data['username']} as {data['role']}")
        return HttpResponseRedirect(f"/console/{course.slug}/staff/")
    roles = Role.objects.filter(course=course).select_related("user").order_by("user__username")
    return render(request, "console/staff.html", _context(request, course, roles=roles,
                                                          form=form))
