"""The database's outages: said once as each begins and once as it ends, and answered 503."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

RETRY_AFTER = 30  # seconds a client is told to wait (`grade submit` retries by itself)


class Outage:
    """Whether the database is down, as the server's threads find it. Each retries at
    its own pace (the dispatcher and the heartbeat every beat, every request): a line
    each time would bury the console of a TA whose database restarts for a minute."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down = False

    def began(self, error: Exception) -> None:
        with self._lock:
            first, self._down = not self._down, True
        if first:
            print(f"grade serve: the database stopped answering ({type(error).__name__}: "
                  f"{error}); no lease is renewed and nothing is stored until it answers "
                  "again; trying again", file=sys.stderr)

    def over(self) -> None:
        with self._lock:
            was, self._down = self._down, False
        if was:
            print("grade serve: the database answers again", file=sys.stderr)


DATABASE = Outage()


class Unavailable:
    """Middleware: a request that finds the database down is answered 503 with a
    sentence (JSON under /api/), not a 500 and a traceback on the console."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception
                          ) -> HttpResponse | None:
        # The connection, not the query: an IntegrityError is a bug to see, and stays a
        # 500 with its traceback.
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        DATABASE.began(exception)
        message = ("the course server cannot reach its database right now; nothing was "
                   "stored: try again in a minute")
        headers = {"Retry-After": str(RETRY_AFTER)}
        if request.path.startswith("/api/"):
            return JsonResponse({"error": message}, status=503, headers=headers)
        return HttpResponse(message, status=503, content_type="text/plain; charset=utf-8",
                            headers=headers)
