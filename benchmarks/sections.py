"""`python -m benchmarks sections`: how long the classroom stage takes on a city.

The metro instance (100,000 students, 1,000 schools) is solved once (the run folder is kept under
benchmarks/instances/runs/), and families' answers are drawn for it (10% yes, 5% no — never a
family in a compact, never where its school has a single classroom — the rest either). Then
`seatplan sections` runs in its own process, with one worker process and with two, side by side and
in turns, `--repeats` times each; its wall time (reading the run, solving every school, writing the
files) and peak memory are recorded, with how many schools were proven optimal.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.instances import INSTANCES
from benchmarks.report import SEATPLAN, _run_folder
from seatplan.models.config import load_config
from seatplan.models.tables import unguarded
from seatplan.solver.runfolder import ID_COLUMNS

SETTINGS = """\
sections:
  size: 28
  compact_together: hard
  max_compact_share: 80
  max_compacts_per_classroom: 1
  choice: {file: section_choices.csv, weight: 10}
  balance: [{attribute: ses, category: low}, {attribute: ell, category: "1"}]
  siblings_together: soft
"""
SIZE = 28


def _choices(run: Path, config: Path, folder: Path) -> Path:
    """section_choices.csv for the run: deterministic, and feasible by construction."""
    data = load_config(config).data
    students = pd.read_csv(data.students, dtype=str, usecols=["student_id", "family_id"])
    assert data.compacts is not None
    compacts = pd.read_csv(data.compacts, dtype=str)
    # seatplan's own file: its ids are guarded against spreadsheet formulas (models/tables.py).
    assignment = unguarded(pd.read_csv(run / "assignment.csv", dtype=str), ID_COLUMNS)
    placed = assignment.merge(students, on="student_id")
    rooms = placed.groupby("school_id").size().map(lambda n: math.ceil(n / SIZE))
    families = students["family_id"].drop_duplicates().to_numpy()
    answer = np.random.default_rng(0).choice(["yes", "no", "either"], size=len(families), p=[0.10, 0.05, 0.85])
    frame = pd.DataFrame({"family_id": families, "compact_classroom": answer})
    # A family may say no where its school keeps a classroom free of compacts (one compact each).
    compacts_at = placed.dropna(subset=["compact_id"]).groupby("school_id")["compact_id"].nunique()
    spare = (rooms - compacts_at.reindex(rooms.index).fillna(0)).astype(int)
    least = placed.assign(spare=placed["school_id"].map(spare).fillna(0)).groupby("family_id")["spare"].min()
    single = frame["family_id"].map(least).fillna(0) < 1
    frame.loc[
        (frame["compact_classroom"] == "no") & (single | frame["family_id"].isin(compacts["family_id"])),
        "compact_classroom",
    ] = "either"
    path = folder / "section_choices.csv"
    frame.to_csv(path, index=False)
    return path


def _timed(run: Path, settings: Path, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "sectioned"
        command = [*SEATPLAN, "sections", str(run), "--config", str(settings), "--out", str(out)]
        command += ["--workers", str(workers)]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        assert process.stderr is not None
        errors = process.stderr.read().decode(errors="replace")
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        document = json.loads((out / "sections.json").read_text()) if code == 0 else {}
        cohorts = document.get("cohorts", [])
        return {
            "workers": workers,
            "exit": code,
            "wall": round(wall, 2),
            # ru_maxrss of wait4 is the largest of the process and its waited-for children.
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "status": document.get("status"),
            "schools_and_grades": len(cohorts),
            "proven_optimal": sum(1 for c in cohorts if c["status"] == "optimal"),
            "classrooms": len(document.get("classrooms", [])),
            "objective": document.get("objective"),
            **({"error": errors.strip()[:500]} if code else {}),
        }


def main_sections(instances: str, seeds: str, repeats: int, out: Path) -> None:
    records = []
    for name in instances.split(","):
        for seed in (int(s) for s in seeds.split(",")):
            config = INSTANCES[name].config(seed)
            run = _run_folder(config, "optimize")
            folder = run.parent / f"{run.name}-sections"
            folder.mkdir(exist_ok=True)
            _choices(run, config, folder)
            settings = folder / "sections.yaml"
            settings.write_text(SETTINGS, encoding="utf-8")
            for repeat in range(repeats):
                for workers in (1, 2):
                    record = {"instance": name, "seed": seed, "repeat": repeat, **_timed(run, settings, workers)}
                    print(json.dumps(record), flush=True)
                    records.append(record)
    out.write_text(json.dumps(records, indent=1) + "\n", encoding="utf-8")
    for workers in (1, 2):
        walls = [r["wall"] for r in records if r["workers"] == workers and r["exit"] == 0]
        if walls:
            print(
                f"workers {workers}: median wall {statistics.median(walls):.1f} s over {len(walls)} runs",
                file=sys.stderr,
            )
