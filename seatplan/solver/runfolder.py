"""A run folder read back: metrics.json, config.yaml and the data it names, assignment.csv.

Only the folder's own files (and the data files its config.yaml names) are read, so any run can be
reported: an optimised plan, deferred acceptance, or an assignment made elsewhere and audited. Every
problem is one line with its file (and line), raised as an InputError.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seatplan.models.config import Config, display_path, load_config
from seatplan.models.data import file_sha256, load_instance
from seatplan.models.errors import InputError, Problem, in_order
from seatplan.models.instance import Instance
from seatplan.models.tables import read_table, report_rows, require_columns, unguard_series, unguarded
from seatplan.solver.metrics import VERSION

RUN_FILES = ("config.yaml", "assignment.csv", "metrics.json")
#: What the report reads from metrics.json; a document without one is from another version.
#: The columns of assignment.csv that hold ids (guarded against spreadsheet formulas); position is a number.
ID_COLUMNS = ("student_id", "school_id", "compact_id")
METRICS_KEYS = ("seatplan_version", "name", "mechanism", "status", "backend", "objective", "bound", "gap", "terms")


@dataclass(frozen=True, eq=False)
class RunFolder:
    """One run, as the report reads it: each student's school, position and compact placement."""

    path: Path
    label: str
    metrics: dict[str, Any]
    config: Config
    config_text: str
    instance: Instance
    school: np.ndarray  # (S,) school index, -1 when unplaced
    position: np.ndarray  # (S,) position on the student's own list; 0 when unplaced or not listed
    through_compact: np.ndarray  # (S,) placed through an honored compact
    changed: tuple[str, ...] = field(default=())  # data files whose SHA-256 differs from the run's
    shown: str = ""  # the folder as the report names it

    @property
    def where(self) -> str:
        return self.shown or display_path(self.path)

    @property
    def placed(self) -> np.ndarray:
        return self.school >= 0


def read_run(
    path: Path, label: str | None = None, allow_changed_data: bool = False, shown: str | None = None
) -> RunFolder:
    """Read a run folder whole; raise InputError with one line per problem. `shown` names the folder
    in the report when it is read from elsewhere (a run folder being written)."""
    path = Path(path)
    shown = display_path(path)
    if not path.is_dir():
        raise InputError(
            [Problem(shown, None, "expected a run folder (with config.yaml, assignment.csv, metrics.json)")]
        )
    missing = [name for name in RUN_FILES if not (path / name).is_file()]
    if missing:
        raise InputError([Problem(f"{shown}/{name}", None, "expected this file in the run folder") for name in missing])
    metrics = _read_metrics(path / "metrics.json")
    config = load_config(path / "config.yaml")
    changed = _changed_data(config)
    if changed and not allow_changed_data:
        raise InputError(
            [
                Problem(
                    display_path(config.source),
                    config.line("data_sha256", key),
                    f"data.{key} ({name}) has changed since this run (its SHA-256 differs from the one recorded); "
                    f"solve again, or pass --allow-changed-data to report on it with a warning",
                )
                for key, name in changed
            ]
        )
    instance = load_instance(config)
    school, position, through = _read_assignment(path / "assignment.csv", instance)
    return RunFolder(
        path=path,
        label=label or path.name,
        metrics=metrics,
        config=config,
        config_text=(path / "config.yaml").read_text(encoding="utf-8", errors="replace"),
        instance=instance,
        school=school,
        position=position,
        through_compact=through,
        changed=tuple(name for _, name in changed),
        shown=shown or "",
    )


