"""Placement: which (student, school) placements exist, and rule 1 of the model.

Variables
    assign[s, j] ∈ {0, 1}   for each school j on student s's list (an *option*) that every active
                            rule allows (e.g. not the compact school of a compact member, whose
                            placement there is `compact[c]`; not outside the home cluster when
                            clusters are hard; not where the student's grade has no seat).
    compact[c] ∈ {0, 1}     1 when compact c is honored: every member placed at its school (rule 3).

A *seat* is one (variable, student, school) incidence: one per option, and one per compact member
on `compact[c]`. Every count the model makes — students at a school, in a cluster, in a category,
placed at all — is a sum over seats, so every later rule is written once over seats.

Rule 1 (placed at most once), for each student s with more than one seat:
    Σ_{seats e of s} x[e] ≤ 1
Objective terms (in cents, ×100):
    rank       = 100·w_rank · Σ_{options (s,j)} (position(s,j) − 1) · assign[s,j]   (compact seats cost 0)
    unassigned = 100·w_unassigned · (N − Σ_e x[e])
"""

from __future__ import annotations

import numpy as np

from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.ir import Role, labels_from, rows_from_triplets, term_from_pairs
from seatplan.models.rules.base import Build, Measures, Outcome, Rule, Seats, Shortcut, register


def options(build: Build) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (student, school, position) options that get an `assign` variable: every listed school
    that each active rule allows."""
    instance = build.instance
    student = instance.pref_student()
    school = instance.pref_school
    position = instance.pref_position()
    keep = np.ones(len(student), dtype=bool)
    for rule in build.rules:
        allowed = rule.allows(build.config, instance, student, school)
        if allowed is not None:
            keep &= allowed
    return student[keep], school[keep], position[keep]


class Placement(Rule):
    """Rule 1 and the rank and unassigned terms; it makes the variables every other rule counts."""

    name = "placement"
    section = None
    terms = ("rank", "unassigned")
    order = 10

    def build(self, build: Build) -> None:
        instance, model = build.instance, build.formulation
        student, school, position = options(build)
        ids, sids = instance.student_ids, instance.school_ids
        assign_start = model.add_variables(
            "assign",
            len(student),
            0,
            1,
            lambda i: f"student={ids[student[i]]},school={sids[school[i]]}",
        )
        n_compacts = instance.n_compacts
        compact_start = model.add_variables(
            "compact",
            n_compacts,
            0,
            1,
            labels_from(
                instance.compact_ids,
                sids[instance.compact_school] if n_compacts else [],
                keys=("compact", "school"),
            ),
        )
        members = np.flatnonzero(instance.compact_of_student >= 0)
        member_compact = instance.compact_of_student[members]
        member_school = instance.compact_school[member_compact]
        seats = Seats(
            var=np.concatenate([assign_start + np.arange(len(student)), compact_start + member_compact]),
            student=np.concatenate([student, members]),
            school=np.concatenate([school, member_school]),
            compact=np.concatenate([np.full(len(student), -1), member_compact]),
            position=np.concatenate([position, instance.list_position(members, member_school)]),
            assign_start=assign_start,
            n_options=len(student),
            compact_start=compact_start,
            n_compacts=n_compacts,
        )
        build.seats = seats
        _one_school_rows(instance, build, seats)
        weights = build.config.objective
        option = seats.is_option
        model.add_term(term_from_pairs("rank", seats.var[option], 100 * weights.rank * (seats.position[option] - 1)))
        model.add_term(
            term_from_pairs(
                "unassigned",
                seats.var,
                np.full(len(seats.var), -100 * weights.unassigned, np.int64),
                constant=100 * weights.unassigned * instance.n_students,
            )
        )

    def describe(self, config: Config, instance: Instance) -> list[str]:
        weights = config.objective
        return [
            "Every student is placed at most once, at a school on its family's list (or, in a parent compact, "
            "at the compact's school).",
            f"Each step down a family's list costs {weights.rank:g}; a student left without a school costs "
            f"{weights.unassigned:g}.",
        ]

    def measure(self, outcome: Outcome) -> Measures:
        weights = outcome.config.objective
        ranked = outcome.placed & ~outcome.through_compact
        return Measures(
            terms={
                "rank": 100 * weights.rank * int((outcome.positions[ranked] - 1).sum()),
                "unassigned": 100 * weights.unassigned * int((~outcome.placed).sum()),
            }
        )

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        if shortcut == Shortcut.STUDENT_OPTIMAL:
            # Every stable matching places the same students (unassigned is one constant) and
            # deferred acceptance places each student at least as well as any other: rank, a
            # non-negative weight times positions, is least there.
            return config.objective.rank >= 0
        # The transportation core itself; its options are the students' own lists.
        return shortcut in (Shortcut.TRANSPORTATION, Shortcut.STABLE_WINDOW)


def _one_school_rows(instance: Instance, build: Build, seats: Seats) -> None:
    """Rule 1: at most one seat per student (a student with a single seat is bounded by its variable)."""
    per_student = np.bincount(seats.student, minlength=instance.n_students)
    needs_row = per_student[seats.student] > 1
    rows_of = np.cumsum(per_student > 1) - 1
    chosen = np.flatnonzero(per_student > 1)
    ids = instance.student_ids
    build.formulation.add_rows(
        rows_from_triplets(
            "one_school",
            Role.ASSIGNMENT,
            len(chosen),
            rows_of[seats.student[needs_row]],
            seats.var[needs_row],
            np.ones(int(needs_row.sum()), np.int64),
            -np.inf,
            1,
            lambda r: f"student={ids[chosen[r]]}",
        )
    )


PLACEMENT = register(Placement())
