"""Errors a user can cause: one clear line, a distinct exit code, never a traceback."""

import signal


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


# The stop signal a run received (SIGINT or SIGTERM), kept once its handler has run: a library
# that catches the KeyboardInterrupt raised in the middle of its own call (DuckDB does, inside a
# query) would otherwise swallow the stop, and the run would go on to the end.
_stop_signal: list[int] = []


def request_stop(signum: int) -> None:
    """Record the stop and raise it where the signal landed (p20.cli's handler)."""
    _stop_signal.append(signum)
    raise Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def raise_if_stopped() -> None:
    """Raise the recorded stop again (between files of a load: a swallowed one still stops it)."""
    if _stop_signal:
        raise Terminated() if _stop_signal[0] == signal.SIGTERM else KeyboardInterrupt()

