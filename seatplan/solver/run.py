"""The run folder: assignment.csv, metrics.json, config.yaml (with the data files' SHA-256), solver.log.

It is written into a temporary folder beside its destination and moved into place with one rename,
so it exists whole or not at all; an existing folder is replaced only when asked to.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from seatplan.models.config import Config, resolved_config
from seatplan.models.data import file_sha256
from seatplan.models.errors import InputError, Problem
from seatplan.solver.report import build_report

if TYPE_CHECKING:
    from seatplan.solver.result import Result


class RunExists(InputError):
    """The run folder is already there and --overwrite was not given."""


def default_run_folder(config_path: Path) -> Path:
    return Path("runs") / config_path.stem


def check_destination(folder: Path, overwrite: bool) -> None:
    """Refuse early, before solving, when the destination exists and may not be replaced."""
    if folder.exists() and not overwrite:
        raise RunExists(
            [
                Problem(
                    str(folder),
                    None,
                    "run folder already exists; pass --overwrite to replace it or --out to choose another",
                )
            ]
        )
    if folder.exists() and not folder.is_dir():
        raise RunExists([Problem(str(folder), None, "expected a folder, got a file")])


def write_run(
    result: Result,
    folder: Path,
    overwrite: bool = False,
    report: bool = False,
    extra: Callable[[Path, Path], None] | None = None,
) -> Path:
    """Write the run folder for a solved result, atomically (with report.html when asked). `extra`
    (staging, folder) writes more files into it before the report (the classroom stage). Returns
    the folder."""
    check_destination(folder, overwrite)

    def fill(staging: Path) -> None:
        write_assignment(result, staging / "assignment.csv")
        write_metrics(result, staging / "metrics.json")
        write_config(result, folder, staging / "config.yaml")
        (staging / "solver.log").write_text("\n".join(result.log) + "\n", encoding="utf-8")
        if extra is not None:
            extra(staging, folder)
        if report:
            # Read back from the folder being written, as `seatplan report` would read it: the data
            # paths in its config.yaml are relative to the final folder, a sibling of this one.
            built = build_report([staging], labels=[folder.name], shown=[str(folder)])
            built.write(staging / "report.html")

    replace_folder(folder, fill)
    return folder


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Write `folder` whole or not at all: `fill` writes a staging folder beside it, which is then
    renamed into its place (an existing folder is set aside first, and put back on failure)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        fill(staging)
        os.chmod(staging, 0o755)
        _move_into_place(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _move_into_place(staging: Path, folder: Path) -> None:
    """One rename; an existing folder is set aside first and put back if the rename fails."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
    os.rename(folder, retired / folder.name)
    try:
        os.rename(staging, folder)
    except BaseException:
        # Put the old run back: a failed replacement must not lose it.
        os.rename(retired / folder.name, folder)
        shutil.rmtree(retired, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def write_metrics(result: Result, path: Path) -> None:
    path.write_text(json.dumps(result.metrics, indent=2) + "\n", encoding="utf-8")


def write_config(result: Result, folder: Path, path: Path) -> None:
    """The resolved config, its data paths relative to the run folder, with each data file's SHA-256."""
    sha256 = {key: file_sha256(path) for key, path in result.config.data.named().items()}
    write_config_snapshot(result.config, folder, path, sha256)


def write_config_snapshot(config: Config, folder: Path, path: Path, sha256: dict[str, str] | None = None) -> None:
    """A run's config.yaml for `folder` (written at `path`), with the data files' SHA-256 given or,
    for a run's config read back, those it recorded."""
    snapshot = resolved_config(config, folder)
    snapshot["data_sha256"] = dict(config.data_sha256) if sha256 is None else sha256
    path.write_text(
        "# The resolved config of this run: every default written out; data paths relative to this folder.\n"
        + yaml.safe_dump(snapshot, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )


def assignment_columns(result: Result) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """assignment.csv's columns as text, one entry per student in students.csv order: student_id,
    school_id (empty when unplaced), position (empty when unplaced or not listed), compact_id."""
    instance, assignment, evaluation = result.instance, result.placement, result.evaluation
    assert assignment is not None and evaluation is not None
    school = assignment.school
    school_text = np.where(school >= 0, instance.school_ids[np.maximum(school, 0)], "")
    position = evaluation.positions
    position_text = np.where(position > 0, position.astype(str), "")
    compact = instance.compact_of_student
    through = evaluation.through_compact
    compact_text = np.where(through, instance.compact_ids[np.maximum(compact, 0)] if instance.n_compacts else "", "")
    return instance.student_ids, school_text, position_text, compact_text


def write_assignment(result: Result, path: Path) -> None:
    """One row per student, in students.csv order: student_id,school_id,position,compact_id."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "school_id", "position", "compact_id"])
        writer.writerows(zip(*assignment_columns(result), strict=True))


def available_cores() -> int:
    """The cores this process may use (its CPU affinity where the system says it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def write_text_whole(path: Path, text: str) -> None:
    """A text file written whole or not at all: a temporary file beside it, then one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.partial")
    try:
        staging.write_text(text, encoding="utf-8")
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
