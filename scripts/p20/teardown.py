"""Quiet interpreter teardown, for the `p20` command and the test processes alike."""

import os
import sys


def quiet_interpreter_shutdown() -> None:
    """After GX has run SQL on DuckDB, DuckDB 2.0's bindings (nanobind) print some 50 lines of
    "leaked instances" while the interpreter tears down: harmless (the process is ending, the
    exit code is set) but noise on every `p20 load` and in every test log. Register it with
    atexit before anything else (exit handlers run last-registered first), so it runs once all
    other output is written; stdout is left alone."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
