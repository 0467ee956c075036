"""seatplan: place students in schools from ranked choices — with parent compacts, community
clusters and diversity bands — as one integer program, and audit any assignment independently.

The Python API (see seatplan/api.py and the README):

    import seatplan
    result = seatplan.solve("configs/demo.yaml", solver__time_limit=30)
    result.status, result.objective, result.assignment
    result.save("runs/demo")
    seatplan.audit("runs/demo").passed
    seatplan.compare(["runs/deferred_acceptance", "runs/demo"])
    seatplan.sections("runs/demo", config="configs/sections.yaml")   # the classroom stage
    seatplan.rosters("runs/demo", families="configs/demo/families.csv")
    seatplan.explain("runs/demo", "S000008")                         # why, for a family
    seatplan.cutoffs("runs/deferred_acceptance")                     # demand and cutoffs
    seatplan.price_of_rules("runs/demo")                             # the price of every rule
    seatplan.sweep("configs/sweeps/demo_weights.yaml")               # many settings, one table
    seatplan.simulate("configs/scenarios/deferred_acceptance.yaml", draws=500)   # a family's chances
"""

from seatplan.api import (
    Scenario,
    SeatplanWarning,
    audit,
    compare,
    cutoffs,
    explain,
    load,
    price_of_rules,
    rosters,
    sections,
    simulate,
    solve,
    sweep,
    why_infeasible,
)
from seatplan.auditor import Report
from seatplan.models.errors import (
    BackendUnavailable,
    ConfigError,
    DataError,
    InfeasibleError,
    InputError,
    NoSolutionError,
    SeatplanError,
)
from seatplan.solver.result import Result
from seatplan.solver.status import Status

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "ConfigError",
    "DataError",
    "InfeasibleError",
    "InputError",
    "NoSolutionError",
    "Report",
    "Result",
    "Scenario",
    "SeatplanError",
    "SeatplanWarning",
    "Status",
    "audit",
    "compare",
    "cutoffs",
    "explain",
    "load",
    "price_of_rules",
    "rosters",
    "sections",
    "simulate",
    "solve",
    "sweep",
    "why_infeasible",
]
