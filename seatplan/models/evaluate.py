"""An assignment measured in domain words: the objective's terms and every rule's figures.

Each registered rule measures the assignment itself, from the data, not from the solver's variables;
the solve checks that the two agree to the cent, so a formulation that says one thing and counts
another fails. The figures are what metrics.json, the terminal summary and `compare` report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.rules import RULES, Outcome


@dataclass(frozen=True)
class Evaluation:
    """The terms of the objective in cents (every registered term, in order), each rule's figures,
    and the outcome they were measured on."""

    terms: dict[str, int]
    figures: Mapping[str, Any]
    outcome: Outcome

    @property
    def objective(self) -> int:
        return sum(self.terms.values())

    @property
    def positions(self) -> np.ndarray:
        return self.outcome.positions

    @property
    def honored(self) -> np.ndarray:
        return self.outcome.honored

    @property
    def through_compact(self) -> np.ndarray:
        return self.outcome.through_compact


def evaluate(instance: Instance, config: Config, assignment: Assignment) -> Evaluation:
    """Every rule's terms (cents) and figures for `assignment`, straight from the rules' definitions."""
    outcome = Outcome.of(instance, config, assignment)
    terms = dict.fromkeys(RULES.terms(), 0)
    figures: dict[str, Any] = {}
    for rule in RULES:
        measures = rule.measure(outcome)
        unknown = set(measures.terms) - set(rule.terms)
        if unknown:
            raise RuntimeError(f"rule {rule.name} measured terms it does not declare: {', '.join(sorted(unknown))}")
        terms.update(measures.terms)
        repeated = set(measures.figures) & set(figures)
        if repeated:
            raise RuntimeError(f"rule {rule.name} reports figures another rule reports: {', '.join(sorted(repeated))}")
        figures.update(measures.figures)
    return Evaluation(terms, figures, outcome)
