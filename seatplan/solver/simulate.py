"""`seatplan simulate`: run the lottery many times and give every family its chances.

Draw k (k = 0 … draws − 1) is the config with `solver.seed + k`: the documented lottery rule of
`lottery.kind` (models/choice.py) draws the numbers from that seed — or, with a lotteries file (one
number per student, a single lottery), draw k takes its k-th column. For `mechanism:
deferred_acceptance` each draw is the vectorised deferred acceptance on the new lottery (no
program); for an optimised config each draw is a solve.

What is counted, over the draws:
- per student and listed school, how often the student is placed there (and how often nowhere):
  `probabilities.csv` / `.parquet` (`student_id,school_id,probability`, unplaced as an empty
  school_id, one row per pair placed at least once);
- per school and grade, how often it fills, and the distribution of its cutoff — the priority group
  and the lottery place (1 = first in the draw) of the lowest-ranked student it admitted by its list;
- per compact, how often it is honored.
Draws are split into chunks that worker processes take; the data travel to each worker once, and
the counts are summed, so the result does not depend on how the draws were split.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seatplan.models.assignment import Assignment
from seatplan.models.choice import draw_lottery, ranks_of
from seatplan.models.config import Config
from seatplan.models.errors import InputError, Problem
from seatplan.models.instance import Instance
from seatplan.models.rules.base import honored_compacts
from seatplan.models.school_order import order_key
from seatplan.models.tables import guarded, read_table
from seatplan.solver.run import available_cores, replace_folder
from seatplan.solver.solve import MECHANISMS, solve
from seatplan.solver.sweep import dask_client

#: Draws a worker takes at a time: large enough that sending the counts back is cheap, small enough
#: that the progress bar moves and both cores stay busy to the end.
CHUNK = 25


@dataclass
class Counts:
    """What the draws added up to (all integers, so that sums do not depend on the split)."""

    draws: int
    at_listed: np.ndarray  # (P,) times placed at each listed (student, school) pair
    unplaced: np.ndarray  # (S,) times without a school
    elsewhere: dict[tuple[int, int], int]  # (student, school) placements off the list (compacts)
    full: np.ndarray  # (J, G) times full
    cutoff_priority: dict[tuple[int, int, int], int]  # (school, grade, priority) -> draws
    cutoff_place: list[list[int]]  # per cell (J*G): lottery places of the cutoff, one per draw with one
    honored: np.ndarray  # (C,) times honored
    failed: list[str]

    @classmethod
    def zero(cls, instance: Instance) -> Counts:
        cells = instance.n_schools * len(instance.grades)
        return cls(
            0,
            np.zeros(len(instance.pref_school), np.int64),
            np.zeros(instance.n_students, np.int64),
            {},
            np.zeros(instance.capacity.shape, np.int64),
            {},
            [[] for _ in range(cells)],
            np.zeros(instance.n_compacts, np.int64),
            [],
        )

    def add(self, other: Counts) -> None:
        self.draws += other.draws
        self.at_listed += other.at_listed
        self.unplaced += other.unplaced
        for pair, value in other.elsewhere.items():
            self.elsewhere[pair] = self.elsewhere.get(pair, 0) + value
        self.full += other.full
        for triple, value in other.cutoff_priority.items():
            self.cutoff_priority[triple] = self.cutoff_priority.get(triple, 0) + value
        for mine, theirs in zip(self.cutoff_place, other.cutoff_place, strict=True):
            mine.extend(theirs)
        self.honored += other.honored
        self.failed += other.failed


# ---- one draw ------------------------------------------------------------------------------------


def draw_instance(instance: Instance, config: Config, k: int, lotteries: np.ndarray | None) -> Instance:
    """The data with draw k's lottery: a lotteries file's column k (one number per student), or the
    documented draw of config.lottery.kind from seed + k."""
    if lotteries is not None:
        numbers = lotteries[:, k]
        rank = ranks_of(numbers)
        # One number per student: the file's lottery is a single one, whatever lottery.kind says.
        empty = np.zeros(0, np.int64)
        return replace(
            instance,
            lottery_rank=rank,
            lottery_number=numbers,
            pair_lottery_key=empty,
            pair_lottery_rank=empty,
            pair_lottery_number=empty,
        )
    drawn = draw_lottery(
        config.lottery.kind,
        config.solver.seed + k,
        instance.student_ids,
        instance.family,
        instance.family_ids,
        instance.school_ids,
        (instance.pref_student(), instance.pref_school),
    )
    return replace(
        instance,
        lottery_rank=drawn.lottery_rank,
        lottery_number=drawn.lottery_number,
        pair_lottery_key=drawn.pair_lottery_key,
        pair_lottery_rank=drawn.pair_lottery_rank,
        pair_lottery_number=drawn.pair_lottery_number,
    )


def _placement(instance: Instance, config: Config, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(school per student, through a compact) of draw k."""
    if config.is_mechanism:
        assignment = MECHANISMS[config.mechanism][0](instance, config)
        return assignment.school, assignment.via_compact
    seeded = replace(config, solver=replace(config.solver, seed=config.solver.seed + k, workers=1))
    result = solve(seeded, instance=instance)
    if result.placement is None:
        raise RuntimeError(f"draw {k}: {result.status}")
    return result.placement.school, result.placement.via_compact


