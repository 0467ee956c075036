"""The `matching` package's deferred acceptance on seatplan's data: the reference DA of the
benchmarks (worker.py's `matching_da` method, simulate.py's check of every draw). One grade, no
priorities: each school ranks its applicants by the lottery alone, as seatplan's reader drew it.
Nothing heavy is imported here: the worker times its own imports."""

from __future__ import annotations

from typing import Any


def hospital_resident(instance: Any) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    """(resident lists, hospital lists, capacities) for HospitalResident.create_from_dictionaries:
    students `s<i>` with their lists, schools `j<k>` ranking their applicants by lottery; schools
    without seats or applicants left out (they match nobody, in every stable matching)."""
    students = range(instance.n_students)
    lists = {
        f"s{s}": [f"j{j}" for j in instance.pref_school[instance.pref_start[s] : instance.pref_start[s + 1]]]
        for s in students
    }
    applicants: dict[str, list[str]] = {f"j{j}": [] for j in range(instance.n_schools)}
    for s in sorted(students, key=lambda s: int(instance.lottery_rank[s])):
        for school in lists[f"s{s}"]:
            applicants[school].append(f"s{s}")
    capacities = {name: int(instance.capacity[int(name[1:]), 0]) for name, who in applicants.items() if who}
    applicants = {name: who for name, who in applicants.items() if who and capacities[name] > 0}
    listed = {name: [j for j in prefs if j in applicants] for name, prefs in lists.items()}
    listed = {name: prefs for name, prefs in listed.items() if prefs}
    return listed, applicants, {name: capacities[name] for name in applicants}


def schools_of(matching: Any, n_students: int) -> list[int]:
    """Each student's school index in a solved game's matching (-1 for none)."""
    school = [-1] * n_students
    for hospital, matched in matching.items():
        for resident in matched:
            school[int(resident.name[1:])] = int(hospital.name[1:])
    return school
