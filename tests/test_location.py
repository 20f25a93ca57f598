"""Location-independent (#13): the views hold the same absolute paths whichever command built
them and work from any working directory; a relative P20_WAREHOUSE_DIR is taken from the
repository root, never from where you stand; a copied checkout uses its own zones only."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb

from conftest import REPO, copy_zones

DBT = Path(sys.executable).parent / "dbt"
FILE_READ = re.compile(r"read_(?:parquet|json)\('([^']*)'")


def staging_views(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse / "p20.duckdb"), read_only=True)
    try:
        rows = con.execute("select view_name, sql from duckdb_views() where schema_name = 'staging'").fetchall()
    finally:
        con.close()
    return dict(rows)


def run(command: list[str], cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(command, cwd=cwd, env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
                          capture_output=True, text=True, timeout=900)
    return proc


def test_views_hold_the_same_absolute_paths_whichever_command_built_them(tiny_run, tmp_path, monkeypatch):
    zones = copy_zones(tiny_run, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # relative, as a user may set it: taken from the repository root by dbt and p20 alike
    env = {**zones.env, "P20_WAREHOUSE_DIR": os.path.relpath(zones.warehouse, REPO)}
    plain = run([str(DBT), "build", "--select", "staging"], cwd=REPO, env=env)
    assert plain.returncode == 0, plain.stdout[-3000:]
    by_dbt = staging_views(zones.warehouse)
    wrapped = run([sys.executable, "-m", "p20", "build", "--select", "staging"], cwd=elsewhere, env=env)
    assert wrapped.returncode == 0, wrapped.stdout[-3000:] + wrapped.stderr[-3000:]
    assert staging_views(zones.warehouse) == by_dbt
    read = [path for sql in by_dbt.values() for path in FILE_READ.findall(sql)]
    assert len(read) >= len(by_dbt) > 10
    for path in read:
        assert os.path.isabs(path) and os.path.normpath(path).startswith(f"{zones.warehouse}/"), path
    # a researcher's session anywhere else reads every view
    monkeypatch.chdir(elsewhere)
    con = duckdb.connect(str(zones.warehouse / "p20.duckdb"), read_only=True)
    try:
        counts = {view: con.execute(f"select count(*) from staging.{view}").fetchone()[0] for view in by_dbt}
    finally:
        con.close()
    assert counts["stg_calpads__schools"] > 0 and counts["stg_ledger__loads"] > 0
    assert not (elsewhere / "warehouse").exists() and not list(elsewhere.iterdir())


def test_dbt_refuses_to_build_views_with_relative_paths(tiny_run, tmp_path):
    """`--profiles-dir .` leaves the profile's path relative: dbt must stop before any view is
    written with it, and say what to do."""
    zones = copy_zones(tiny_run, tmp_path)
    env = {**zones.env, "P20_WAREHOUSE_DIR": os.path.relpath(zones.warehouse, REPO)}
    before = staging_views(zones.warehouse)
    proc = run([str(DBT), "run", "--select", "stg_calpads__schools", "--profiles-dir", "."], cwd=REPO, env=env)
    assert proc.returncode != 0
    assert "is relative, so the staging views would only work from this folder" in proc.stdout
    assert staging_views(zones.warehouse) == before


def test_a_relative_zone_is_taken_from_the_repository_root(tmp_path, monkeypatch):
    from p20 import paths

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("P20_WAREHOUSE_DIR", "some/warehouse")
    monkeypatch.setenv("P20_CUSTODIAN_DIR", "")
    assert paths.warehouse_dir() == REPO / "some" / "warehouse"
    assert paths.custodian_dir() == REPO / "custodian"
    monkeypatch.setenv("P20_WAREHOUSE_DIR", str(tmp_path / "wh"))
    assert paths.duckdb_path() == tmp_path / "wh" / "p20.duckdb"


# What of a checkout p20 needs to run (its code, the dbt project files it reads).
CHECKOUT_FILES = ["pyproject.toml", "dbt_project.yml", "profiles.yml", "Makefile"]


def copy_checkout(dst: Path) -> Path:
    dst.mkdir()
    for name in CHECKOUT_FILES:
        shutil.copy2(REPO / name, dst / name)
    shutil.copytree(REPO / "scripts", dst / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def tree(*roots: Path) -> dict[str, int]:
    """Every file under the roots, with its modification time (ns)."""
    return {str(p): p.stat().st_mtime_ns for root in roots if root.exists() for p in root.rglob("*")}


def test_a_copied_checkout_writes_only_to_its_own_zones(tmp_path):
    copy = copy_checkout(tmp_path / "copy")
    env = {k: v for k, v in os.environ.items() if not k.startswith("P20_")}
    originals = [REPO / "custodian", REPO / "warehouse"]
    before = tree(*originals)
    # The copy's .venv as `cp -r` leaves it: its scripts' #! lines still name this checkout's
    # python, whose editable install is this checkout's code.
    stale = copy / ".venv" / "bin" / "p20"
    stale.parent.mkdir(parents=True)
    shutil.copy2(REPO / ".venv" / "bin" / "p20", stale)
    refused = run([str(stale), "keys", "init"], cwd=copy, env=env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{copy}/.venv runs the code of {REPO}" in refused.stderr
    assert f"cd {copy} && make install" in refused.stderr
    assert tree(*originals) == before and not (copy / "custodian").exists()
    # Rebuilt in place (as make install does, here without pip: the copy's code on the path,
    # this venv's packages behind it), the copy reads and writes its own zones, run from anywhere.
    shutil.rmtree(copy / ".venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(copy / ".venv")], check=True)
    site = next((copy / ".venv" / "lib").glob("python3.*/site-packages"))
    here = next((REPO / ".venv" / "lib").glob("python3.*/site-packages"))
    (site / "00-p20-test.pth").write_text(f"{copy / 'scripts'}\n{here}\n")
    python = copy / ".venv" / "bin" / "python"
    for args in (["keys", "init"], ["keys", "export-manifest-key"]):
        proc = run([str(python), "-m", "p20", *args], cwd=tmp_path, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (copy / "custodian" / "keys" / "master.key").exists()
    assert (copy / "warehouse" / "keys" / "manifest.key").exists()
    assert tree(*originals) == before


def fake_python(path: Path, log: Path) -> None:
    """A stand-in for python3 and a venv's python: `-m venv DIR` makes DIR as venv does (its
    pyvenv.cfg naming DIR, its own python), anything else is logged."""
    path.write_text(f"""#!/bin/sh
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf 'home = /usr/bin\\ncommand = /usr/bin/python3 -m venv %s\\n' "$(cd "$3" && pwd)" > "$3/pyvenv.cfg"
  cp "$0" "$3/bin/python"
  exit 0
