"""What every rule family declares, and the registry that holds them.

A rule family is one object, registered once at the end of its module in `models/rules/`:

- `name`, its config `section` and the objective `terms` it adds (reported in registry order);
- `active(config, instance)`: whether the config (and data) switch it on;
- `allows(...)`: which (student, school) placements it leaves open, when it closes some outright;
- `build(build)`: its variables, rows (each block with its role) and terms;
- `measure(outcome)`: its terms of an assignment, in cents, computed in domain words from the
  assignment itself (never from the solver's variables), and the figures metrics.json reports;
- `supports(shortcut, ...)`: whether the solver's shortcut stays exact with it active. A rule that
  does not say (`None`, the default) refuses every shortcut: an undeclared rule can make seatplan
  slower, never wrong.

Everything that lists rules — the terms, the evaluation, the shortcuts' conditions — reads the
registry, so adding a rule family is its module, its twin in auditor/, its tests and its README row.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import SECTIONS, Config
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation


class Shortcut(StrEnum):
    """An exact shortcut of the solver, valid only while every active rule supports it."""

    #: The program is a transportation problem: one min-cost flow is its optimum, with a proof.
    TRANSPORTATION = "transportation"
    #: Under `stability: hard`, deferred acceptance's matching (the student-optimal stable one) is
    #: the optimum: every stable matching places the same students, each at least as well there.
    STUDENT_OPTIMAL = "student_optimal"
    #: Under `stability: hard`, a placement outside the window between the student-optimal and the
    #: school-optimal stable matchings is closed, and one stable matching left is the only answer:
    #: exact while no rule places students off their lists or changes whom schools prefer
    #: (compacts are bracketed: see pipeline.stable_window).
    STABLE_WINDOW = "stable_window"


@dataclass(frozen=True)
class Seats:
    """The incidence of variables on (student, school): every quantity the rules count is a sum of these."""

    var: np.ndarray  # (E,) variable index
    student: np.ndarray  # (E,)
    school: np.ndarray  # (E,)
    compact: np.ndarray  # (E,) compact index for compact seats, -1 for an option
    position: np.ndarray  # (E,) position of the school in the student's list, 0 when not listed
    assign_start: int
    n_options: int
    compact_start: int
    n_compacts: int

    @property
    def is_option(self) -> np.ndarray:
        return self.compact < 0


def pair_vars(seats: Seats, n_schools: int, student: np.ndarray, school: np.ndarray) -> np.ndarray:
    """The option variable of each (student, school) pair, -1 when the model has none (the student
    cannot be placed there through its list)."""
    option = seats.is_option
    out = np.full(len(student), -1, np.int64)
    if not option.any() or not len(student):
        return out
    keys = seats.student[option] * n_schools + seats.school[option]
    order = np.argsort(keys)
    wanted = np.asarray(student, np.int64) * n_schools + np.asarray(school, np.int64)
    at = np.minimum(np.searchsorted(keys[order], wanted), len(order) - 1)
    found = keys[order][at] == wanted
    out[found] = seats.var[option][order][at][found]
    return out


@dataclass
class Build:
    """What the rules build into: the data, the config, the formulation so far, the active rules
    (in registry order) and, once the placement rule has made them, the seats."""

    instance: Instance
    config: Config
    formulation: Formulation
    rules: tuple[Rule, ...]
    _seats: Seats | None = None

    @property
    def seats(self) -> Seats:
        if self._seats is None:
            raise RuntimeError("the placement rule builds first: it makes the seats every other rule counts")
        return self._seats

    @seats.setter
    def seats(self, seats: Seats) -> None:
        self._seats = seats


def honored_compacts(instance: Instance, assignment: Assignment) -> np.ndarray:
    """A compact is honored when every member is placed at its school through it (a mechanism that
    ignores compacts, like deferred acceptance, may put them all there by their own lists: that is
    not a compact honored)."""
    members = np.flatnonzero(instance.compact_of_student >= 0)
    compact = instance.compact_of_student[members]
    at_school = (assignment.school[members] == instance.compact_school[compact]) & assignment.via_compact[members]
    missing = np.bincount(compact[~at_school], minlength=instance.n_compacts)
    return missing == 0


@dataclass(frozen=True)
class Outcome:
    """An assignment as every rule reads it: who is placed, at which position of their own list,
    which compacts are honored and who is placed through one."""

    instance: Instance
    config: Config
    assignment: Assignment
    placed: np.ndarray  # (S,) bool
    positions: np.ndarray  # (S,) position of the school in the student's own list; 0 if none or unlisted
    honored: np.ndarray  # (C,) bool
    through_compact: np.ndarray  # (S,) bool: placed at its compact's school through the honored compact

    @classmethod
    def of(cls, instance: Instance, config: Config, assignment: Assignment) -> Outcome:
        school = assignment.school
        placed = school >= 0
        honored = honored_compacts(instance, assignment)
        compact = instance.compact_of_student
        through = placed & (compact >= 0)
        through[through] = honored[compact[through]] & (school[through] == instance.compact_school[compact[through]])
        return cls(instance, config, assignment, placed, instance.positions_of(school), honored, through)

    @property
    def school(self) -> np.ndarray:
        return self.assignment.school


@dataclass(frozen=True)
class Measures:
    """A rule's terms of an assignment (cents, by term name) and its figures for metrics.json."""

    terms: Mapping[str, int] = field(default_factory=dict)
    figures: Mapping[str, Any] = field(default_factory=dict)


