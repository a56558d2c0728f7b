"""Accounts: learners from the batch's roster (one personal token each), staff with passwords."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import secrets
import time
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction

from grader.atomic import write_all_atomic
from grader.batch.roster import RosterRow
from grader.server import reads
from grader.server.models import Course, Event, Learner, Role


def token_hash(token: str) -> str:
    """What the database keeps of a token. A token is 256 random bits, so one SHA-256 is
    enough (nothing to guess from), and unlike a salted password hash it can be looked
    up; staff passwords, which people choose, use Django's password hashers instead."""
    return hashlib.sha256(token.encode()).hexdigest()


_KNOWN: dict[str, tuple[float, Learner]] = {}  # token hash -> (when looked up, learner)
KNOWN_FOR = 10.0  # seconds a looked-up token is trusted without asking the database


def learner_of(token: str) -> Learner | None:
    """The learner whose token this is. Every poll of a waiting learner asks, so a known
    token is remembered for KNOWN_FOR seconds (tokens are never taken back; a roster
    update shows after that); an unknown one is asked every time."""
    if not token:
        return None
    key = token_hash(token)
    known = _KNOWN.get(key)
    if known is not None and time.monotonic() - known[0] < KNOWN_FOR:
        return known[1]
    learner = reads.learner(key)
    if learner is not None:
        if len(_KNOWN) > 100_000:  # a bound, never reached by a real roster's tokens
            _KNOWN.clear()
        _KNOWN[key] = (time.monotonic(), learner)
    return learner


def load_roster(course: Course, rows: list[RosterRow], tokens: Path) -> tuple[int, int]:
    """Create or update `course`'s learners from `rows`; a new learner gets a token, and
    `tokens` (student,token, mode 0600) lists every token made now. (created, updated)."""
    made: list[tuple[str, str]] = []
    updated = 0
    with transaction.atomic():
        for row in rows:
            fields = {"name": row.name, "email": row.email, "sis_id": row.sis_id,
                      "sis_login": row.sis_login, "section": row.section}
            count = Learner.objects.filter(course=course, student=row.id).update(**fields)
            if count:
                updated += 1
                continue
            token = secrets.token_urlsafe(32)
            Learner.objects.create(course=course, student=row.id, token_hash=token_hash(token),
                                   **fields)
            made.append((row.id, token))
    _write_tokens(tokens, made)
    return len(made), updated


def _write_tokens(path: Path, made: list[tuple[str, str]]) -> None:
    """Add the new tokens to `path` (kept: earlier runs' tokens exist only there)."""
    old = path.read_text(encoding="utf-8") if path.exists() else "student,token\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for student, token in made:
        writer.writerow([student, token])
    write_all_atomic([(path, old + out.getvalue())])
    os.chmod(path, 0o600)


def add_staff(course: Course, name: str, role: str, password: str) -> bool:
    """Create or update staff account `name` (Django's password hashing) with `role` in
    `course`; True if the account is new."""
    with transaction.atomic():
        user, created = User.objects.get_or_create(username=name)
        user.set_password(password)
        user.is_staff = True
        user.save()
        Role.objects.update_or_create(course=course, user=user, defaults={"role": role})
    return created


def publish_hidden(course: Course, by: str) -> None:
    """Let learners see their hidden checks from now on; the ledger says who and when."""
    from django.utils import timezone

    with transaction.atomic():
        course.hidden_published = True
        course.save(update_fields=["hidden_published"])
        Event.objects.create(at=timezone.now(), course=course, actor=by, kind="published",
                             why="hidden checks published to learners")
