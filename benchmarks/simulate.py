"""`python -m benchmarks simulate`: lottery draws of deferred acceptance, against a reference.

1. `seatplan simulate` on the district instance with `mechanism: deferred_acceptance` (10,000
   students, 100 schools, 10 choices), `--draws` draws, in its own process, timed from its start
   (reading the data, every draw, writing the files), `--repeats` times.
2. The reference point, per draw, at 2,000 students (the `matching` package's DA recurses too deep at
   10,000): the same draws solved by seatplan's vectorised DA and by `matching`'s
   HospitalResident (resident-optimal), timed side by side in this process, and checked to agree.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from benchmarks.explain import timed
from benchmarks.instances import INSTANCES
from benchmarks.reference import hospital_resident, schools_of
from seatplan.models.data import load_inputs
from seatplan.models.generate import DistrictSpec, write_district
from seatplan.solver.da import deferred_acceptance
from seatplan.solver.simulate import draw_instance

CACHE = Path(__file__).resolve().parent / "instances"


def _da_config(config: Path) -> Path:
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    document["mechanism"] = "deferred_acceptance"
    target = config.with_name(f"{config.stem}-deferred_acceptance.yaml")
    target.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return target


def _matching_da(instance: Any) -> list[int]:
    """`matching`'s resident-optimal stable matching of one draw (no grades, no priorities)."""
    from matching.games import HospitalResident

    game = HospitalResident.create_from_dictionaries(*hospital_resident(instance))
    return schools_of(game.solve(optimal="resident"), instance.n_students)


def main_simulate(draws: int, repeats: int, reference_draws: int, out: Path) -> None:
    results: dict[str, Any] = {}
    config = _da_config(INSTANCES["district"].config(0))
    with tempfile.TemporaryDirectory() as scratch:
        runs = [
            timed(["simulate", str(config), "--draws", str(draws), "--out", f"{scratch}/sim", "--overwrite", "--quiet"])
            for _ in range(repeats)
        ]
    results["district"] = {
        "students": 10_000,
        "draws": draws,
        "median_wall": statistics.median(r["wall"] for r in runs),
        "runs": runs,
    }
    print(f"district, {draws} draws: median {results['district']['median_wall']:.1f} s ({repeats} runs)")
    small = CACHE / "simulate-2000"
    if not (small / "config.yaml").exists():
        write_district(
            DistrictSpec(students=2_000, schools=20, clusters=4, seed=0, compact_share=0.0, max_choices=5),
            small,
            overwrite=True,
            config_path=small / "config.yaml",
        )
    settings, instance = load_inputs(small / "config.yaml")
    settings = replace(settings, mechanism="deferred_acceptance")
    ours, theirs, agree = [], [], 0
    for k in range(reference_draws):
        drawn = draw_instance(instance, settings, k, None)
        started = time.perf_counter()
        mine = deferred_acceptance(drawn, settings).school.tolist()
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        reference = _matching_da(drawn)
        theirs.append(time.perf_counter() - started)
        agree += mine == reference
    results["reference_2000"] = {
        "draws": reference_draws,
        "seatplan_median_s": round(statistics.median(ours), 4),
        "matching_median_s": round(statistics.median(theirs), 4),
        "ratio": round(statistics.median(theirs) / statistics.median(ours), 1),
        "draws_agreeing": agree,
    }
    print(
        f"2,000 students, per draw: seatplan {results['reference_2000']['seatplan_median_s'] * 1000:.1f} ms, "
        f"matching {results['reference_2000']['matching_median_s'] * 1000:.0f} ms "
        f"({results['reference_2000']['ratio']}×); {agree} of {reference_draws} draws agree"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