class Rule:
    """One rule family. Subclasses set the class attributes and override what they use."""

    #: The rule's name, as in the README's table.
    name: ClassVar[str]
    #: The config section it reads, or None when it has none of its own.
    section: ClassVar[str | None] = None
    #: The objective terms it adds, in the order they are reported.
    terms: ClassVar[tuple[str, ...]] = ()
    #: Where it stands in the registry: rules build, and terms are reported, in this order.
    order: ClassVar[int]

    def active(self, config: Config, instance: Instance) -> bool:
        """Whether the config (and the data) switch the rule on."""
        return True

    def allows(self, config: Config, instance: Instance, student: np.ndarray, school: np.ndarray) -> np.ndarray | None:
        """Of the candidate placements (student, school), the ones this rule leaves open (a mask), or
        None when it closes none outright. Asked of active rules before any variable exists."""
        return None

    def build(self, build: Build) -> None:
        """Add the rule's variables, rows and objective terms."""

    def measure(self, outcome: Outcome) -> Measures:
        """The rule's terms of an assignment (0 when switched off) and its figures, in domain words."""
        return Measures()

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        """Whether `shortcut` stays exact while this rule is active; None when not declared (refused)."""
        return None

    def hard(self, config: Config) -> list[str]:
        """The config keys that make this rule hard (so that it can make a config infeasible), as a
        planner would relax them: `stability.mode`, `diversity[1].mode`."""
        return []

    def describe(self, config: Config, instance: Instance) -> list[str]:
        """The rule as it is in force, in plain words for a board or a family (none when it is off)."""
        return []


class Registry:
    """The rule families, in their order."""

    def __init__(self) -> None:
        self._rules: list[Rule] = []

    def add(self, rule: Rule) -> Rule:
        if any(known.name == rule.name for known in self._rules):
            raise ValueError(f"a rule named {rule.name!r} is registered already")
        clashing = [term for known in self._rules for term in known.terms if term in rule.terms]
        if clashing:
            raise ValueError(f"rule {rule.name!r} adds terms another rule adds: {', '.join(clashing)}")
        self._rules.append(rule)
        self._rules.sort(key=lambda known: known.order)
        return rule

    def remove(self, rule: Rule) -> None:
        self._rules.remove(rule)

    def __iter__(self) -> Iterator[Rule]:
        return iter(tuple(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def named(self, name: str) -> Rule:
        for rule in self._rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    def terms(self) -> tuple[str, ...]:
        """Every objective term, in the order they are reported."""
        return tuple(term for rule in self._rules for term in rule.terms)

    def active(self, config: Config, instance: Instance) -> tuple[Rule, ...]:
        return tuple(rule for rule in self._rules if rule.active(config, instance))

    def describe(self, config: Config, instance: Instance) -> list[str]:
        """Every rule in force, in plain words, in registry order."""
        return [line for rule in self._rules for line in rule.describe(config, instance)]

    def hard(self, config: Config) -> list[str]:
        """Every hard setting in force, by its config key, in registry order."""
        return [key for rule in self._rules for key in rule.hard(config)]

    def refusing(self, shortcut: Shortcut, config: Config, instance: Instance) -> list[str]:
        """The active rules that do not support `shortcut` (empty: the shortcut is exact)."""
        return [
            rule.name for rule in self.active(config, instance) if rule.supports(shortcut, config, instance) is not True
        ]

    @contextmanager
    def registered(self, rule: Rule) -> Iterator[Rule]:
        """`rule` in the registry for the duration (for tests and experiments)."""
        self.add(rule)
        try:
            yield rule
        finally:
            self.remove(rule)


#: Every rule family. Each rule module adds its one object when imported; `load_rules` imports them all.
RULES = Registry()


def register(rule: Rule) -> Rule:
    """Add a rule family to the registry (at the end of its module)."""
    return RULES.add(rule)


def load_rules() -> Registry:
    """Import every module of models/rules/, so that each registers its rule (and its config
    section); returns the registry. Config sections are then put in the rules' order."""
    package = importlib.import_module("seatplan.models.rules")
    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "base":
            importlib.import_module(f"seatplan.models.rules.{module.name}")
    order = {rule.section: number for number, rule in enumerate(RULES)}
    ordered = sorted(SECTIONS.items(), key=lambda item: order.get(item[0], len(RULES) + 1))
    SECTIONS.clear()
    SECTIONS.update(ordered)
    return RULES
