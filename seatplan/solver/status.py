"""What a solve proved, in one word, decided in one place.

The status is ours, not the solver's: `optimal` only when a proven lower bound meets the objective
(objectives are whole cents, so a bound within one cent is a proof); `feasible` with the bound and
gap otherwise.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """The status of a solve, as metrics.json and the terminal say it."""

    #: The objective equals a proven lower bound: no assignment costs less.
    OPTIMAL = "optimal"
    #: The best assignment found; `bound` and `gap` say how far from optimal it can be.
    FEASIBLE = "feasible"
    #: The assignment of a stable mechanism (deferred acceptance, schools proposing): no
    #: optimisation, no bound.
    STABLE = "stable"
    #: The assignment of a mechanism that is not stable (immediate acceptance, top trading cycles).
    ASSIGNED = "assigned"
    #: The hard rules cannot all hold.
    INFEASIBLE = "infeasible"
    #: No assignment was found in the time limit.
    NO_SOLUTION = "no_solution"

    @property
    def solved(self) -> bool:
        """An assignment exists: by the program (optimal, feasible) or by a mechanism (stable, assigned)."""
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.STABLE, Status.ASSIGNED)


def of_solution(objective: int, bound: int | None) -> Status:
    """The status of a solution worth `objective` cents with a proven lower bound of `bound` cents."""
    return Status.OPTIMAL if bound is not None and bound >= objective else Status.FEASIBLE
