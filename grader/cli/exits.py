"""The exit statuses of `grade` besides pass and fail (a leaf module: no cycle via the script)."""

USAGE_ERROR = 2
INTERRUPTED = 130  # the shell's status for Ctrl-C
