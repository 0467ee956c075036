"""One solve's result: its status, the assignment (when there is one), its figures, and how it was
reached. The same object the CLI prints and writes, and the one `seatplan.solve` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.errors import InfeasibleError, NoSolutionError, SeatplanError
from seatplan.models.evaluate import Evaluation
from seatplan.models.instance import Instance
from seatplan.models.rules import RULES
from seatplan.solver.classrooms import Sectioning
from seatplan.solver.classrooms import write as write_sections
from seatplan.solver.metrics import build_metrics
from seatplan.solver.run import assignment_columns, write_run
from seatplan.solver.status import Status


@dataclass(eq=False)
class Result:
    """One solve. `status` says only what was proven (see solver/status.py)."""

    config: Config
    instance: Instance
    status: Status
    backend: str
    placement: Assignment | None = None
    evaluation: Evaluation | None = None
    bound_cents: int | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    fallback: str | None = None
    model_size: dict[str, int] = field(default_factory=dict)
    #: (seconds since the solve began, best objective, best bound) at each improvement, in
    #: objective units: how the search went, for planners and for benchmarks/.
    trajectory: list[tuple[float, float | None, float | None]] = field(default_factory=list)
    #: How the run was asked for (a command line, or the Python call), for the record.
    command: str | None = None
    #: The classroom stage, when the config has a `sections:` block (solver/classrooms.py); or why
    #: it could not be done (raised by save(): nothing is written).
    sectioning: Sectioning | None = None
    section_error: SeatplanError | None = None
    #: Stopped by a signal (Ctrl-C, SIGTERM) before its time limit: the best found so far
    #: (solver/interrupt.py).
    interrupted: bool = False
    #: How the optimum was chosen among equal ones: "canonical" (solver/canonical.py), "not proven"
    #: (the second phase ran out of time), or None (not optimal, or solver.tie_break: off).
    tie_break: str | None = None

    @property
    def solved(self) -> bool:
        """An assignment was found: by the program (optimal, feasible) or by deferred acceptance (stable)."""
        return self.status.solved

    @property
    def objective(self) -> float | None:
        return None if self.evaluation is None else self.evaluation.objective / 100

    @property
    def bound(self) -> float | None:
        return None if self.bound_cents is None else self.bound_cents / 100

    @property
    def gap(self) -> float | None:
        """Relative gap (objective − bound) / max(1, |objective|), in objective units; 0 when optimal."""
        if self.objective is None or self.bound is None:
            return None
        return max(0.0, self.objective - self.bound) / max(1.0, abs(self.objective))

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """What metrics.json holds (computed once)."""
        self.require_solution()
        return build_metrics(self)

    @property
    def assignment(self) -> pd.DataFrame:
        """assignment.csv as a DataFrame: student_id, school_id (missing when unplaced), position
        (missing when unplaced or not on the list), compact_id (set for a placement through a compact)."""
        self.require_solution()
        _, school, position, compact = assignment_columns(self)
        return pd.DataFrame(
            {
                "student_id": pd.array(self.instance.student_ids.astype(str), dtype="string"),
                "school_id": pd.array([s or None for s in school.to_pylist()], dtype="string"),
                "position": pd.array([int(p) if p else None for p in position.to_pylist()], dtype="Int64"),
                "compact_id": pd.array([c or None for c in compact.to_pylist()], dtype="string"),
            }
        )

    def require_solution(self) -> None:
        """Raise the matching SeatplanError when there is no assignment (infeasible, no solution)."""
        if self.status == Status.INFEASIBLE:
            raise InfeasibleError(infeasible_message(self))
        if not self.solved:
            raise NoSolutionError(
                f"{self.config.name}: no solution found within {self.config.solver.time_limit:g} s "
                f"({self.backend}). Raise solver.time_limit or --time-limit. No run folder was written."
            )

    def save(self, folder: str | Path, overwrite: bool = False, report: bool = False) -> Path:
        """Write the run folder (assignment.csv, metrics.json, config.yaml, solver.log, the
        classroom stage's files when the config has one, and with `report` the HTML report) whole,
        or not at all; an existing folder is replaced only with `overwrite`."""
        self.require_solution()
        if self.section_error is not None:
            raise self.section_error
        sectioning = self.sectioning
        extra = None if sectioning is None else (lambda staging, final: write_sections(sectioning, staging, final))
        return write_run(self, Path(folder), overwrite=overwrite, report=report, extra=extra)

    def __repr__(self) -> str:
        objective = "" if self.objective is None else f", objective={self.objective:,.2f}"
        bound = "" if self.bound is None else f", bound={self.bound:,.2f}"
        return f"<seatplan Result {self.config.name}: {self.status}{objective}{bound}>"


def infeasible_message(result: Result) -> str:
    """Which hard rules are in force, for a planner who has to relax one."""
    return (
        f"{result.config.name}: infeasible — the hard rules cannot all hold at once "
        f"(proven by {result.backend}). Relax one of the hard rules in force "
        f"({'; '.join(hard_rules(result.config))}) and solve again. No run folder was written."
    )


def hard_rules(config: Config) -> list[str]:
    """The config's hard settings, by their keys, for the infeasible message (each rule says its own)."""
    return RULES.hard(config) or ["none is hard: please report this as a bug"]
