"""`seatplan report`: the plan a planner presents to a board and to families, from run folders.

    report = build_report([Path("runs/deferred_acceptance"), Path("runs/demo")], suppress=10)
    report.write(Path("runs/report.html"), xlsx=Path("runs/report.xlsx"))

Every figure is computed once, into one PlanReport (its sections' tables and charts), which the
HTML page and the workbook both read. The first run is the reference the others are compared with.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from seatplan.models.errors import InputError, Problem
from seatplan.solver.metrics import VERSION
from seatplan.solver.report import render, sections
from seatplan.solver.report.district import District
from seatplan.solver.report.sections import Section, Summary
from seatplan.solver.report.sweep import sweep_report_html
from seatplan.solver.report.tables import Suppression, Table
from seatplan.solver.runfolder import RunFolder, read_run

__all__ = ["PlanReport", "build_report", "default_report_path", "read_run", "write_sweep_report"]


@dataclass
class PlanReport:
    """Every section of the report, computed once from the runs."""

    title: str
    district: District
    suppression: Suppression
    sections: list[Section]
    summaries: list[Summary]
    warnings: list[str]

    @property
    def tables(self) -> list[Table]:
        """Every table, the headline first (what the workbook holds)."""
        return [sections.headline_table(self.summaries)] + [
            table for section in self.sections for table in section.tables
        ]

    def html(self) -> str:
        runs = self.district.runs
        subtitle = (
            f"{runs[0].label}" if len(runs) == 1 else f"{len(runs)} runs side by side, compared with {runs[0].label}"
        )
        return render.html(
            title=self.title,
            subtitle=subtitle,
            sections=self.sections,
            summaries=self.summaries,
            suppression=self.suppression,
            warnings=self.warnings,
            configs=[(run.label, run.config_text) for run in runs],
            folders=", ".join(run.where for run in runs),
            version=VERSION,
        )

    def write(self, out: Path, xlsx: Path | None = None, overwrite: bool = False) -> None:
        """The HTML file (and the workbook), each written whole or not at all; an existing file is
        replaced only with `overwrite`."""
        targets = [out] + ([xlsx] if xlsx is not None else [])
        existing = [path for path in targets if path.exists() and not overwrite]
        if existing:
            raise InputError(
                [
                    Problem(
                        str(path), None, "already exists; pass --overwrite to replace it or --out to choose another"
                    )
                    for path in existing
                ]
            )
        _atomic(out, lambda path: path.write_text(self.html(), encoding="utf-8"))
        if xlsx is not None:
            _atomic(xlsx, lambda path: render.workbook(path, self.tables, self.suppression))


def write_sweep_report(folder: Path, out: Path, title: str | None = None, overwrite: bool = False) -> None:
    """The report of a sweep folder (report/sweep.py), written whole; never over a file without `overwrite`."""
    if out.exists() and not overwrite:
        raise InputError(
            [Problem(str(out), None, "already exists; pass --overwrite to replace it or --out to choose another")]
        )
    text = sweep_report_html(folder, title)
    _atomic(out, lambda path: path.write_text(text, encoding="utf-8"))


def _atomic(path: Path, write: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(staging))  # type: ignore[operator]
        os.chmod(staging, 0o644)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


def build_report(
    folders: list[Path],
    suppress: int = 10,
    title: str | None = None,
    allow_changed_data: bool = False,
    labels: list[str] | None = None,
    shown: list[str] | None = None,
) -> PlanReport:
    """Read every run folder and compute every section (`labels` and `shown` name the runs and
    their folders when their own names will not do)."""
    runs = [
        read_run(
            folder,
            None if labels is None else labels[number],
            allow_changed_data,
            None if shown is None else shown[number],
        )
        for number, folder in enumerate(folders)
    ]
    return report_of(runs, suppress, title)


def default_report_path(folders: list[Path]) -> Path:
    """report.html in the run folder for one run; for several, a file beside the first named after them."""
    if len(folders) == 1:
        return folders[0] / "report.html"
    names = "-".join(folder.resolve().name for folder in folders)
    return folders[0].resolve().parent / f"report-{names[:120]}.html"


def report_of(runs: list[RunFolder], suppress: int = 10, title: str | None = None) -> PlanReport:
    district = District.of(runs)
    suppression = Suppression(suppress)
    summaries = [sections.summary(district, run, suppression) for run in runs]
    parts = [
        sections.Section(
            "headline",
            "The plan at a glance",
            "What each run is, what its status proves, how many students it places, and the rules it was "
            "solved under, in plain words.",
        ),
        sections.choices(district, suppression),
        sections.schools(district, suppression),
        sections.diversity(district, suppression),
        sections.accountability(district, suppression),
        sections.compacts(district, suppression),
        sections.map_section(district, suppression),
    ]
    sectioned = sections.sectioned_runs(district)
    if sectioned:
        parts.append(sections.classrooms(district, sectioned))
        rosters = sections.rosters_section(district, sectioned)
        if rosters is not None:
            parts.append(rosters)
    if district.several:
        parts.append(sections.comparison(district, suppression))
    parts.append(
        sections.Section(
            "methods",
            "Methods",
            "How each run was made: the command, every data file and its SHA-256 (the data the run was solved "
            "with), and the config as resolved (every default written out). Anyone can solve it again, or audit "
            "it with `seatplan audit`.",
        )
    )
    warnings = [
        f"{run.label}: the data files {', '.join(run.changed)} have changed since this run was solved; the figures "
        f"below are computed from the data as they are now and may not be the run's."
        for run in runs
        if run.changed
    ]
    names = [str(run.metrics.get("name", run.label)) for run in runs]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    default_title = f"seatplan — {listed}"
    return PlanReport(title or default_title, district, suppression, parts, summaries, warnings)
