"""Errors a user can cause: one clear line, a distinct exit code, never a traceback."""


class P20Error(Exception):
    """Base of the expected failures. The message names file, rule and rows, never values."""

    exit_code = 1


class RejectedInput(P20Error):
    """Input that breaks a rule (exit 1): nothing was written."""

    exit_code = 1


class UsageError(P20Error):
    """Wrong arguments or a refused operation (exit 2): nothing was written."""

    exit_code = 2


class WarehouseFull(P20Error):
    """The disk, a quota or a file-size limit stopped a write (exit 1): nothing half-written."""

    exit_code = 1


class Interrupted(P20Error):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) stopped a run: the message says what was left."""

    def __init__(self, message: str, signal_exit: int = 130):
        super().__init__(message)
        self.exit_code = signal_exit


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so a run stops the same clean way (exit 143)."""
