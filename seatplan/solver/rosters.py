"""Transparency rosters: what a family is shown before it decides about compact classrooms.

For each school and grade of a sectioned run: each classroom that holds a compact, the compact in it
(its id, how many families and students it has, and the display names of its families that
consented in families.csv — the others only as a count), the seats it leaves for everyone else, and
each classroom without a compact. Written as rosters.csv into the run folder (whole or not at all);
`seatplan report` shows it as a page of the report.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from seatplan.models.config import display_path
from seatplan.models.errors import InputError, Problem, in_order
from seatplan.models.instance import Instance
from seatplan.models.tables import guarded, read_table, report_rows, require_columns
from seatplan.solver.classrooms import rewrite_report
from seatplan.solver.run import RunExists, replace_folder
from seatplan.solver.runfolder import Sectioned, read_run, read_sectioned

ROSTER_COLUMNS = (
    "school_id",
    "grade",
    "classroom_id",
    "seats",
    "compact_id",
    "compact_families",
    "compact_students",
    "named_families",
    "unnamed_families",
    "seats_for_others",
)
CONSENT = {"true": True, "false": False}


def read_families(path: Path, instance: Instance) -> dict[int, str]:
    """families.csv: the display name of each family that consents to be shown (family index ->
    name). Every problem at once, one line each."""
    problems: list[Problem] = []
    table = read_table(path, display_path(path), problems)
    if table is None or not require_columns(table, ["family_id", "display_name", "consent"], problems):
        raise InputError(in_order(problems))
    frame = table.frame
    family = pd.Index(instance.family_ids).get_indexer(pd.Index(frame["family_id"].to_numpy()))
    report_rows(table, family < 0, "expected a family_id of the run's students (students.csv)", problems)
    consent = frame["consent"].str.strip().str.lower()
    bad = ~consent.isin(list(CONSENT)).to_numpy()
    messages = np.array([f'expected consent to be true or false, got "{v}"' for v in frame["consent"]], dtype=object)
    report_rows(table, bad, messages, problems)
    repeated = pd.Series(family).duplicated().to_numpy() & (family >= 0)
    report_rows(table, repeated, "expected each family once, got it again", problems)
    name = frame["display_name"].str.strip()
    consents = (consent == "true").to_numpy()
    unnamed = consents & (name == "").to_numpy()
    report_rows(table, unnamed, "expected a display_name for a family that consents to be shown", problems)
    if problems:
        raise InputError(in_order(problems))
    return {int(f): str(n) for f, n, yes in zip(family, name, consents, strict=True) if yes}


def roster(sectioned: Sectioned, names: dict[int, str]) -> pd.DataFrame:
    """rosters.csv: one row per compact in a classroom, and one per classroom without a compact."""
    run, instance = sectioned.run, sectioned.run.instance
    through = run.through_compact
    compact = instance.compact_of_student
    rows = []
    for (school, grade, room), seats in sectioned.seats.items():
        rows.append((school, grade, room, seats))
    placed = np.flatnonzero(run.school >= 0)
    frame = pd.DataFrame(
        {
            "school_id": instance.school_ids[run.school[placed]],
            "grade": np.asarray(instance.grades, dtype=object)[instance.grade[placed]],
            "classroom_id": sectioned.classroom[placed],
            "compact": np.where(through[placed], compact[placed], -1),
            "family": instance.family[placed],
        }
    )
    in_compact = frame[frame["compact"] >= 0]
    by_room = {key: part for key, part in in_compact.groupby(["school_id", "grade", "classroom_id"], sort=False)}
    out: list[tuple[object, ...]] = []
    for school, grade, room, seats in sorted(rows):
        here = by_room.get((school, grade, room), in_compact.iloc[:0])
        taken = len(here)
        if taken == 0:
            out.append((school, grade, room, seats, "", "", "", "", "", seats))
            continue
        for c, members in here.groupby("compact", sort=True):
            assert isinstance(c, (int, np.integer))
            families = sorted(set(members["family"].tolist()))
            shown = sorted(names[f] for f in families if f in names)
            out.append(
                (
                    school,
                    grade,
                    room,
                    seats,
                    str(instance.compact_ids[int(c)]),
                    len(families),
                    len(members),
                    "; ".join(shown),
                    len(families) - len(shown),
                    seats - taken,
                )
            )
    table = pd.DataFrame(out, columns=list(ROSTER_COLUMNS))
    # Compact classrooms first in each school and grade: what a family decides about.
    table["_plain"] = table["compact_id"] == ""
    table = table.sort_values(["school_id", "grade", "_plain", "classroom_id"], kind="stable")
    return table.drop(columns="_plain").reset_index(drop=True)


@dataclass(frozen=True)
class Rosters:
    """rosters.csv as written, and where."""

    table: pd.DataFrame
    folder: Path
    named: bool

    def summary(self) -> str:
        compact = self.table[self.table["compact_id"] != ""]
        plain = self.table[self.table["compact_id"] == ""]
        named = int(compact["named_families"].map(lambda text: len(text.split("; ")) if text else 0).sum())
        unnamed = int(pd.to_numeric(compact["unnamed_families"]).sum()) if len(compact) else 0
        lines = [
            f"rosters: {len(compact):,} compact classrooms and {len(plain):,} without a compact, "
            f"in {self.table[['school_id', 'grade']].drop_duplicates().shape[0]:,} "
            f"{'schools and grades' if (self.table['grade'] != '').any() else 'schools'}",
            f"  compact families shown by name {named:,}, as a count only {unnamed:,}"
            + ("" if self.named else " (no --families file: no names)"),
            f"  wrote {display_path(self.folder / 'rosters.csv')}",
        ]
        return "\n".join(lines)


def write_rosters(folder: Path, families: Path | None = None, overwrite: bool = False) -> Rosters:
    """`seatplan rosters`: rosters.csv into a sectioned run folder (report.html, when the folder
    has one, is written again with its rosters page); whole or not at all."""
    run = read_run(folder)
    sectioned = read_sectioned(run)
    names = read_families(families, run.instance) if families is not None else {}
    if (folder / "rosters.csv").exists() and not overwrite:
        raise RunExists(
            [
                Problem(
                    display_path(folder / "rosters.csv"),
                    None,
                    "already exists; pass --overwrite to write the rosters again",
                )
            ]
        )
    table = roster(sectioned, names)

    def fill(staging: Path) -> None:
        shutil.copytree(folder, staging, dirs_exist_ok=True)
        guarded(table).to_csv(staging / "rosters.csv", index=False)
        if (staging / "report.html").exists():
            rewrite_report(staging, folder)

    replace_folder(folder, fill)
    return Rosters(table, folder, families is not None)
