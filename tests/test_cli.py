"""The `p20` command's own options: --version and shell completion."""

import os
import subprocess
import sys
from importlib.metadata import version

from conftest import REPO


def p20(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "p20", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def test_version_prints_the_installed_package_version():
    proc = p20("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"p20 {version('p20')}\n"


def complete_bash(line: str) -> list[str]:
    """What bash's completion function (`p20 --show-completion`) gets back for `line`."""
    words = line.split(" ")
    proc = p20(env={"_P20_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_shell_completion_completes_commands_and_options():
    assert complete_bash("p20 rel") == ["release"]
    assert "--preset" in complete_bash("p20 synth --pre")
    assert {"init", "fingerprint"} <= set(complete_bash("p20 keys "))


def test_demo_accepts_only_the_presets_its_help_names(tmp_path):
    """`p20 demo --preset medium` (the help says tiny | small) is a usage error: exit 2, one
    line, nothing written (it used to synthesise a 1.8 GB district)."""
    env = {"P20_CUSTODIAN_DIR": str(tmp_path / "c"), "P20_WAREHOUSE_DIR": str(tmp_path / "w")}
    proc = p20("demo", "--preset", "medium", env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == ["p20: demo --preset 'medium': expected one of tiny | small"]
    assert not (tmp_path / "c").exists() and not (tmp_path / "w").exists()
