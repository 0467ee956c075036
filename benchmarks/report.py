"""`python -m benchmarks report`: how long `seatplan report` takes on a city, and how big the page is.

For each instance and seed, the instance is solved once with `seatplan solve` (and once with
deferred acceptance), the run folders kept under benchmarks/instances/runs/; then the report of the
optimised run alone, and of deferred acceptance beside it, is written by `seatplan report` in its own
process, whose wall time and peak memory (RSS, from the kernel) are recorded with the page's size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.instances import CACHE, INSTANCES

SEATPLAN = [sys.executable, "-m", "seatplan.solver.cli"]


def _run_folder(config: Path, mechanism: str) -> Path:
    """The instance solved (once), as a run folder."""
    folder = CACHE / "runs" / f"{config.stem}-{mechanism}"
    if (folder / "metrics.json").exists():
        return folder
    source = config
    if mechanism != "optimize":
        document = yaml.safe_load(config.read_text(encoding="utf-8"))
        document["mechanism"] = mechanism
        source = config.with_name(f"{config.stem}-{mechanism}.yaml")
        source.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    subprocess.run([*SEATPLAN, "solve", str(source), "--out", str(folder), "--quiet", "--overwrite"], check=True)
    return folder


def _timed_report(folders: list[Path]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "report.html"
        started = time.perf_counter()
        process = subprocess.Popen([*SEATPLAN, "report", *map(str, folders), "--out", str(out)], stdout=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        return {
            "runs": [folder.name for folder in folders],
            "exit": process.returncode,
            "wall": round(wall, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "html_mb": round(out.stat().st_size / 2**20, 2) if out.exists() else None,
        }


def main_report(instances: str, seeds: str, out: Path) -> None:
    records = []
    for name in instances.split(","):
        for seed in (int(s) for s in seeds.split(",")):
            config = INSTANCES[name].config(seed)
            optimised = _run_folder(config, "optimize")
            deferred = _run_folder(config, "deferred_acceptance")
            for folders in ([optimised], [deferred, optimised]):
                record = {"instance": name, "seed": seed, **_timed_report(folders)}
                print(json.dumps(record), flush=True)
                records.append(record)
    out.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
