"""The untimed set-up the benchmarks share: a synthetic district and its keys in a custodian
folder, generated once and reused by later runs."""

import os
import subprocess
import sys
from pathlib import Path


def prepare_custodian(custodian: Path, preset: str, seed: int) -> None:
    """Point P20_CUSTODIAN_DIR at `custodian`; generate the district there if it has no raw
    extracts yet, and the master and escrow keys if it has none."""
    os.environ["P20_CUSTODIAN_DIR"] = str(custodian)
    if not (custodian / "raw").exists():
        print(f"generating the {preset} district (not timed) ...", flush=True)
        subprocess.run([sys.executable, "-m", "p20", "synth", "--preset", preset, "--seed", str(seed)], check=True)
    from p20 import keys

    if not keys.master_key_path().exists():
        keys.init_master_key()
    if not keys.escrow_key_path().exists():
        keys.init_escrow_key()
