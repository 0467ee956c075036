"""Backends translate the neutral form (models.ir) to a solver's native model and back to raw values.

No domain words here: a backend sees variables, rows and an integer objective, nothing else.
"""

from __future__ import annotations

from seatplan.solver.backends.base import BackendResult, Progress, SolveSettings

__all__ = ["BackendResult", "Progress", "SolveSettings", "get_backend"]


def get_backend(name: str):  # noqa: ANN201 - returns a module-level solve function
    """The `solve` function of a backend by name: cpsat, pulp (CBC via PuLP), pulp_highs, highs."""
    if name == "cpsat":
        from seatplan.solver.backends import cpsat

        return cpsat.solve
    if name in ("pulp", "pulp_cbc"):
        from seatplan.solver.backends import pulp

        return pulp.solve_cbc
    if name == "pulp_highs":
        from seatplan.solver.backends import pulp

        return pulp.solve_highs
    if name == "highs":
        from seatplan.solver.backends import highs

        return highs.solve
    raise ValueError(f"unknown backend {name!r}")