def _read_metrics(path: Path) -> dict[str, Any]:
    where = display_path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as error:
        raise InputError([Problem(where, error.lineno, f"expected JSON, got malformed JSON: {error.msg}")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(where, None, f"cannot read the file: {error}")]) from None
    except RecursionError:
        raise InputError(
            [Problem(where, None, "expected JSON of a few levels, got it nested too deep to read")]
        ) from None
    except ValueError as error:  # a number of more than 4,300 digits
        raise InputError([Problem(where, None, f"expected JSON, got malformed JSON: {error}")]) from None
    if not isinstance(document, dict):
        raise InputError([Problem(where, 1, "expected a JSON object of metrics")])
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": half of a UTF-16 pair, no character, cannot be printed
        raise InputError([Problem(where, None, "expected text, got an escape of half a UTF-16 pair")]) from None
    version = document.get("seatplan_version")
    if version != VERSION:
        raise InputError(
            [
                Problem(
                    where,
                    None,
                    f"expected metrics.json written by seatplan {VERSION}, got one from "
                    f"{'an unknown version' if version is None else f'seatplan {version}'}: solve the run again",
                )
            ]
        )
    missing = [key for key in METRICS_KEYS if key not in document]
    if missing:
        raise InputError([Problem(where, None, f"expected the key {key} in metrics.json") for key in missing])
    return document


def _changed_data(config: Config) -> list[tuple[str, str]]:
    """(data key, file) of each data file whose bytes differ from the SHA-256 the run recorded."""
    changed = []
    for key, path in config.data.named().items():
        recorded = config.data_sha256.get(key)
        try:
            differs = recorded is not None and path.is_file() and file_sha256(path) != recorded
        except OSError:  # unreadable, or a name too long: reading the data says so on its line
            differs = False
        if differs:
            changed.append((key, display_path(path)))
    return changed


