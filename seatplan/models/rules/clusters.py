"""Community clusters.

hard (rule 5): a student with a home cluster has no option at a school of another cluster; citywide
schools (no cluster) stay open, and compact placements are exempt. The options are closed where
they are made (the placement rule asks `allows`), so no row is needed.
soft: outside_cluster (cents) = 100·w · Σ_{options (s,j): home(s) set, cluster(j) set, cluster(j) ≠ home(s)} assign[s,j]
Compact seats are exempt in both modes: compacts are citywide.
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.ir import term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Shortcut, register


def outside_cluster(instance: Instance, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """Whether each (student, school) pair places the student outside its home cluster."""
    home = instance.home_cluster[students]
    cluster = instance.school_cluster[schools]
    return (home >= 0) & (cluster >= 0) & (cluster != home)


class Clusters(Rule):
    """Keep students in their home cluster (hard) or prefer it (soft)."""

    name = "clusters"
    section = "clusters"
    terms = ("outside_cluster",)
    order = 50

    def active(self, config: Config, instance: Instance) -> bool:
        mode = config.clusters.mode
        return mode == "hard" or (mode == "soft" and config.objective.outside_cluster > 0)

    def hard(self, config: Config) -> list[str]:
        return ["clusters.mode"] if config.clusters.mode == "hard" else []

    def describe(self, config: Config, instance: Instance) -> list[str]:
        mode = config.clusters.mode
        if mode == "hard":
            return ["Students are placed only in their home cluster or at a citywide school (compacts are citywide)."]
        if mode == "soft" and config.objective.outside_cluster > 0:
            return [
                f"Each student placed at a school outside their home cluster costs "
                f"{config.objective.outside_cluster:g} (compacts are citywide)."
            ]
        return []

    def allows(self, config: Config, instance: Instance, student: np.ndarray, school: np.ndarray) -> np.ndarray | None:
        if config.clusters.mode != "hard":
            return None
        return ~outside_cluster(instance, student, school)

    def build(self, build: Build) -> None:
        if build.config.clusters.mode != "soft":
            return
        seats = build.seats
        outside = seats.is_option & outside_cluster(build.instance, seats.student, seats.school)
        build.formulation.add_term(
            term_from_pairs(
                "outside_cluster",
                seats.var[outside],
                np.full(int(outside.sum()), 100 * build.config.objective.outside_cluster, np.int64),
            )
        )

    def measure(self, outcome: Outcome) -> Measures:
        if outcome.config.clusters.mode != "soft":
            return Measures(terms={"outside_cluster": 0})
        students = np.flatnonzero(outcome.placed & ~outcome.through_compact)
        count = int(outside_cluster(outcome.instance, students, outcome.school[students]).sum())
        return Measures(terms={"outside_cluster": 100 * outcome.config.objective.outside_cluster * count})

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        # Closed options and a cost per option keep the flow a flow, and leave the lists and orders
        # stability is judged by as they are (the window holds). But deferred acceptance's matching
        # may use a closed option, or cost more: no student-optimal shortcut.
        return shortcut in (Shortcut.TRANSPORTATION, Shortcut.STABLE_WINDOW)


CLUSTERS = register(Clusters())
