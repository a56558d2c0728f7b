"""The `grade` console script: answer `--version` at once, else run the click group.

Start-up is what a learner feels on every run, so this module imports nothing
heavy: click and the commands load only when a command needs them
(tests/test_imports.py pins what each command imports).
"""

from __future__ import annotations

import gc
import os
import sys

from grader.cli.exits import INTERRUPTED, USAGE_ERROR
from grader.version import __version__

TYPE_CHECKING = False  # typing's own is an import, before the zygote's launch (mypy knows)
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["INTERRUPTED", "USAGE_ERROR", "main", "run"]


def main() -> None:
    """The console script: `run`, and a learner's `grade exercise-N` ends without the
    interpreter's teardown (`leave`)."""
    try:
        run()
    except SystemExit as exc:
        if learners(sys.argv[1:]):
            leave(exc.code)
        raise


def learners(args: list[str]) -> bool:
    """Whether `args` are a learner's `grade EXERCISE ...` (not another command)."""
    if not args or args[0].startswith("-"):
        return False
    from grader.cli.commands import COMMANDS

    return args[0] not in COMMANDS


def leave(code: object) -> None:
    """Exit with `code` once stdout and stderr are flushed, skipping the interpreter's
    teardown: freeing a couple of hundred modules costs a learner's run 5-15 ms, after
    the report is out and the sandbox closed. Returns (and the exit goes the usual way)
    when `code` is not a status or a stream cannot be flushed (a closed pipe: Python
    then says so as always)."""
    if code is not None and not isinstance(code, int):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code or 0)


def run() -> None:
    """The command: never a grader traceback for a learner (GRADE_DEBUG=1 shows it)."""
    if sys.argv[1:] in (["--version"], ["-V"]):  # the one answer that needs no click
        print(f"grade, version {__version__}")
        sys.exit(0)
    try:
        launch_early(sys.argv[1:])
        command()
    except KeyboardInterrupt:  # Ctrl-C as the command began (command() says its own)
        print("\ninterrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    finally:
        launched = sys.modules.get("grader.sandbox.launch")
        if launched is not None:  # a zygote the command did not adopt is closed
            launched.discard()


def launch_early(args: list[str]) -> None:
    """A learner's file to grade, or a batch's workers: launch their zygotes now, to
    boot from here on (cli/early.py, batch/early.py). Only an optimisation: whatever
    goes wrong, the command starts its own sandboxes as it always did."""
    try:
        if "batch" in args[:3]:  # its workers' zygotes boot while the batch imports
            # No collector pass over the start-up's imports, from the first: `launch`
            # turns it on again if this is no batch it reads, else the fork does.
            gc.disable()
            from grader.batch.early import launch

            launch(args)
            return
        from grader.cli.early import launch_for

        launch_for(args)
    except Exception:
        gc.enable()
        if os.environ.get("GRADE_DEBUG"):
            raise


def command() -> None:
    """`run`, once the zygote may be booting: the skeleton's report, or the click group."""
    # grade uses no pydantic plugin; looking for them reads the metadata of every
    # installed distribution (20-30 ms) before the first validator is built.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    try:
        if learners(sys.argv[1:]):  # not for a command: `grade batch` need not import it
            from grader.cli.skeleton import skeleton_status

            # blanks left, or a copy to grade: answered without click
            status = skeleton_status(sys.argv[1:])
            if status is not None:
                sys.exit(status)
        import click

        from grader.cli.app import cli
        from grader.cli.terminal import colour, plain_streams
    except KeyboardInterrupt:  # Ctrl-C while starting: no traceback either
        print("\ninterrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except Exception as exc:
        unexpected(exc)
    plain_streams()
    try:
        cli(prog_name="grade", standalone_mode=False, color=colour())
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors: exit status 2
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("\ninterrupted", err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:
        unexpected(exc)


def unexpected(exc: Exception) -> NoReturn:
    """A bug in the grader, said as one (never a traceback; GRADE_DEBUG=1 shows it)."""
    if os.environ.get("GRADE_DEBUG"):
        raise exc
    print(f"error: grade failed unexpectedly ({type(exc).__name__}: {exc}). "
          "This is a bug in the grader, not in your work: please report it "
          "(GRADE_DEBUG=1 shows the details).", file=sys.stderr, flush=True)
    sys.exit(USAGE_ERROR)