def _read_assignment(path: Path, instance: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """assignment.csv as arrays in the data's student order: school index, position, through a compact."""
    where = display_path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        raise InputError([Problem(where, None, f"expected a CSV file, got one that cannot be read: {error}")]) from None
    needed = ("student_id", "school_id", "position", "compact_id")
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise InputError([Problem(where, 1, f"expected a column '{column}'") for column in missing])
    # seatplan's own file: an id a spreadsheet would take for a formula is guarded (models/tables.py).
    frame = unguarded(frame.apply(lambda column: column.str.strip()), ID_COLUMNS)
    students = pd.Index(instance.student_ids).get_indexer(pd.Index(frame["student_id"].to_numpy()))
    schools = pd.Index(instance.school_ids).get_indexer(pd.Index(frame["school_id"].to_numpy()))
    problems = _assignment_problems(where, frame, students, schools, instance.n_students)
    problems += _compact_problems(where, frame, students, instance)
    if problems:
        raise InputError(problems)
    school = np.full(instance.n_students, -1, dtype=np.int64)
    school[students] = np.where(frame["school_id"].to_numpy() == "", -1, schools)
    position = np.zeros(instance.n_students, dtype=np.int64)
    written = pd.to_numeric(frame["position"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    position[students] = written
    through = np.zeros(instance.n_students, dtype=bool)
    through[students] = frame["compact_id"].to_numpy() != ""
    return school, position, through


def _assignment_problems(
    where: str, frame: pd.DataFrame, students: np.ndarray, schools: np.ndarray, n_students: int
) -> list[Problem]:
    lines = np.arange(len(frame)) + 2
    problems = [
        Problem(where, int(line), "expected a student_id of the run's data") for line in lines[students < 0][:20]
    ]
    unknown_school = (schools < 0) & (frame["school_id"].to_numpy() != "")
    problems += [
        Problem(where, int(line), "expected a school_id of the run's data") for line in lines[unknown_school][:20]
    ]
    # A position is a place in a list of schools: ASCII digits, never a number too large for 64 bits.
    bad_position = ~frame["position"].str.fullmatch(r"[0-9]{0,9}").to_numpy(dtype=bool)
    problems += [
        Problem(where, int(line), "expected position to be empty or a whole number")
        for line in lines[bad_position][:20]
    ]
    known = students[students >= 0]
    if len(np.unique(known)) != len(known):
        problems.append(Problem(where, None, "expected one row per student, got a student twice"))
    elif not problems and len(known) != n_students:
        problems.append(
            Problem(where, None, f"expected one row for each of the {n_students:,} students, got {len(known):,}")
        )
    return problems


def _compact_problems(where: str, frame: pd.DataFrame, students: np.ndarray, instance: Instance) -> list[Problem]:
    """A compact_id only for a student the data put in a compact: the explanations name its compact."""
    compact_of = np.full(len(frame), -1, dtype=np.int64)
    known = students >= 0
    compact_of[known] = instance.compact_of_student[students[known]]
    lines = np.arange(len(frame)) + 2
    wrong = known & (frame["compact_id"].to_numpy() != "") & (compact_of < 0)
    return [
        Problem(where, int(line), "expected compact_id to be empty for a student in no compact of the run's data")
        for line in lines[wrong][:20]
    ]


# ---- the classroom stage, when the run has been sectioned -----------------------------------------


@dataclass(frozen=True)
class Sectioned:
    """A sectioned run read back: each student's classroom ('' when unplaced), and each classroom's
    seats by (school_id, grade, classroom_id), from classrooms.csv and sections.json."""

    run: RunFolder
    classroom: np.ndarray  # (S,) object
    seats: dict[tuple[str, str, str], int]
    document: dict[str, Any]


def read_sectioned(run: RunFolder) -> Sectioned:
    """classrooms.csv and sections.json of a run folder, checked against its assignment."""
    folder = run.path
    shown = run.where
    if not (folder / "classrooms.csv").is_file() or not (folder / "sections.json").is_file():
        raise InputError(
            [
                Problem(
                    f"{shown}/classrooms.csv",
                    None,
                    f"expected a sectioned run (classrooms.csv, sections.json); section it first: "
                    f"seatplan sections {shown}",
                )
            ]
        )
    problems: list[Problem] = []
    table = read_table(folder / "classrooms.csv", f"{shown}/classrooms.csv", problems)
    if table is None or not require_columns(table, ["student_id", "school_id", "grade", "classroom_id"], problems):
        raise InputError(in_order(problems))
    instance = run.instance
    frame = table.frame
    for column in ("student_id", "school_id", "grade", "classroom_id"):
        # seatplan's own file, every column text: a cell a spreadsheet would take for a formula is guarded.
        frame[column] = unguard_series(frame[column])
    student = pd.Index(instance.student_ids).get_indexer(pd.Index(frame["student_id"].to_numpy()))
    report_rows(table, student < 0, "expected a student_id of the run's students", problems)
    repeated = pd.Series(student).duplicated().to_numpy() & (student >= 0)
    report_rows(table, repeated, "expected each student once, got this one again", problems)
    use = (student >= 0) & ~repeated
    placed_at = np.where(run.school >= 0, instance.school_ids[np.maximum(run.school, 0)], "")
    elsewhere = use & (frame["school_id"].to_numpy() != placed_at[np.maximum(student, 0)])
    report_rows(table, elsewhere, "expected the school the run places this student at (assignment.csv)", problems)
    classroom = np.full(instance.n_students, "", dtype=object)
    classroom[student[use]] = frame["classroom_id"].to_numpy()[use]
    missing = np.flatnonzero((run.school >= 0) & (classroom == ""))
    if missing.size:
        problems.append(
            Problem(
                table.file,
                None,
                f"expected every placed student in a classroom, got {missing.size:,} without one "
                f"(first: {instance.student_ids[missing[0]]})",
            )
        )
    try:
        document = json.loads((folder / "sections.json").read_text(encoding="utf-8"))
        seats = {
            (str(room["school_id"]), str(room["grade"]), str(room["classroom_id"])): int(room["seats"])
            for room in document["classrooms"]
        }
    except (OSError, ValueError, KeyError, TypeError) as error:
        problems.append(Problem(f"{shown}/sections.json", None, f"expected the stage's sections.json ({error})"))
        seats, document = {}, {}
    if problems:
        raise InputError(in_order(problems))
    return Sectioned(run, classroom, seats, document)