fi
echo "$(cd "$(dirname "$0")" && pwd)/$(basename "$0") $*" >> {log}
""")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_make_install_replaces_a_venv_copied_from_another_checkout(tmp_path):
    original, log = tmp_path / "original", tmp_path / "calls.log"
    original.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(REPO / name, original / name)
    fake_python(tmp_path / "python3", log)
    make = ["make", "--no-print-directory", f"PYTHON={tmp_path / 'python3'}", "install"]
    subprocess.run(make, cwd=original, check=True, capture_output=True)
    assert log.read_text().splitlines() == [f"{original}/.venv/bin/python -m pip install --quiet "
                                            "--disable-pip-version-check -e .[dev]"]
    copy = tmp_path / "copy"
    shutil.copytree(original, copy, symlinks=True)  # times kept: the stamp is as new as ever
    log.unlink()
    proc = subprocess.run(make, cwd=copy, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"was made as {original}/.venv, not here: making a new one" in proc.stdout
    assert f"-m venv {copy}/.venv" in (copy / ".venv" / "pyvenv.cfg").read_text()
    assert log.read_text().splitlines() == [f"{copy}/.venv/bin/python -m pip install --quiet "
                                            "--disable-pip-version-check -e .[dev]"]
    for checkout in (copy, original):  # each is installed now; neither installs again
        again = subprocess.run(make, cwd=checkout, capture_output=True, text=True)
        assert "Nothing to be done for 'install'" in again.stdout, again.stdout
