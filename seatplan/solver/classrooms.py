"""`seatplan sections`: the classroom stage of a run, solved cohort by cohort, written into its run
folder (classrooms.csv, sections.json, sections.yaml) whole or not at all.

Each cohort (a school and grade) is an independent small program (models/classrooms.py), solved by
CP-SAT; its objective is recomputed from the classrooms in the contract's words and must agree to
the cent. A cohort that cannot be sectioned makes the stage infeasible: the reason is said in words
and nothing is written.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from seatplan.models.classrooms import (
    CLASSROOMS,
    TERMS,
    ClassroomSettings,
    Cohort,
    CohortOutcome,
    build_cohort,
    cohorts,
    measure_cohort,
    no_family_in_a_compact,
    oversized_compacts,
    read_data,
    with_attributes,
)
from seatplan.models.config import Config, display_path
from seatplan.models.data import file_sha256
from seatplan.models.errors import DataError, InfeasibleError, InputError, Problem
from seatplan.models.instance import Instance
from seatplan.models.tables import guard_text
from seatplan.solver.backends import SolveSettings, cpsat
from seatplan.solver.metrics import VERSION, canonical_sha256, content_name, environment
from seatplan.solver.report import build_report
from seatplan.solver.run import RunExists, available_cores, check_destination, replace_folder, write_config_snapshot
from seatplan.solver.runfolder import RunFolder, read_run
from seatplan.solver.status import Status, of_solution

#: Seconds CP-SAT may spend on one cohort before its best is kept (its status then says feasible).
COHORT_TIME_LIMIT = 10.0
OUTPUTS = ("classrooms.csv", "sections.json", "sections.yaml")


@dataclass(frozen=True)
class Sectioned:
    """One cohort's classrooms, as solved: each student's classroom and what it costs."""

    cohort: Cohort
    room: np.ndarray
    outcome: CohortOutcome
    status: Status


@dataclass(frozen=True)
class Sectioning:
    """The classroom stage of a run."""

    instance: Instance
    settings: ClassroomSettings
    cohorts: list[Sectioned]
    time_limit: float = COHORT_TIME_LIMIT  # seconds for each cohort

    @property
    def status(self) -> Status:
        return Status.OPTIMAL if all(c.status == Status.OPTIMAL for c in self.cohorts) else Status.FEASIBLE

    @property
    def cents(self) -> dict[str, int]:
        """Each term of the objective, in cents (exact)."""
        return {term: sum(c.outcome.terms[term] for c in self.cohorts) for term in TERMS}

    @property
    def terms(self) -> dict[str, float]:
        """Each term of the objective (choice, balance, siblings, size), as sections.json says it."""
        return {term: cents / 100 for term, cents in self.cents.items()}

    @property
    def objective(self) -> float:
        return sum(self.cents.values()) / 100

    @property
    def classrooms(self) -> pd.DataFrame:
        """classrooms.csv as a DataFrame: student_id, school_id, grade, classroom_id."""
        return pd.DataFrame(_rows(self), columns=["student_id", "school_id", "grade", "classroom_id"])

    def __repr__(self) -> str:
        return (
            f"<seatplan Sectioning: {self.status}, objective={self.objective:,.2f}, "
            f"{sum(len(c.cohort.classrooms) for c in self.cohorts):,} classrooms>"
        )


def section(
    run: RunFolder, settings: ClassroomSettings, time_limit: float = COHORT_TIME_LIMIT, workers: int | None = None
) -> Sectioning:
    """Every cohort of a run folder's placements in classrooms (see section_placement)."""
    return section_placement(
        settings, run.config, run.instance, run.school, run.through_compact, time_limit=time_limit, workers=workers
    )


