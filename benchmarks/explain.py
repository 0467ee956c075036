"""`python -m benchmarks explain`: how long `seatplan explain --all` and `seatplan cutoffs` take.

The district instance (10,000 students, 100 schools) is solved once by deferred acceptance (the run
folder is kept under benchmarks/instances/runs/). Then each command runs in its own process,
`--repeats` times, in turns; its wall time (reading the run and its data, every reason or every
cutoff, writing the file) and peak memory are recorded, with medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.instances import INSTANCES
from benchmarks.report import SEATPLAN, _run_folder


def timed(arguments: list[str]) -> dict[str, Any]:
    """One seatplan command in its own process: exit code, wall time, peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen([*SEATPLAN, *arguments], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit": process.returncode,
        "wall": round(time.perf_counter() - started, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main_explain(instances: str, seeds: str, repeats: int, out: Path) -> None:
    results: list[dict[str, Any]] = []
    for name in instances.split(","):
        for seed in (int(s) for s in seeds.split(",")):
            folder = _run_folder(INSTANCES[name].config(seed), "deferred_acceptance")
            with tempfile.TemporaryDirectory() as scratch:
                runs: dict[str, list[dict[str, Any]]] = {"explain --all": [], "cutoffs": []}
                for _ in range(repeats):
                    target = str(Path(scratch) / "explanations.csv")
                    runs["explain --all"].append(
                        timed(["explain", str(folder), "--all", "--out", target, "--overwrite"])
                    )
                    runs["cutoffs"].append(timed(["cutoffs", str(folder), "--format", "csv"]))
            for command, timings in runs.items():
                entry = {
                    "instance": name,
                    "seed": seed,
                    "command": command,
                    "median_wall": statistics.median(t["wall"] for t in timings),
                    "median_peak_rss_mb": statistics.median(t["peak_rss_mb"] for t in timings),
                    "runs": timings,
                }
                results.append(entry)
                print(
                    f"{name} seed {seed} {command}: median {entry['median_wall']:.2f} s, "
                    f"{entry['median_peak_rss_mb']:.0f} MB ({repeats} runs)"
                )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"results": results}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
