"""What the report's sections share: the runs, side by side on one district, and each student's
outcome in each run."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from seatplan.models.config import DiversityRule
from seatplan.models.errors import InputError, Problem
from seatplan.models.instance import Instance
from seatplan.solver.runfolder import RunFolder

#: A student's outcome as a number, smaller is better: its position on its own list; 0 for a place
#: through its compact at a school it did not list (its family's own choice); UNPLACED when it has
#: no school (as `compare` counts it).
UNPLACED = 10**6


@dataclass(frozen=True)
class Category:
    """A group a diversity rule names: the students whose `attribute` is `category`."""

    attribute: str
    category: str

    @property
    def label(self) -> str:
        return f"{self.attribute} = {self.category}"


@dataclass(frozen=True, eq=False)
class District:
    """The runs of one district (the same students and schools), the first being the reference."""

    runs: tuple[RunFolder, ...]

    @classmethod
    def of(cls, runs: list[RunFolder]) -> District:
        first = runs[0].instance
        for run in runs[1:]:
            same = np.array_equal(run.instance.student_ids, first.student_ids) and np.array_equal(
                run.instance.school_ids, first.school_ids
            )
            if not same:
                raise InputError(
                    [
                        Problem(
                            str(run.path),
                            None,
                            f"expected a run of the same district as {runs[0].path} (the same students and schools, "
                            f"in the same order) to show them side by side; report it on its own",
                        )
                    ]
                )
        labels = [run.label for run in runs]
        if len(set(labels)) != len(labels):
            raise InputError([Problem(str(run.path), None, "expected runs with different names") for run in runs[1:]])
        return cls(tuple(runs))

    @property
    def instance(self) -> Instance:
        return self.runs[0].instance

    @property
    def several(self) -> bool:
        return len(self.runs) > 1

    @cached_property
    def categories(self) -> tuple[Category, ...]:
        """Every (attribute, category) a diversity rule of any run names, in the order first named."""
        named = [Category(rule.attribute, rule.category) for run in self.runs for rule in run.config.diversity]
        return tuple(dict.fromkeys(named))

    @cached_property
    def rules(self) -> tuple[tuple[DiversityRule, Instance], ...]:
        """Every diversity rule of any run (the first run's first), with the data of a run that names
        it (its attribute is read there); the same rule in several runs is listed once."""
        found: dict[tuple[object, ...], tuple[DiversityRule, Instance]] = {}
        for run in self.runs:
            for rule in run.config.diversity:
                key = (rule.attribute, rule.category, rule.scope, rule.band, rule.around_district, rule.mode)
                found.setdefault(key, (rule, run.instance))
        return tuple(found.values())

    def members(self, category: Category) -> np.ndarray:
        """Whether each student is in the category (its attribute's text equals the category)."""
        for run in self.runs:
            values = run.instance.attributes.get(category.attribute)
            if values is not None:
                return np.asarray(values == category.category, dtype=bool)
        raise KeyError(category.attribute)  # every named attribute is read by the run that names it

    def outcome(self, run: RunFolder) -> np.ndarray:
        """Each student's outcome in `run`: its position, 0 for an unlisted compact school, UNPLACED."""
        return np.where(run.placed, run.position, UNPLACED)
