"""The Python API, for notebooks: load a scenario, solve it, audit and compare runs.

    import seatplan
    scenario = seatplan.load("configs/demo.yaml", solver__time_limit=30)
    result = seatplan.solve(scenario)
    result.status, result.objective, result.assignment.head()
    result.save("runs/demo")
    seatplan.audit("runs/demo").passed

Overrides use the config's own key paths, with `__` between keys (as scikit-learn's parameters do):
`solver__time_limit=30`, `diversity__0__weight=5`; or a mapping merged into a section:
`solver={"time_limit": 30}`. They are checked like the file itself; a bad one raises ConfigError
naming `override solver.time_limit`. Everything else raises the same errors the command line prints.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from seatplan.auditor import Report, audit_files, audit_run
from seatplan.auditor.errors import AuditInputError
from seatplan.models.classrooms import load_settings as load_section_settings
from seatplan.models.config import Config, OverridePaths, load_config, override_paths
from seatplan.models.data import data_inputs, load_inputs, load_instance
from seatplan.models.errors import InputError, Problem
from seatplan.models.instance import Instance
from seatplan.models.tables import guarded
from seatplan.solver.backends import Progress
from seatplan.solver.classrooms import Sectioning, section_folder
from seatplan.solver.compare import collect, default_labels, shown_rows, table_rows
from seatplan.solver.explain import COST_TIME_LIMIT, cutoff_table, explain_student
from seatplan.solver.explain.infeasibility import find_conflict
from seatplan.solver.explain.price import price_rules
from seatplan.solver.interrupt import interruptible
from seatplan.solver.result import Result
from seatplan.solver.rosters import write_rosters
from seatplan.solver.runfolder import ID_COLUMNS, read_run
from seatplan.solver.simulate import probabilities as simulation_probabilities
from seatplan.solver.simulate import simulate as simulate_draws
from seatplan.solver.solve import solve as solve_config
from seatplan.solver.status import Status
from seatplan.solver.sweep import read_sweep, run_sweep

PathLike = str | os.PathLike[str]


class SeatplanWarning(UserWarning):
    """Something in the data a planner should know, that does not stop the solve."""


@dataclass(frozen=True, eq=False)
class Scenario:
    """A validated config and the district data it names, as they were when it was loaded."""

    config: Config
    instance: Instance
    overrides: OverridePaths = ()
    #: Seconds it took to read the data (reported in a solve's `seconds.read`).
    read_seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.config.name

    def with_overrides(self, **overrides: Any) -> Scenario:
        """The same config with more overrides (a later one wins). The data are read again only when
        the new config reads them differently (another file, attribute, lottery seed…)."""
        if not overrides:
            return self
        paths = override_paths(overrides, before=self.overrides)
        config = load_config(self.config.source, paths)
        if data_inputs(config) == data_inputs(self.config):
            return Scenario(config, self.instance, paths, self.read_seconds)
        started = time.perf_counter()
        instance = _with_warnings(load_instance(config))
        return Scenario(config, instance, paths, time.perf_counter() - started)

    def __repr__(self) -> str:
        instance = self.instance
        return (
            f"<seatplan Scenario {self.name}: {instance.n_students:,} students, {instance.n_schools:,} schools, "
            f"{instance.n_compacts} compacts>"
        )


def load(config: PathLike, **overrides: Any) -> Scenario:
    """Read and check a config and every data file it names, with `overrides` in place of what the
    file says. Raises ConfigError or DataError carrying every problem (`.problems`, each with its
    file and line), as `seatplan validate` prints them."""
    started = time.perf_counter()
    paths = override_paths(overrides)
    loaded, instance = load_inputs(config, paths)
    return Scenario(loaded, _with_warnings(instance), paths, time.perf_counter() - started)


def _with_warnings(instance: Instance) -> Instance:
    for problem in instance.warnings:
        warnings.warn(str(problem), SeatplanWarning, stacklevel=3)
    return instance


def solve(scenario: Scenario | PathLike, progress: Progress | None = None, **overrides: Any) -> Result:
    """Solve a scenario (or the config at a path), with `overrides`. The result has `.status`,
    `.objective`, `.bound`, `.gap`, `.assignment` (a DataFrame of assignment.csv's columns),
    `.metrics` (metrics.json's dict) and `.save(folder, overwrite=False)`.

    Infeasible or out of time is a status, not an error: `.status` says which, and `.assignment`,
    `.metrics` and `.save()` then raise InfeasibleError or NoSolutionError. `progress`, if given, is
    called with (best objective in cents, proven bound in cents, seconds) as the search improves.

    Ctrl-C (a KeyboardInterrupt in a notebook) during the solve stops the search and returns the
    best found so far, `.interrupted` True; a second one raises KeyboardInterrupt."""
    chosen = scenario.with_overrides(**overrides) if isinstance(scenario, Scenario) else load(scenario, **overrides)
    with interruptible(exit_on_second=False):
        return solve_config(
            chosen.config,
            instance=chosen.instance,
            progress=progress,
            read_seconds=chosen.read_seconds,
            command=_python_call(chosen),
        )


def _python_call(scenario: Scenario) -> str:
    """The call that made a run, for its record: `seatplan.solve('demo.yaml', solver__time_limit=30)`."""
    overrides = [f"{'__'.join(str(part) for part in path)}={value!r}" for path, value in scenario.overrides]
    return f"seatplan.solve({', '.join([repr(str(scenario.config.source)), *overrides])}) in Python"


def audit(
    run: Result | PathLike,
    assignment: pd.DataFrame | PathLike | None = None,
    metrics: Mapping[str, Any] | PathLike | None = None,
) -> Report:
    """The independent audit of a run: a run folder, a Result (saved to a temporary folder first),
    or a config with an `assignment` made anywhere (assignment.csv's columns, as a file or a
    DataFrame) and optionally its metrics (metrics.json, as a file or a dict).

    The report has `.passed`, `.verdicts` (rule -> passed), `.rules` (each with its violations) and
    `.to_text()`. Input the auditor cannot read raises InputError with every problem."""
    try:
        if isinstance(run, Result):
            if assignment is not None or metrics is not None:
                raise TypeError("a Result carries its own assignment and metrics")
            return _audit_result(run)
        if assignment is None:
            if metrics is not None:
                raise TypeError("metrics go with a config and an assignment; a run folder has its own")
            return audit_run(Path(run))
        with tempfile.TemporaryDirectory(prefix="seatplan-audit-") as folder:
            return audit_files(Path(run), _as_file(assignment, folder), _metrics_file(metrics, folder))
    except AuditInputError as error:
        raise InputError(_problems(error.lines())) from None


def _audit_result(result: Result) -> Report:
    with tempfile.TemporaryDirectory(prefix="seatplan-audit-") as folder:
        return audit_run(result.save(Path(folder) / "run"))


def _as_file(assignment: pd.DataFrame | PathLike, folder: str) -> Path:
    if not isinstance(assignment, pd.DataFrame):
        return Path(assignment)
    path = Path(folder) / "assignment.csv"
    # Written as seatplan writes assignment.csv, whose reader takes an id's guard off.
    guarded(assignment, ID_COLUMNS).to_csv(path, index=False)
    return path


def _metrics_file(metrics: Mapping[str, Any] | PathLike | None, folder: str) -> Path | None:
    if metrics is None or isinstance(metrics, str | os.PathLike):
        return None if metrics is None else Path(metrics)
    path = Path(folder) / "metrics.json"
    path.write_text(json.dumps(dict(metrics)), encoding="utf-8")
    return path


def _problems(lines: Iterable[str]) -> list[Problem]:
    """The auditor's `file:line: message` lines as Problems (its own errors share no code)."""
    problems = []
    for line in lines:
        where, _, message = line.partition(": ")
        file, _, number = where.rpartition(":")
        if number.isascii() and number.isdigit() and len(number) <= 18 and file:
            problems.append(Problem(file, int(number), message))
        else:
            problems.append(Problem(where, None, message))
    return problems


def compare(
    runs: Iterable[Result | PathLike] | Mapping[str, Result | PathLike], time_limit: float | None = None
) -> pd.DataFrame:
    """The `seatplan compare` table: one row per measure, one column per run (a run folder, a
    config solved here without writing anything, or a Result; an unsolved one shows its status).
    Students better off, worse off and the same are counted against the first run. Given a mapping,
    its keys name the columns; otherwise a column is named after its run folder, config or Result
    (numbered when two agree)."""
    named = dict(runs) if isinstance(runs, Mapping) else None
    items = list(named.values()) if named is not None else list(runs)
    sources = [run if isinstance(run, Result) else Path(run) for run in items]
    labels = list(named) if named is not None else default_labels(sources)
    columns = collect(sources, time_limit=time_limit, labels=labels)
    # Rows named as in `seatplan compare --format csv`: a term of the objective reads `term: rank`.
    row_labels = [f"term: {label.strip()}" if key.startswith("terms.") else label for label, key in shown_rows(columns)]
    return pd.DataFrame(
        [row[1:] for row in table_rows(columns)],
        index=pd.Index(row_labels, name="metric"),
        columns=labels,
    )


def sections(
    run: PathLike,
    config: PathLike | None = None,
    out: PathLike | None = None,
    overwrite: bool = False,
) -> Sectioning:
    """`seatplan sections`: place every student a run folder places at a school in one of its
    classrooms, with the `sections:` block of `config` (a SECTIONS.yaml) or of the run's own
    config, and write classrooms.csv, sections.json and sections.yaml into the run folder (or into
    a copy of it at `out`). InfeasibleError says why, in words, when it cannot be done."""
    settings = load_section_settings(Path(config)) if config is not None else None
    sectioning, _ = section_folder(Path(run), settings, out=None if out is None else Path(out), overwrite=overwrite)
    return sectioning


def rosters(run: PathLike, families: PathLike | None = None, overwrite: bool = False) -> pd.DataFrame:
    """`seatplan rosters`: what a family is shown before choosing (rosters.csv, written into the
    sectioned run folder), with the display names of the compact families that consent in
    `families` (family_id,display_name,consent)."""
    return write_rosters(Path(run), None if families is None else Path(families), overwrite=overwrite).table


def explain(run: PathLike, student_id: str, time_limit: float = COST_TIME_LIMIT) -> dict[str, Any]:
    """`seatplan explain RUN STUDENT_ID --json`: why a student was placed where it was, as the JSON
    object (`reasons`: one per school listed higher, in list order)."""
    return explain_student(read_run(Path(run)), student_id, time_limit=time_limit).to_json()


def why_infeasible(result: Result, time_limit: float | None = None) -> dict[str, Any] | None:
    """For an infeasible `seatplan.solve` result: the hard rules that collide, as infeasibility.json's
    object (None when the result is not infeasible, or the search did not settle)."""
    if result.status != Status.INFEASIBLE:
        return None
    budget = time_limit if time_limit is not None else min(5 * result.config.solver.time_limit, 600.0)
    conflict = find_conflict(result.config, result.instance, time_limit=budget)
    return None if conflict is None else conflict.to_json(result.config.name)


def cutoffs(run: PathLike) -> pd.DataFrame:
    """`seatplan cutoffs RUN`: per school (and grade) seats, applicants, placed, cutoff, waitlist."""
    return cutoff_table(read_run(Path(run)))


def price_of_rules(run: PathLike, jobs: int | None = None, time_limit: float | None = None) -> pd.DataFrame:
    """`seatplan explain RUN --rules`: the plan re-solved with each rule in force off, side by side."""
    return price_rules(read_run(Path(run)), jobs=jobs, time_limit=time_limit).frame


def sweep(
    sweep_file: PathLike, out: PathLike | None = None, jobs: int | None = None, dask: str | None = None
) -> pd.DataFrame:
    """`seatplan sweep`: every point of a sweep file solved (or read from its cache), as the
    points.csv table (written into `out`, default runs/<sweep file stem>)."""
    path = Path(sweep_file)
    folder = Path(out) if out is not None else Path("runs") / path.stem
    return run_sweep(read_sweep(path), folder, jobs=jobs, dask=dask)


def simulate(config: PathLike, draws: int = 100, jobs: int | None = None, dask: str | None = None) -> pd.DataFrame:
    """`seatplan simulate` without writing files: every (student, school) chance over `draws`
    lottery draws, as probabilities.csv's table."""
    settings, instance = load_inputs(Path(config))
    return simulation_probabilities(instance, simulate_draws(settings, instance, draws, jobs=jobs, dask=dask))


__all__ = [
    "PathLike",
    "Scenario",
    "SeatplanWarning",
    "audit",
    "compare",
    "cutoffs",
    "explain",
    "price_of_rules",
    "load",
    "rosters",
    "sections",
    "simulate",
    "solve",
    "sweep",
    "why_infeasible",
]