def _count_draw(counts: Counts, instance: Instance, config: Config, school: np.ndarray, through: np.ndarray) -> None:
    n_grades = len(instance.grades)
    placed = school >= 0
    counts.unplaced += ~placed
    listed = instance.list_position(np.flatnonzero(placed), school[placed])
    students = np.flatnonzero(placed)
    on_list = listed > 0
    entry = instance.pref_entry(students[on_list], school[students[on_list]])
    counts.at_listed[entry] += 1
    for s in students[~on_list].tolist():
        pair = (s, int(school[s]))
        counts.elsewhere[pair] = counts.elsewhere.get(pair, 0) + 1
    load = np.zeros(instance.capacity.shape, np.int64)
    np.add.at(load, (school[placed], instance.grade[placed]), 1)
    counts.full += (load >= instance.capacity) & (instance.capacity > 0)
    regular = students[~through[students]]
    if len(regular):
        cell = school[regular] * n_grades + instance.grade[regular]
        rank_key = order_key(instance, config, regular, school[regular])
        order = np.lexsort((rank_key, cell))
        last = np.ones(len(order), dtype=bool)
        last[:-1] = cell[order][1:] != cell[order][:-1]
        for c, s in zip(cell[order][last].tolist(), regular[order][last].tolist(), strict=True):
            j, g = divmod(c, n_grades)
            if load[j, g] >= instance.capacity[j, g]:
                priority = int(instance.priority(np.array([s]), np.array([j]), config.clusters.feeder_priority)[0])
                counts.cutoff_priority[(j, g, priority)] = counts.cutoff_priority.get((j, g, priority), 0) + 1
                counts.cutoff_place[c].append(int(instance.lottery_rank[s]) + 1)
    if instance.n_compacts:
        counts.honored += honored_compacts(instance, Assignment(school, through))
    counts.draws += 1


# ---- many draws, in worker processes --------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _start_worker(instance: Instance, config: Config, lotteries: np.ndarray | None) -> None:
    _WORKER.update(instance=instance, config=config, lotteries=lotteries)


def _run_draws(draws: Sequence[int]) -> Counts:
    instance, config, lotteries = _WORKER["instance"], _WORKER["config"], _WORKER["lotteries"]
    counts = Counts.zero(instance)
    for k in draws:
        drawn = draw_instance(instance, config, k, lotteries)
        try:
            school, through = _placement(drawn, config, k)
        except Exception as error:  # a failing draw is recorded and never stops the others
            counts.failed.append(f"draw {k}: {error}")
            continue
        _count_draw(counts, drawn, config, school, through)
    return counts


