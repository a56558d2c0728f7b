"""Running the server in the foreground: the WSGI application (waitress) and the grading
service, until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from grader.server.models import Course
from grader.server.stopping import Stop, raise_stop


def register(slug: str, root: Path) -> Course:
    """The course row for the course folder `root`, made or brought up to date."""
    from grader.server.views import course_of

    model = course_of(str(root))
    course, _ = Course.objects.update_or_create(
        slug=slug, defaults={"title": model.title, "root": str(root)})
    return course


@dataclass(frozen=True)
class Options:
    host: str
    port: int
    jobs: int
    dask: str | None
    lease: float = 30.0  # seconds a job stays leased without a heartbeat
    hard_limit: float = 300.0  # seconds after which a job in hand is given up and requeued
    threads: int = 64  # HTTP threads: uploads and polls are short, long polls wait
    quick: int = 8  # of them never held by a long poll: uploads are never stuck behind those


def serve(options: Options, courses: list[Course], data: Path,
          say: Callable[[str], None]) -> None:
    """Serve until a signal; grading threads stop first, then the HTTP server."""
    from django.core.wsgi import get_wsgi_application
    from waitress import create_server

    from grader.server import dbstats, waiting
    from grader.server.workers import Service

    settings.GRADE_WORKERS = options.jobs
    waiting.verdicts.slots = max(0, options.threads - options.quick)
    service = Service(data, options.jobs, options.dask, options.hard_limit, options.lease)
    server = create_server(get_wsgi_application(), host=options.host, port=options.port,
                           threads=options.threads, ident="grade")
    previous = {s: signal.signal(s, raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    counted = dbstats.start()  # before any thread opens a connection
    try:
        for course in courses:
            service.add(course.id, Path(course.root))
        service.start()
        host = getattr(server, "effective_host", options.host)
        port = getattr(server, "effective_port", options.port)
        say(f"grade serve: listening on http://{host}:{port}/ "
            f"({len(courses)} course{'s' * (len(courses) != 1)}, {options.jobs} grading "
            f"worker{'s' * (options.jobs != 1)}{' on ' + options.dask if options.dask else ''})")
        sys.stdout.flush()
        dbstats.reset()
        server.run()
    except Stop as why:
        say(f"grade serve: {why}: stopping (queued work is kept and graded after a restart)")
    finally:
        service.stop()
        # no look keeps its HTTP thread (and so the stop) waiting; one whose answer is
        # not written before the server closes is cut, and grade submit asks again
        waiting.verdicts.wake_all()
        server.close()
        dbstats.write(counted)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