def section_placement(
    settings: ClassroomSettings,
    config: Config,
    instance: Instance,
    school: np.ndarray,
    through_compact: np.ndarray,
    time_limit: float = COHORT_TIME_LIMIT,
    workers: int | None = None,
) -> Sectioning:
    """Every cohort of a placement (each student's school, -1 when unplaced; whether through an
    honored compact) in classrooms; InfeasibleError (in words) when one cannot be. Cohorts are
    solved in `workers` processes (default: the cores this process may use)."""
    instance = with_attributes(config, settings, instance)
    data = read_data(settings, instance, school)
    groups = cohorts(settings, instance, school, through_compact, data)
    problems = oversized_compacts(settings, instance, groups) + no_family_in_a_compact(instance, groups, settings, data)
    if problems:
        raise DataError(problems)
    reasons = [reason for cohort in groups if (reason := _cannot_hold(settings, instance, cohort))]
    if reasons:
        raise InfeasibleError(_infeasible(reasons))
    solved = _solve_all(settings, groups, time_limit, workers)
    reasons = [
        _why_infeasible(settings, instance, cohort)
        for cohort, one in zip(groups, solved, strict=True)
        if one.room is None and one.claim == Status.INFEASIBLE
    ]
    if reasons:
        raise InfeasibleError(_infeasible(reasons))
    done = []
    for cohort, one in zip(groups, solved, strict=True):
        if one.room is None:
            raise InfeasibleError(
                f"the classroom stage found no sectioning of {_where(instance, cohort)} in {time_limit:g} s; "
                f"nothing was written"
            )
        if one.disagreement:
            raise RuntimeError(
                f"{_where(instance, cohort)}: the classroom model and the contract disagree: {one.disagreement}"
            )
        assert one.outcome is not None
        done.append(Sectioned(cohort, one.room, one.outcome, of_solution(one.outcome.objective, one.bound)))
    return Sectioning(instance, settings, done, time_limit)


@dataclass(frozen=True)
class _Solved:
    """What solving one cohort gave: each student's classroom (None when none was found)."""

    room: np.ndarray | None
    claim: Status
    bound: int | None
    outcome: CohortOutcome | None = None
    disagreement: str = ""


#: A cohort is first solved without CP-SAT's presolve for this long (most are proven in
#: milliseconds), then, when not yet proven, with it for the rest of its time.
QUICK_SECONDS = 1.0
#: Fewer cohorts than this are solved in this process: starting workers costs more than they save.
PARALLEL_FROM = 64


def _solve_all(
    settings: ClassroomSettings, groups: list[Cohort], time_limit: float, workers: int | None
) -> list[_Solved]:
    """Each cohort solved on its own, in worker processes when there are many. Every cohort is
    solved with one CP-SAT worker and seed 0, so where it is solved does not change its answer.

    The workers are fresh interpreters (`python -m seatplan.solver.classroom_worker`), each given every
    n-th cohort on its standard input, pickled: neither forked from a process that may hold solver
    threads nor re-running the caller's script, as multiprocessing would."""
    available = workers if workers is not None else available_cores()
    if available <= 1 or len(groups) < PARALLEL_FROM:
        return [_solve_one(settings, cohort, time_limit) for cohort in groups]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "seatplan.solver.classroom_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
        )
        for _ in range(available)
    ]
    try:
        for w, process in enumerate(processes):
            assert process.stdin is not None
            process.stdin.write(pickle.dumps((settings, groups[w::available], time_limit)))
            process.stdin.close()
        results: list[list[_Solved]] = []
        for process in processes:
            assert process.stdout is not None and process.stderr is not None
            output = process.stdout.read()
            errors = process.stderr.read()
            if process.wait() != 0:
                raise RuntimeError(f"a classroom-stage worker failed:\n{errors.decode(errors='replace')}")
            results.append(pickle.loads(output))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    solved: list[_Solved] = [None] * len(groups)  # type: ignore[list-item]
    for w, part in enumerate(results):
        solved[w::available] = part
    return solved


def _worker() -> None:
    """A worker of _solve_all: cohorts in on standard input, their solutions out on standard output."""
    settings, groups, time_limit = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(pickle.dumps([_solve_one(settings, cohort, time_limit) for cohort in groups]))


