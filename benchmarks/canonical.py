"""`python -m benchmarks canonical`: what the tie-break phase (solver.tie_break: canonical) adds to a
proven optimum.

For each instance and seed, `seatplan solve` with `gap: 0` runs twice side by side in one session —
`tie_break: off`, then `canonical` — each in its own process, timed from its start (reading the data
and writing the run folder included), `--repeats` times. Reported: the medians of both, their ratio,
the phase's own seconds (metrics.json `seconds.tie_break`), and the status (the phase runs only on
`optimal` runs).
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from benchmarks.explain import timed
from benchmarks.instances import INSTANCES


def _variant(config: Path, tie_break: str, time_limit: float | None, folder: Path) -> Path:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["solver"] = {**document.get("solver", {}), "gap": 0.0, "tie_break": tie_break}
    if time_limit is not None:
        document["solver"]["time_limit"] = time_limit
    # Data paths stay relative to the benchmark's cache folder: the variant is written beside it.
    target = config.with_name(f"{config.stem}-gap0-{tie_break}.yaml")
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def _one(config: Path, scratch: Path) -> dict[str, Any]:
    out = scratch / config.stem
    run = timed(["solve", str(config), "--out", str(out), "--overwrite", "--quiet"])
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8")) if (out / "metrics.json").exists() else {}
    run["status"] = metrics.get("status")
    run["tie_break"] = metrics.get("tie_break")
    run["tie_break_seconds"] = metrics.get("seconds", {}).get("tie_break")
    run["solve_seconds"] = metrics.get("seconds", {}).get("total")
    run["sha256_assignment"] = None
    if (out / "assignment.csv").exists():
        import hashlib

        run["sha256_assignment"] = hashlib.sha256((out / "assignment.csv").read_bytes()).hexdigest()[:16]
    return run


def main_canonical(instances: str, seeds: str, repeats: int, time_limit: float | None, out: Path) -> None:
    results: list[dict[str, Any]] = []
    for name in instances.split(","):
        for seed in (int(s) for s in seeds.split(",")):
            base = INSTANCES[name].config(seed)
            configs = {mode: _variant(base, mode, time_limit, base.parent) for mode in ("off", "canonical")}
            runs: dict[str, list[dict[str, Any]]] = {"off": [], "canonical": []}
            with tempfile.TemporaryDirectory() as scratch:
                for _ in range(repeats):
                    for mode, config in configs.items():  # side by side, alternating
                        runs[mode].append(_one(config, Path(scratch)))
            medians = {mode: statistics.median(r["wall"] for r in rs) for mode, rs in runs.items()}
            phase = [r["tie_break_seconds"] for r in runs["canonical"] if r["tie_break_seconds"] is not None]
            entry = {
                "instance": name,
                "seed": seed,
                "median_wall": medians,
                "ratio": round(medians["canonical"] / medians["off"], 3),
                "median_tie_break_seconds": statistics.median(phase) if phase else None,
                "status": sorted({r["status"] for rs in runs.values() for r in rs}),
                "canonical_assignments": sorted({r["sha256_assignment"] for r in runs["canonical"]}),
                "runs": runs,
            }
            results.append(entry)
            print(
                f"{name}-{seed}: off {medians['off']:.1f} s, canonical {medians['canonical']:.1f} s "
                f"(×{entry['ratio']:.2f}; phase {entry['median_tie_break_seconds']} s), status {entry['status']}, "
                f"{len(entry['canonical_assignments'])} distinct canonical assignment.csv"
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