def _draws_on(instance: Instance, config: Config, lotteries: np.ndarray | None, draws: Sequence[int]) -> Counts:
    """A chunk of draws on a Dask worker (the data arrive scattered, once per worker)."""
    _start_worker(instance, config, lotteries)
    return _run_draws(draws)


def simulate(
    config: Config,
    instance: Instance,
    draws: int,
    jobs: int | None = None,
    lotteries: np.ndarray | None = None,
    progress: Callable[[int], None] | None = None,
    dask: str | None = None,
) -> Counts:
    """Every draw, counted. `progress(n)` is told of every n draws done. `dask`: a dask.distributed
    scheduler's address, or `local` for a LocalCluster of two workers."""
    chunks = [list(range(start, min(start + CHUNK, draws))) for start in range(0, draws, CHUNK)]
    if dask is not None:
        total = Counts.zero(instance)
        with dask_client(dask) as client:
            data = client.scatter(instance, broadcast=True)
            drawn = client.scatter(lotteries, broadcast=True) if lotteries is not None else None
            futures = [client.submit(_draws_on, data, config, drawn, chunk, pure=False) for chunk in chunks]
            for future, chunk in zip(futures, chunks, strict=True):
                total.add(future.result())
                if progress is not None:
                    progress(len(chunk))
        return total
    cores = available_cores()
    workers = max(1, min(jobs or cores, len(chunks)))
    total = Counts.zero(instance)
    if workers == 1:
        _start_worker(instance, config, lotteries)
        for chunk in chunks:
            total.add(_run_draws(chunk))
            if progress is not None:
                progress(len(chunk))
        return total
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_start_worker,
        initargs=(instance, config, lotteries),
    ) as pool:
        for chunk, counts in zip(chunks, pool.map(_run_draws, chunks), strict=True):
            total.add(counts)
            if progress is not None:
                progress(len(chunk))
    return total


# ---- what is written ------------------------------------------------------------------------------


def probabilities(instance: Instance, counts: Counts) -> pd.DataFrame:
    """student_id, school_id ('' for no school), probability: every pair placed at least once, by
    student and in the order of its list (a compact's school off the list, then no school, last)."""
    n = max(counts.draws, 1)
    student = instance.pref_student()
    hit = np.flatnonzero(counts.at_listed)
    nowhere = np.flatnonzero(counts.unplaced)
    elsewhere = sorted(counts.elsewhere)
    big = np.iinfo(np.int64).max
    frame = pd.DataFrame(
        {
            "student_id": np.concatenate(
                [
                    instance.student_ids[student[hit]],
                    np.array([instance.student_ids[s] for s, _ in elsewhere], dtype=object),
                    instance.student_ids[nowhere],
                ]
            ).astype(str),
            "school_id": np.concatenate(
                [
                    instance.school_ids[instance.pref_school[hit]],
                    np.array([instance.school_ids[j] for _, j in elsewhere], dtype=object),
                    np.full(len(nowhere), "", dtype=object),
                ]
            ).astype(str),
            "probability": np.concatenate(
                [
                    counts.at_listed[hit] / n,
                    np.array([counts.elsewhere[key] / n for key in elsewhere], dtype=float),
                    counts.unplaced[nowhere] / n,
                ]
            ),
            "_student": np.concatenate([student[hit], [s for s, _ in elsewhere], nowhere]).astype(np.int64),
            "_order": np.concatenate([hit, np.full(len(elsewhere), big - 1), np.full(len(nowhere), big)]).astype(
                np.int64
            ),
        }
    )
    frame = frame.sort_values(["_student", "_order"], kind="stable").drop(columns=["_student", "_order"])
    return frame.reset_index(drop=True)


