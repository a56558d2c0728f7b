"""The one table of rlimits every box gets: the Linux zygote's boxes and portable boxes."""

from __future__ import annotations

TYPE_CHECKING = False  # typing's own is an import: zygotes load typing for boxes that use it
if TYPE_CHECKING:  # the zygote imports this module: no types built at run time
    from grader.sandbox.channel import BoxLimits


def rlimit_table(limits: BoxLimits) -> list[tuple[str, int, int]]:
    """Each rlimit as (name in `resource`, soft, hard) for a box with `limits`."""
    memory = int(limits["memory_mb"]) * 1024 * 1024
    cpu = int(limits["cpu_seconds"])
    fsize = int(limits["file_size_kb"]) * 1024
    # RLIMIT_CPU's soft limit sends SIGXCPU, its hard one SIGKILL (client.stop_from_status).
    # RLIMIT_NPROC is counted per uid, checked at fork: 0 means "no new process or
    # thread" for any uid but real root (whom the kernel exempts, hence a separate uid).
    return [("RLIMIT_AS", memory, memory), ("RLIMIT_CPU", cpu, cpu + 1),
            ("RLIMIT_FSIZE", fsize, fsize), ("RLIMIT_NOFILE", 32, 32),
            ("RLIMIT_CORE", 0, 0), ("RLIMIT_NPROC", 0, 0)]


def set_rlimits(limits: BoxLimits, tolerant: bool = False) -> None:
    """Apply `rlimit_table(limits)` to this process, but those this OS lacks (Linux has
    all). `tolerant`: go on past a refusal (macOS refuses RLIMIT_AS above the current
    use, for one); else a refusal raises: never less boxed than promised."""
    import resource  # here, not at the top: importing this module must work on Windows

    for name, soft, hard in rlimit_table(limits):
        kind = getattr(resource, name, None)
        if kind is None:
            continue
        try:
            resource.setrlimit(kind, (soft, hard))
        except (ValueError, OSError):
            if not tolerant:
                raise
