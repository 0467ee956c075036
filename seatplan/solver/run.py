"""The run folder: assignment.csv, metrics.json, config.yaml (with the data files' SHA-256), solver.log.

It is written into a temporary folder beside its destination and moved into place with one rename,
so it exists whole or not at all; an existing folder is replaced only when asked to.
"""

from __future__ import annotations

import csv
import ctypes
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import yaml

from seatplan.models.config import Config, resolved_config
from seatplan.models.errors import InputError, Problem
from seatplan.models.tables import guard_arrow
from seatplan.solver.metrics import cached_file_sha256
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

    with claim_destination(folder, overwrite):
        replace_folder(folder, fill)
    return folder


def replace_folder(folder: Path, fill: Callable[[Path], None]) -> None:
    """Write `folder` whole or not at all: `fill` writes a staging folder beside it, which then takes
    its place in one atomic step (an existing folder is exchanged with it, then removed). Only one
    process writes a folder at a time (`claim_destination`); a disk that refuses the files (read-only,
    full, over a size limit) is one line, exit 2, and leaves nothing behind."""
    with claim_destination(folder, overwrite=True):
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(folder), suffix=".tmp", dir=folder.parent))
        except OSError as error:
            raise _cannot_write(folder, error) from None
        try:
            fill(staging)
            os.chmod(staging, 0o755)
            _move_into_place(staging, folder)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise _cannot_write(folder, error) from None
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _cannot_write(folder: Path, error: OSError) -> InputError:
    reason = error.strerror or str(error)
    return InputError([Problem(str(folder), None, f"cannot write the run folder: {reason}; nothing was written")])


def _staging_prefix(folder: Path) -> str:
    """Temporary folders beside `folder` are named .<name>.<pid>.<random>.tmp: hidden, never a run,
    and removable by the next writer once the process that made them is gone."""
    return f".{folder.name}.{os.getpid()}."


def remove_leftovers(folder: Path) -> None:
    """Remove temporary folders a killed writer of `folder` left beside it (its process is gone).
    Only names of exactly this folder's shape match (.<name>.<pid>.<random>.tmp|.old): never a
    sibling's whose name starts with this one's."""
    parent = folder.parent
    if not parent.is_dir():
        return
    shape = re.compile(rf"\.{re.escape(folder.name)}\.(\d+)\.[A-Za-z0-9_]+\.(tmp|old)")
    for entry in parent.iterdir():
        found = shape.fullmatch(entry.name)
        if found and entry.is_dir() and not _alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: The folders this process holds (claim_destination), with their lock files.
_claimed: dict[Path, int] = {}


@contextmanager
def claim_destination(folder: Path, overwrite: bool) -> Iterator[None]:
    """Hold `folder` for this process while inside: a lock file beside it (.<name>.lock, an exclusive
    flock, released by the system even when the process is killed). A second writer fails at once,
    with one line (exit 2). Checks the destination (`check_destination`) and removes temporary
    folders killed writers left."""
    key = Path(os.path.abspath(folder))
    if key in _claimed:
        yield
        return
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        handle = _lock(folder)
    except OSError as error:
        raise _cannot_write(folder, error) from None
    _claimed[key] = handle
    try:
        check_destination(folder, overwrite)
        remove_leftovers(folder)
        yield
    finally:
        del _claimed[key]
        _unlock(folder, handle)


def _lock_path(folder: Path) -> Path:
    return folder.parent / f".{folder.name}.lock"


def _lock(folder: Path) -> int:
    """An exclusive flock on the folder's lock file; InputError when another process holds it."""
    path = _lock_path(folder)
    while True:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise RunExists(
                [
                    Problem(
                        str(folder),
                        None,
                        "another seatplan process is writing this run folder right now; "
                        "wait for it to finish, or choose another --out",
                    )
                ]
            ) from None
        # The file may have been removed (by its last holder) between open and lock: lock it anew.
        try:
            same = os.stat(path).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        os.close(handle)


