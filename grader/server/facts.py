"""The facts the console reads of graded results, kept as columns of their submissions:
each result's points and kind of failure, and per learner and exercise the newest
attempt (with the attempts and best score) and the best one. Brought up to date before
a read from the rows graded since the last (a few), so no read parses the class."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from grader.server.models import Course, Submission

# A result committed this long after its graded_at stamp (a transaction held that
# long) would be missed by a sync that had already passed it; none is held for minutes.
SLACK = timedelta(minutes=10)
CHUNK = 500  # ids per UPDATE ... IN (...), well under SQLite's variable limit


def _parsed(text: str) -> tuple[float | None, str]:
    """A stored result's max_score and error_kind (its top-level keys only)."""
    try:
        found = json.loads(text)
        return float(found["max_score"]), str(found.get("error_kind") or "")
    except (ValueError, KeyError, TypeError):
        return None, ""


def _chunks(ids: list[Any]) -> Iterable[list[Any]]:
    return (ids[at:at + CHUNK] for at in range(0, len(ids), CHUNK))


def sync(course: Course, model: Any = None) -> int:
    """Bring `course`'s facts up to date; returns how many results were read. Only rows
    graded since shortly before the newest fact are looked at (an index range), so an
    up-to-date class costs two small index reads. `model`: the Submission model (a
    migration passes its historical one)."""
    table = model or Submission
    synced = (table.objects.filter(course=course, facts_at__isnull=False)
              .order_by("-facts_at").values_list("facts_at", flat=True).first())
    stale = table.objects.filter(course=course, state=Submission.GRADED)
    if synced is not None:
        stale = stale.filter(graded_at__gte=synced - SLACK)
    rows = list(stale.filter(Q(facts_at__isnull=True) | ~Q(facts_at=F("graded_at")))
                .values_list("id", "learner_id", "graded_at"))
    if not rows:
        return 0
    chosen = _store_choices(table, course, {learner for _, learner, _ in rows})
    _store_results(table, chosen)
    # Only rows graded no later than what was read: one regraded meanwhile stays stale
    # for the next sync instead of keeping the old result's facts.
    newest = max(at for _, _, at in rows)
    for part in _chunks([ident for ident, _, _ in rows]):
        table.objects.filter(id__in=part, graded_at__lte=newest).update(
            facts_at=F("graded_at"))
    return len(rows)


def _store_results(table: Any, ids: list[str]) -> None:
    """The points and kind of failure of the attempts `ids` (only the newest and best
    of each learner and exercise are ever read)."""
    groups: dict[tuple[float | None, str], list[str]] = {}
    for part in _chunks(ids):
        for ident, text in table.objects.filter(id__in=part).values_list("id", "result"):
            groups.setdefault(_parsed(text), []).append(ident)
    with transaction.atomic():
        for (points, kind), found in groups.items():
            for part in _chunks(found):
                table.objects.filter(id__in=part).update(max_score=points,
                                                              error_kind=kind)


def _store_choices(table: Any, course: Course, learners: set[int]) -> list[str]:
    """Each (learner, exercise) of `learners`: which attempt is the newest and which the
    best, in the order `grade serve export` has always used (received, then id).
    Returns those attempts' ids."""
    chosen: list[str] = []
    for part in _chunks(sorted(learners)):
        # counts: graded, not a fault (one queued again for a regrade keeps its place)
        jobs = (table.objects.filter(course=course, learner_id__in=part, counts=True)
                .order_by("received_at", "id").values_list("id", "learner_id", "exercise",
                                                            "score"))
        newest: dict[tuple[int, str], str] = {}
        top: dict[tuple[int, str], tuple[float, str]] = {}
        attempts: dict[tuple[int, str], int] = {}
        for ident, learner, exercise, score in jobs:
            pair, points = (learner, exercise), score or 0.0
            newest[pair] = ident
            attempts[pair] = attempts.get(pair, 0) + 1
            if pair not in top or points >= top[pair][0]:  # a tie: the newer counts
                top[pair] = (points, ident)
        summary: dict[tuple[int, float], list[str]] = {}
        for pair, ident in newest.items():
            summary.setdefault((attempts[pair], top[pair][0]), []).append(ident)
        with transaction.atomic():
            table.objects.filter(course=course, learner_id__in=part).filter(
                Q(latest=True) | Q(top=True)).update(latest=False, top=False, attempts=0,
                                                     best=None)
            for ids in _chunks([ident for _, ident in top.values()]):
                table.objects.filter(id__in=ids).update(top=True)
            for (count, best), ids in summary.items():
                for chunk in _chunks(ids):
                    table.objects.filter(id__in=chunk).update(latest=True, attempts=count,
                                                                   best=best)
        chosen += [*newest.values(), *(ident for _, ident in top.values())]
    return sorted(set(chosen))

