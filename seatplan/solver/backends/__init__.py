"""Backends translate the neutral form (models.ir) to a solver's native model and back to raw values.

No domain words here: a backend sees variables, rows and an integer objective, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from seatplan.models.ir import Formulation
from seatplan.solver.backends import cpsat, highs, pulp
from seatplan.solver.backends.base import BackendResult, Progress, SolveSettings

__all__ = ["BackendResult", "Progress", "SolveSettings", "get_backend"]

#: A backend's solve: (formulation, settings, hint, progress) -> BackendResult.
SolveFunction = Callable[[Formulation, SolveSettings, "np.ndarray | None", "Progress | None"], BackendResult]

#: Backends by name. Each imports its solver only when it runs, so a missing one is reported then.
BACKENDS: dict[str, SolveFunction] = {
    "cpsat": cpsat.solve,
    "pulp": pulp.solve_cbc,
    "pulp_cbc": pulp.solve_cbc,
    "pulp_highs": pulp.solve_highs,
    "highs": highs.solve,
}


def get_backend(name: str) -> SolveFunction:
    """The `solve` function of a backend by name: cpsat, pulp (CBC via PuLP), pulp_highs, highs."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}")
    return BACKENDS[name]