def _solve_one(settings: ClassroomSettings, cohort: Cohort, time_limit: float) -> _Solved:
    model = build_cohort(settings, cohort)
    quick = SolveSettings(time_limit=min(QUICK_SECONDS, time_limit), gap=0.0, workers=1, seed=0)
    result = cpsat.solve(model.formulation, quick, presolve=False)
    if result.claim not in (Status.OPTIMAL, Status.INFEASIBLE) and time_limit > QUICK_SECONDS:
        rest = SolveSettings(time_limit=time_limit - QUICK_SECONDS, gap=0.0, workers=1, seed=0)
        result = cpsat.solve(model.formulation, rest, hint=result.values)
    if result.values is None:
        return _Solved(None, result.claim, None)
    room = model.decode(result.values)
    outcome = measure_cohort(settings, cohort, room)
    from_model = model.formulation.evaluate(result.values)
    disagreement = ""
    if outcome.broken or any(from_model.get(term, 0) != cents for term, cents in outcome.terms.items()):
        disagreement = str(outcome.broken or (from_model, outcome.terms))
    bound = None if result.bound is None else int(np.ceil(result.bound - 1e-6))
    return _Solved(room, result.claim, bound, outcome, disagreement)


def _where(instance: Instance, cohort: Cohort) -> str:
    grade = f" grade {instance.grades[cohort.grade]}" if instance.has_grades else ""
    return f"school {instance.school_ids[cohort.school]}{grade}"


def _children(count: int) -> str:
    """The children of families who refused compact classrooms, as the subject of a sentence."""
    if count == 1:
        return "1 child of a family that said no to compact classrooms needs"
    return f"{count} children of families that said no to compact classrooms need"


def _classrooms(count: int) -> str:
    return "1 classroom" if count == 1 else f"{count} classrooms"


def _students(count: int) -> str:
    return "1 student" if count == 1 else f"{count} students"


def _compacts(instance: Instance, cohort: Cohort) -> str:
    compacts = np.unique(cohort.compact[cohort.compact >= 0])
    named = [f"{instance.compact_ids[c]} ({_students(int((cohort.compact == c).sum()))})" for c in compacts]
    return ("compact " if len(named) == 1 else "compacts ") + ", ".join(named)