def _unlock(folder: Path, handle: int) -> None:
    # Removed while still held, so a waiting process re-checks the inode (see _lock) and never
    # holds a lock on a file that is gone.
    with suppress(OSError):
        os.unlink(_lock_path(folder))
    os.close(handle)


def _move_into_place(staging: Path, folder: Path) -> None:
    """One rename; an existing folder is exchanged with the staging folder in one step (Linux'
    renameat2 RENAME_EXCHANGE) and then removed, so the destination always holds a whole run. Where
    the exchange is not available, the old folder is set aside first and put back on failure."""
    if not folder.exists():
        os.rename(staging, folder)
        return
    if _exchange(staging, folder):
        shutil.rmtree(staging, ignore_errors=True)  # now the old run
        return
    retired = Path(tempfile.mkdtemp(prefix=_staging_prefix(folder), suffix=".old", dir=folder.parent))
    os.rename(folder, retired / folder.name)
    try:
        os.rename(staging, folder)
    except BaseException:
        # Put the old run back: a failed replacement must not lose it.
        os.rename(retired / folder.name, folder)
        shutil.rmtree(retired, ignore_errors=True)
        raise
    shutil.rmtree(retired, ignore_errors=True)


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically (renameat2 with RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    done = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    return done == 0


def write_metrics(result: Result, path: Path) -> None:
    path.write_text(json.dumps(result.metrics, indent=2) + "\n", encoding="utf-8")


def write_config(result: Result, folder: Path, path: Path) -> None:
    """The resolved config, its data paths relative to the run folder, with each data file's SHA-256."""
    sha256 = {key: cached_file_sha256(path) for key, path in result.config.data.named().items()}
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


def assignment_columns(result: Result) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """assignment.csv's columns as Arrow text, one entry per student in students.csv order:
    student_id, school_id (empty when unplaced), position (empty when unplaced or not listed),
    compact_id (set for a placement through an honored compact). Arrow, not Python strings: a
    city's half a million rows are taken and written at once."""
    instance, assignment, evaluation = result.instance, result.placement, result.evaluation
    assert assignment is not None and evaluation is not None
    school, position = assignment.school, evaluation.positions
    text = pa.large_string()
    return (
        pa.array(instance.student_ids, type=text),
        _ids_where(instance.school_ids, school, school >= 0),
        pc.if_else(pa.array(position > 0), pc.cast(pa.array(position), text), ""),
        _ids_where(instance.compact_ids, instance.compact_of_student, evaluation.through_compact),
    )


def _ids_where(ids: np.ndarray, index: np.ndarray, where: np.ndarray) -> pa.Array:
    """ids[index] as Arrow text where `where` holds, empty text elsewhere."""
    taken = pa.array(ids, type=pa.large_string()).take(pa.array(index, mask=~where))
    return taken.fill_null("")


def write_assignment(result: Result, path: Path) -> None:
    """One row per student, in students.csv order: student_id,school_id,position,compact_id. An id
    a spreadsheet would take for a formula is guarded (guard_text); position is a number, never."""
    students, schools, positions, compacts = assignment_columns(result)
    table = pa.table(
        {
            "student_id": guard_arrow(students),
            "school_id": guard_arrow(schools),
            "position": positions,
            "compact_id": guard_arrow(compacts),
        }
    )
    # Arrow's writer, without quotes, writes what the csv module does when no value needs them (the
    # usual run); it refuses a value with a comma, a quote or a line break, which the csv module
    # quotes. An Arrow older than these options (TypeError) leaves the file to the csv module too.
    try:
        options = pacsv.WriteOptions(eol="\r\n", quoting_style="none", quoting_header="none")
        pacsv.write_csv(table, str(path), write_options=options)
    except (TypeError, pa.ArrowInvalid):
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.column_names)
            writer.writerows(zip(*(column.to_pylist() for column in table.columns), strict=True))


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
