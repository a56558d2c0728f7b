"""Django's settings for one `grade serve` data folder: SQLite (WAL) there, or --db URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

MAX_UPLOAD_BYTES = 1 << 20  # a learner's file; the course's own max_source_kb applies after


class DatabaseUrlError(ValueError):
    """--db names no database this server can use."""


def database(data: Path, url: str | None) -> dict[str, Any]:
    """Django's DATABASES entry: SQLite in `data` by default, else PostgreSQL from `url`."""
    if url is None:
        # WAL: readers never wait for the writer; IMMEDIATE: a transaction takes the write
        # lock when it begins, so two leases never race to upgrade a read lock (deadlock).
        # CONN_MAX_AGE None: each HTTP and grading thread keeps its connection (opening one
        # and setting its pragmas per request cost more than the request's queries).
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data / "grade.sqlite3"),
                "CONN_MAX_AGE": None,
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
                            "transaction_mode": "IMMEDIATE", "timeout": 30}}
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise DatabaseUrlError(f"--db {url!r}: only postgresql://USER:PASSWORD@HOST:PORT/NAME "
                               "is supported (the default is SQLite in --data)")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"),
            "USER": unquote(parts.username or ""), "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "", "PORT": str(parts.port or ""), "CONN_MAX_AGE": 60}


def secret_key(data: Path) -> str:
    """This server's session-signing key, made once by Django and kept in `data` (0600)."""
    from django.core.management.utils import get_random_secret_key

    path = data / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(get_random_secret_key())
    return path.read_text().strip()


def configure(data: Path, db_url: str | None) -> None:
    """Configure and set up Django for the data folder `data` (made if missing)."""
    import django
    from django.conf import settings

    if settings.configured:
        return
    data.mkdir(parents=True, exist_ok=True)
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secret_key(data),
        ALLOWED_HOSTS=["*"],  # behind a reverse proxy the proxy decides which names it serves
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes",
                        "django.contrib.sessions", "grader.server.apps.ServerConfig"],
        MIDDLEWARE=["django.middleware.security.SecurityMiddleware",
                    "django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.middleware.clickjacking.XFrameOptionsMiddleware",
                    "grader.server.outage.Unavailable"],
        ROOT_URLCONF="grader.server.urls",
        DATABASES={"default": database(data, db_url)},
        DATA_UPLOAD_MAX_MEMORY_SIZE=MAX_UPLOAD_BYTES * 2,
        FILE_UPLOAD_MAX_MEMORY_SIZE=MAX_UPLOAD_BYTES * 2,
        USE_TZ=True, TIME_ZONE="UTC",
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        # Behind the reverse proxy of docs/server.md, which terminates TLS and always sets
        # this header: Django then knows the request was https (CSRF's origin check).
        SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
        GRADE_DATA=str(data),
        # the TA's console (docs/console.md): its templates, Django's sign-in form
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "DIRS": [str(Path(__file__).parent / "console" / "templates")],
                    "OPTIONS": {"context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth"]}}],
        LOGIN_URL="/login/", LOGIN_REDIRECT_URL="/console/",
        LOGGING_CONFIG=None,
    )
    django.setup()


def migrate() -> None:
    """Apply every migration not applied yet (the schema is never changed by hand)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