def summary(config: Config, instance: Instance, counts: Counts, seconds: float, lotteries: bool) -> dict[str, Any]:
    n = max(counts.draws, 1)
    n_grades = len(instance.grades)
    members = instance.compact_members()
    schools = []
    for j in range(instance.n_schools):
        for g in range(n_grades):
            if instance.capacity[j, g] == 0:
                continue
            places = counts.cutoff_place[j * n_grades + g]
            priorities = {
                str(p): count / n for (jj, gg, p), count in sorted(counts.cutoff_priority.items()) if (jj, gg) == (j, g)
            }
            schools.append(
                {
                    "school_id": str(instance.school_ids[j]),
                    **({"grade": instance.grades[g]} if instance.has_grades else {}),
                    "seats": int(instance.capacity[j, g]),
                    "fill_probability": int(counts.full[j, g]) / n,
                    "cutoff_priority": priorities,
                    "cutoff_lottery_place": (
                        {
                            "min": int(np.min(places)),
                            "p10": float(np.percentile(places, 10)),
                            "median": float(np.median(places)),
                            "p90": float(np.percentile(places, 90)),
                            "max": int(np.max(places)),
                        }
                        if places
                        else None
                    ),
                }
            )
    return {
        "name": config.name,
        "mechanism": config.mechanism,
        "draws": counts.draws,
        "failed": counts.failed,
        "lottery": "lotteries file, one column per draw"
        if lotteries
        else f"solver.seed {config.solver.seed} to {config.solver.seed + counts.draws + len(counts.failed) - 1}",
        "students": instance.n_students,
        "seconds": round(seconds, 3),
        "schools": schools,
        "compacts": [
            {
                "compact_id": str(instance.compact_ids[c]),
                "school_id": str(instance.school_ids[instance.compact_school[c]]),
                # Every family of a compact shares its chance: it is placed there with all the others, or not.
                "families": sorted({str(f) for f in instance.family_ids[instance.family[members[c]]]}),
                "honored_probability": int(counts.honored[c]) / n,
            }
            for c in range(instance.n_compacts)
        ],
    }


def write_simulation(folder: Path, table: pd.DataFrame, document: dict[str, Any], overwrite: bool) -> None:
    """probabilities.csv, probabilities.parquet and summary.json, written whole."""
    if folder.exists() and not overwrite:
        raise InputError([Problem(str(folder), None, "exists already; pass --overwrite to replace it")])

    def fill(staging: Path) -> None:
        guarded(table).to_csv(staging / "probabilities.csv", index=False)
        table.to_parquet(staging / "probabilities.parquet", index=False)
        (staging / "summary.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")

    replace_folder(folder, fill)


def read_lotteries(path: Path, instance: Instance) -> np.ndarray:
    """A lotteries file: student_id and one column of numbers per draw (smaller is better)."""
    problems: list[Problem] = []
    table = read_table(path, str(path), problems)
    if table is None:
        raise InputError(problems)
    columns = [c for c in table.columns if c != "student_id"]
    if "student_id" not in table.columns or not columns:
        raise InputError([Problem(table.file, 1, "expected a student_id column and one column per draw")])
    ids = table.frame["student_id"].astype(str).str.strip()
    repeated = ids.duplicated().to_numpy()
    if repeated.any():
        line = int(table.frame["_line"].to_numpy()[repeated][0])
        raise InputError(
            [Problem(table.file, line, f"expected each student once, got {ids[repeated].iloc[0]!r} again")]
        )
    index = pd.Index(ids).get_indexer(pd.Index(instance.student_ids))
    missing = np.flatnonzero(index < 0)
    if len(missing):
        raise InputError(
            [
                Problem(
                    table.file,
                    None,
                    f"expected a row for every student, got none for {instance.student_ids[missing[0]]}",
                )
            ]
        )
    values = table.frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)[index]
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, column = bad[0]
        line = int(table.frame["_line"].to_numpy()[index[row]])
        raise InputError([Problem(table.file, line, f"expected a number in column {columns[column]}")])
    return values