def _cannot_hold(settings: ClassroomSettings, instance: Instance, cohort: Cohort) -> str:
    """Why a cohort cannot be sectioned, when it is plain without solving: too few seats; too many
    compacts for the classrooms; no classroom, or too few seats, left without a compact for the
    children of families who said no (the plausible alternative). Empty when none of these holds."""
    rooms = len(cohort.classrooms)
    seats = sorted((room.seats for room in cohort.classrooms), reverse=True)
    n = len(cohort.students)
    if sum(seats) < n:
        return f"{_where(instance, cohort)}: {n} students for {sum(seats)} seats in its {_classrooms(rooms)}"
    compacts = len(np.unique(cohort.compact[cohort.compact >= 0]))
    if not compacts or settings.compact_together != "hard":
        return ""
    needed = -(-compacts // settings.max_compacts_per_classroom)
    per = settings.max_compacts_per_classroom
    if needed > rooms:
        return (
            f"{_where(instance, cohort)}: its {_compacts(instance, cohort)} need {needed} classrooms "
            f"(at most {per} per classroom, sections.max_compacts_per_classroom), and it has {rooms}"
        )
    refusing = int((cohort.choice == 2).sum())
    if not refusing:
        return ""
    if needed == rooms:
        return (
            f"{_where(instance, cohort)}: {_children(refusing)} a classroom without a compact — the plausible "
            f"alternative — but its {_classrooms(rooms)} "
            f"{'is' if rooms == 1 else 'are all'} needed for its {_compacts(instance, cohort)}; "
            f"one more classroom there (listed in sections.classroom_seats, or a smaller sections.size) "
            f"would give them one"
            + (
                f", or two compacts in a classroom (sections.max_compacts_per_classroom: {per + 1})"
                if compacts > per
                else ""
            )
        )
    # At best the compacts take the smallest classrooms: the others are what is left.
    free = sum(seats) - sum(sorted(seats)[:needed])
    if free < refusing:
        return (
            f"{_where(instance, cohort)}: {_children(refusing)} classrooms without a compact — the plausible "
            f"alternative — but once its "
            f"{_compacts(instance, cohort)} have their classrooms, those left have at most {free} seats"
        )
    return ""


def _why_infeasible(settings: ClassroomSettings, instance: Instance, cohort: Cohort) -> str:
    """What the solver proved impossible, in words (the plain cases are said before solving)."""
    rooms = len(cohort.classrooms)
    refusing = int((cohort.choice == 2).sum())
    rules = (
        f"sections.max_compacts_per_classroom {settings.max_compacts_per_classroom}, "
        f"max_compact_share {settings.max_compact_share}%"
    )
    if not (cohort.compact >= 0).any():
        return (
            f"{_where(instance, cohort)}: its students cannot be placed in its {_classrooms(rooms)} with every "
            f"family's children together (sections.siblings_together: hard)"
        )
    if refusing:
        return (
            f"{_where(instance, cohort)}: its {_compacts(instance, cohort)} cannot be placed in its "
            f"{_classrooms(rooms)} so that the {refusing} children of families that said no to compact "
            f"classrooms have a classroom without a compact — the plausible alternative ({rules})"
        )
    return (
        f"{_where(instance, cohort)}: its {_compacts(instance, cohort)} cannot all be placed in its "
        f"{_classrooms(rooms)} ({rules}{', siblings together' if settings.siblings_together == 'hard' else ''})"
    )


def _infeasible(reasons: list[str]) -> str:
    return "\n".join(["the classroom stage is infeasible; nothing was written:", *(f"  {r}" for r in reasons)])


# ---- the files -----------------------------------------------------------------------------------


def _rows(sectioning: Sectioning) -> list[tuple[str, str, str, str]]:
    """classrooms.csv's rows, in students.csv order."""
    instance = sectioning.instance
    rows = []
    for done in sectioning.cohorts:
        cohort = done.cohort
        school = str(instance.school_ids[cohort.school])
        grade = str(instance.grades[cohort.grade])
        for i, s in enumerate(cohort.students.tolist()):
            rows.append((s, school, grade, cohort.classrooms[done.room[i]].id))
    rows.sort(key=lambda row: row[0])
    return [(str(instance.student_ids[s]), school, grade, room) for s, school, grade, room in rows]


def write(sectioning: Sectioning, folder: Path, target: Path | None = None) -> None:
    """classrooms.csv, sections.json and sections.yaml into `folder` (a folder being written, to
    become `target`: the paths in sections.yaml are relative to it)."""
    with (folder / "classrooms.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "school_id", "grade", "classroom_id"])
        # Every column is text: each cell a spreadsheet would take for a formula is guarded.
        writer.writerows([guard_text(cell) for cell in row] for row in _rows(sectioning))
    (folder / "sections.json").write_text(json.dumps(_document(sectioning), indent=2) + "\n", encoding="utf-8")
    (folder / "sections.yaml").write_text(_settings_yaml(sectioning.settings, target or folder), encoding="utf-8")


def _settings_yaml(settings: ClassroomSettings, folder: Path) -> str:
    """The stage's settings as resolved, paths relative to the run folder, with its files' SHA-256."""

    def where(path: Path) -> str:
        return os.path.relpath(path, folder.resolve())

    files = {}
    if settings.choice is not None:
        files["choice"] = file_sha256(settings.choice.file)
    if settings.classroom_seats is not None:
        files["classroom_seats"] = file_sha256(settings.classroom_seats)
    document = {"sections": CLASSROOMS.write(settings, where), "data_sha256": files}
    return "# The classroom stage's settings, as resolved; paths relative to this folder.\n" + yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True
    )


def _document(sectioning: Sectioning) -> dict[str, Any]:
    instance = sectioning.instance
    settings = sectioning.settings
    classrooms = []
    cohorts_out = []
    for done in sectioning.cohorts:
        cohort = done.cohort
        grade = instance.grades[cohort.grade]
        cohorts_out.append(
            {
                "school_id": str(instance.school_ids[cohort.school]),
                "grade": grade,
                "students": len(cohort.students),
                "classrooms": len(cohort.classrooms),
                "status": str(done.status),
                "objective": done.outcome.objective / 100,
                "terms": {term: cents / 100 for term, cents in done.outcome.terms.items()},
            }
        )
        for k, room in enumerate(cohort.classrooms):
            here = done.room == k
            compacts = done.outcome.compacts[k]
            classrooms.append(
                {
                    "classroom_id": room.id,
                    "school_id": str(instance.school_ids[cohort.school]),
                    "grade": grade,
                    "seats": room.seats,
                    "placed": int(here.sum()),
                    "holds_compact": bool(compacts),
                    # The compact in it (its id; several joined by commas), or null.
                    "compact": ",".join(str(instance.compact_ids[c]) for c in compacts) or None,
                    "compacts": [
                        {
                            "compact_id": str(instance.compact_ids[c]),
                            "students": int(((cohort.compact == c) & here).sum()),
                            "families": int(len(np.unique(cohort.family[(cohort.compact == c) & here]))),
                        }
                        for c in compacts
                    ],
                    "balance": {
                        rule.label: {
                            "in_category": int((cohort.categories[:, r] & here).sum()),
                            "share": round(100 * (cohort.categories[:, r] & here).sum() / max(int(here.sum()), 1), 2),
                        }
                        for r, rule in enumerate(settings.balance)
                    },
                    "choice": {
                        "yes": int(((cohort.choice == 1) & here).sum()),
                        "no": int(((cohort.choice == 2) & here).sum()),
                    },
                }
            )
    terms = sectioning.cents
    return {
        "seatplan_version": VERSION,
        "status": str(sectioning.status),
        "objective": sum(terms.values()) / 100,
        "terms": {term: cents / 100 for term, cents in terms.items()},
        "summary": summary(sectioning),
        "cohorts": cohorts_out,
        "classrooms": classrooms,
        "reproduce": _reproduce(sectioning),
    }


def _reproduce(sectioning: Sectioning) -> dict[str, Any]:
    """What it takes to section the run again (besides the run folder): the versions and the machine,
    each cohort's solver settings (one CP-SAT worker and seed 0 always, so where a cohort is solved
    does not change its answer), and the stage's settings' hash (files named by their content)."""
    return {
        **environment(),
        "seed": 0,
        "workers_per_cohort": 1,
        "time_limit_per_cohort": sectioning.time_limit,
        "settings_sha256": canonical_sha256(CLASSROOMS.write(sectioning.settings, content_name)),
    }


def summary(sectioning: Sectioning) -> dict[str, int]:
    """The stage in a few numbers: classrooms, compact classrooms, and how the families' answers
    went. Families are counted once each, wherever their children are: a family that said yes is
    *met* when each of its children at a school and grade with a compact classroom is in one."""
    out = dict.fromkeys(
        (
            "students",
            "cohorts",
            "classrooms",
            "compact_classrooms",
            "families_yes",
            "families_yes_where_compact",
            "families_yes_met",
            "families_no",
            "children_no",
            "children_no_where_compact",
            "children_no_in_compact_classroom",
        ),
        0,
    )
    yes_all: set[int] = set()
    yes_where: set[int] = set()
    yes_unmet: set[int] = set()
    no_all: set[int] = set()
    for done in sectioning.cohorts:
        cohort = done.cohort
        holds = np.array([bool(found) for found in done.outcome.compacts])
        out["students"] += len(cohort.students)
        out["cohorts"] += 1
        out["classrooms"] += len(cohort.classrooms)
        out["compact_classrooms"] += int(holds.sum())
        yes = cohort.choice == 1
        yes_all.update(cohort.family[yes].tolist())
        no = cohort.choice == 2
        no_all.update(cohort.family[no].tolist())
        out["children_no"] += int(no.sum())
        if holds.any():
            yes_where.update(cohort.family[yes].tolist())
            yes_unmet.update(cohort.family[yes & ~holds[done.room]].tolist())
            out["children_no_where_compact"] += int(no.sum())
        out["children_no_in_compact_classroom"] += int((no & holds[done.room]).sum())
    out["families_yes"] = len(yes_all)
    out["families_yes_where_compact"] = len(yes_where)
    out["families_yes_met"] = len(yes_where - yes_unmet)
    out["families_no"] = len(no_all)
    return out


def sections_summary(sectioning: Sectioning, folder: Path | None) -> str:
    """What `seatplan sections` (and a solve with a sections: block) prints."""
    figures = summary(sectioning)
    status = str(sectioning.status)
    proof = {
        "optimal": " — proven: no sectioning costs less",
        "feasible": " — the best found within the time limit, not proven optimal",
    }.get(status, "")
    terms = sectioning.cents
    where = "schools and grades" if sectioning.instance.has_grades else "schools"
    lines = [f"classrooms: {status}{proof}"]
    lines.append(f"  {'objective':<18}{sum(terms.values()) / 100:>12,.2f}")
    lines += [f"    {name:<16}{cents / 100:>12,.2f}" for name, cents in terms.items()]
    lines.append(
        f"  {'classrooms':<18}{figures['classrooms']:>12,}   for {figures['students']:,} students in "
        f"{figures['cohorts']:,} {where}; {figures['compact_classrooms']:,} hold a compact"
    )
    at = "a school and grade" if sectioning.instance.has_grades else "a school"
    if figures["families_yes"]:
        lines.append(
            f"  {'said yes':<18}{figures['families_yes']:>12,}   families; {figures['families_yes_where_compact']:,} "
            f"have a child at {at} with a compact, {figures['families_yes_met']:,} of them got its classroom"
        )
    if figures["children_no"]:
        inside = figures["children_no_in_compact_classroom"]
        lines.append(
            f"  {'said no':<18}{figures['families_no']:>12,}   families ({figures['children_no']:,} children, "
            f"{figures['children_no_where_compact']:,} at {at} with a compact); "
            f"{'none' if inside == 0 else f'{inside:,}'} in a compact classroom"
        )
    if folder is not None:
        lines.append(f"  {'run folder':<18}{folder}   (classrooms.csv, sections.json, sections.yaml)")
    return "\n".join(lines)


def section_folder(
    folder: Path,
    settings: ClassroomSettings | None = None,
    out: Path | None = None,
    overwrite: bool = False,
    workers: int | None = None,
) -> tuple[Sectioning, Path]:
    """`seatplan sections`: a run folder's classroom stage, with `settings` (a SECTIONS.yaml) or the
    `sections:` block of the run's own config. The stage's files are added to the run folder — or,
    with `out`, to a copy of it there — whole or not at all (a copy is written, then renamed into
    place); a report.html in the folder is written again with its classrooms. Returns the stage and
    the folder written."""
    run = read_run(folder)
    chosen = settings if settings is not None else CLASSROOMS.of(run.config)
    if not chosen.enabled:
        raise InputError(
            [
                Problem(
                    display_path(run.config.source),
                    None,
                    "expected a sections: block (size or classroom_seats) in the run's config, "
                    "or --config SECTIONS.yaml",
                )
            ]
        )
    target = folder if out is None else out
    if out is None:
        existing = [name for name in OUTPUTS if (folder / name).exists()]
        if existing and not overwrite:
            raise RunExists(
                [
                    Problem(
                        display_path(folder / existing[0]),
                        None,
                        "already exists: this run has been sectioned; pass --overwrite to section it again, "
                        "or --out to write a sectioned copy elsewhere",
                    )
                ]
            )
    else:
        check_destination(out, overwrite)
    sectioning = section(run, chosen, workers=workers)
    replace_folder(target, lambda staging: _copy_with_stage(run, sectioning, staging, target))
    return sectioning, target


def _copy_with_stage(run: RunFolder, sectioning: Sectioning, staging: Path, target: Path) -> None:
    """The run folder, copied into `staging` (to become `target`), with the stage's files."""
    shutil.copytree(run.path, staging, dirs_exist_ok=True)
    for name in (*OUTPUTS, "rosters.csv"):
        # Rosters belong to the classrooms they were made from: an earlier one is gone with them.
        (staging / name).unlink(missing_ok=True)
    if target.resolve() != run.path.resolve():
        # Data paths in config.yaml are relative to the folder: written again for the new place.
        write_config_snapshot(run.config, target, staging / "config.yaml")
    write(sectioning, staging, target)
    if (staging / "report.html").exists():
        rewrite_report(staging, target)


def rewrite_report(staging: Path, target: Path) -> None:
    """report.html of a run folder being written, made again from the folder's files."""
    built = build_report([staging], labels=[target.name], shown=[display_path(target)])
    (staging / "report.html").unlink()
    built.write(staging / "report.html")
