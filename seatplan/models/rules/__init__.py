"""One module per rule family, each ending with its one registered `Rule` object (see base.py).

Importing this package imports every rule module, so `RULES` holds them all, in their order.
"""

from seatplan.models.rules.base import (
    RULES,
    Build,
    Measures,
    Outcome,
    Rule,
    Seats,
    Shortcut,
    load_rules,
    register,
)

load_rules()

__all__ = ["RULES", "Build", "Measures", "Outcome", "Rule", "Seats", "Shortcut", "register"]
