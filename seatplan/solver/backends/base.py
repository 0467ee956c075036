"""What every backend takes and gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver.status import Status

#: Called with (best objective in cents or None, best bound in cents or None, seconds elapsed).
Progress = Callable[[float | None, float | None, float], None]


@dataclass(frozen=True)
class SolveSettings:
    """Solver-independent limits."""

    time_limit: float = 60.0
    gap: float = 0.0
    workers: int = 2
    seed: int = 0


@dataclass
class BackendResult:
    """What a backend found. `claim` is the solver's own word; solve.py decides what was proven."""

    backend: str
    claim: Status  # optimal | feasible | infeasible | no_solution
    values: np.ndarray | None = None
    bound: float | None = None  # best proven lower bound of the objective, in cents
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)
    #: Row prices behind a bound, with the program (a relaxation of this one, on the same variables)
    #: whose rows they price: reduced costs from them fix variables no optimum uses (canonical.py).
    prices: tuple[Formulation, np.ndarray] | None = None
    #: The program with the solve's exact closures (the stable window: bounds no optimum needs), on
    #: the same variables, when it has any: the tie-break phase starts from it (canonical.py).
    closed: Formulation | None = None
