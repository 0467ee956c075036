"""Placement: which (student, school) placements exist, and rule 1 of the model.

Variables
    assign[s, j] ∈ {0, 1}   for each school j on student s's list (an *option*), except
                            - the compact school of a compact member (that placement is `compact[c]`),
                            - schools outside the home cluster when clusters are hard (rule 5),
                            - schools with no seat in the student's grade (they could never hold it).
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

from dataclasses import dataclass

import numpy as np

from seatplan.models.config import Config
from seatplan.models.data import Instance
from seatplan.models.ir import Formulation, labels_from, rows_from_triplets, term_from_pairs


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


def options(instance: Instance, config: Config) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (student, school, position) options that get an `assign` variable."""
    student = instance.pref_student()
    school = instance.pref_school
    position = instance.pref_position()
    keep = instance.capacity[school, instance.grade[student]] > 0
    member_of = instance.compact_of_student[student]
    in_compact = member_of >= 0
    if in_compact.any():
        compact_school = instance.compact_school[member_of[in_compact]]
        keep[in_compact] &= school[in_compact] != compact_school
    if config.clusters.mode == "hard":
        home = instance.home_cluster[student]
        cluster = instance.school_cluster[school]
        keep &= (home < 0) | (cluster < 0) | (cluster == home)
    return student[keep], school[keep], position[keep]


def build_placement(instance: Instance, config: Config, model: Formulation) -> Seats:
    """Create the `assign` and `compact` variables, rule 1, and the rank and unassigned terms."""
    student, school, position = options(instance, config)
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
        position=np.concatenate([position, listed_position(instance, members, member_school)]),
        assign_start=assign_start,
        n_options=len(student),
        compact_start=compact_start,
        n_compacts=n_compacts,
    )

    # Rule 1: at most one seat per student (a student with a single seat is bounded by its variable).
    per_student = np.bincount(seats.student, minlength=instance.n_students)
    needs_row = per_student[seats.student] > 1
    rows_of = np.cumsum(per_student > 1) - 1
    chosen = np.flatnonzero(per_student > 1)
    model.add_rows(
        rows_from_triplets(
            "one_school",
            len(chosen),
            rows_of[seats.student[needs_row]],
            seats.var[needs_row],
            np.ones(int(needs_row.sum()), np.int64),
            -np.inf,
            1,
            lambda r: f"student={ids[chosen[r]]}",
        )
    )

    weights = config.objective
    option = seats.is_option
    model.add_term(
        term_from_pairs(
            "rank",
            seats.var[option],
            100 * weights.rank * (seats.position[option] - 1),
        )
    )
    model.add_term(
        term_from_pairs(
            "unassigned",
            seats.var,
            np.full(len(seats.var), -100 * weights.unassigned, np.int64),
            constant=100 * weights.unassigned * instance.n_students,
        )
    )
    return seats


def listed_position(instance: Instance, students: np.ndarray, schools: np.ndarray) -> np.ndarray:
    """Position of each school in each student's list, 0 where the student did not list it."""
    if len(students) == 0:
        return np.zeros(0, np.int64)
    n = instance.n_schools
    keys = instance.pref_student() * n + instance.pref_school
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    wanted = students * n + schools
    at = np.searchsorted(sorted_keys, wanted)
    found = (at < len(sorted_keys)) & (sorted_keys[np.minimum(at, len(sorted_keys) - 1)] == wanted)
    positions = instance.pref_position()[order]
    return np.where(found, positions[np.minimum(at, len(sorted_keys) - 1)], 0).astype(np.int64)
