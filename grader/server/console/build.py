"""The process that builds one course's export zip (exports.current starts it), at low
priority: the server's threads keep the interpreter for requests while tens of seconds
of rendering run here.

    python -m grader.server.console.build  < {"data": ..., "db": ..., "course": ID}
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    os.nice(10)  # behind the server's own work
    given = json.loads(sys.stdin.read())
    from grader.server.settings import configure

    configure(Path(given["data"]), given["db"])
    from grader.server.console.exports import archive
    from grader.server.models import Course

    archive(Course.objects.get(id=given["course"]), Path(given["data"]))


if __name__ == "__main__":
    main()
