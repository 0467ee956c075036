"""What the fuzz suite runs and what it requires of every run: the seed folders, the number of
cases for each command, and the one check — exit 0, 1 or 2, no traceback, and every line of an
exit 2 naming its file.

SEATPLAN_FUZZ_CASES sets the number of in-process cases (5,000 by default, the floor `make test`
keeps); a larger run, for example `SEATPLAN_FUZZ_CASES=100000`, then also draws at random instead of
replaying the same cases, and prints the seed of a failing run.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from seatplan.solver.cli import main
from tests.fuzz.mutate import make_readable

SEEDS_FOLDER = Path(__file__).resolve().parents[1] / "data" / "fuzz"
#: A small district in the demo's shape, one with grades, school choice with priorities, compacts,
#: reserves under deferred acceptance (a members file, a family lottery), and the optimiser with
#: stability hard over eligibility, a per-school lottery and a reserve.
SEEDS = ("demo", "graded", "school_choice", "compacts", "reserves", "eligibility")
#: A student of each seed, for `explain`.
STUDENT = {
    "demo": "S000001",
    "graded": "S000002",
    "school_choice": "s3",
    "compacts": "c1",
    "reserves": "r4",
    "eligibility": "e3",
}

TOTAL = int(os.environ.get("SEATPLAN_FUZZ_CASES", "5000"))
#: The share of the cases each command gets (every seed the same part of it): the loaders' commands,
#: validate and audit, most; solve, explain, report, cutoffs and simulate, which read the same files,
#: fewer and slower.
SHARES = {
    "validate": 0.30,
    "audit": 0.53,
    "solve": 0.06,
    "explain": 0.04,
    "report": 0.02,
    "cutoffs": 0.04,
    "simulate": 0.01,
}
LARGER_RUN = TOTAL > 5000


def cases_per_seed(command: str) -> int:
    """How many cases one seed folder gets for `command`."""
    return max(1, math.ceil(TOTAL * SHARES[command] / len(SEEDS)))


def fuzz_settings(command: str) -> settings:
    """Replayed from a fixed seed in `make test` (the same cases on every run); drawn at random in a
    larger run, where hypothesis prints the seed (`@seed(…)`) of any failure."""
    return settings(
        max_examples=cases_per_seed(command),
        derandomize=not LARGER_RUN,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=list(HealthCheck),
    )


#: Cases are written to memory when the machine has a tmpfs there: ten times faster than a disk's /tmp.
SCRATCH = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder, removed afterwards even when a case made a file unreadable."""
    folder = Path(tempfile.mkdtemp(prefix="seatplan-fuzz-", dir=SCRATCH))
    try:
        yield folder
    finally:
        make_readable(folder)
        shutil.rmtree(folder, ignore_errors=True)


def copy_seed(seed: str, into: Path) -> Path:
    """The seed folder copied into `into`; returns its config."""
    shutil.copytree(SEEDS_FOLDER / seed, into, dirs_exist_ok=True)
    return into / "config.yaml"


#: `file:line: message` or `file: message` (a line is not known for every problem: a missing file).
_PROBLEM = re.compile(r"^(?:warning: )?(?P<where>[^\s:][^:]*?|override \S+)(?::(?P<line>\d+))?: \S")


def invoke(args: list[str]) -> Result:
    """One command in-process, as the `seatplan` executable would run it."""
    return CliRunner().invoke(main, args, catch_exceptions=True)


def check(result: Result, case: str) -> None:
    """No traceback, exit 0, 1 or 2, and on exit 2 every line names the file it is about."""
    exception = result.exception
    crashed = exception is not None and not isinstance(exception, SystemExit)
    assert not crashed, f"{case}: crashed with {type(exception).__name__}: {exception}\n{result.output[-2000:]}"
    assert "Traceback" not in result.output, f"{case}: printed a traceback\n{result.output[-2000:]}"
    assert result.exit_code in (0, 1, 2), f"{case}: exit {result.exit_code}\n{result.output[-2000:]}"
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert lines, f"{case}: exit 2 without a word\n{result.output[-2000:]}"
        unnamed = [line for line in lines if not _names_a_file(line)]
        assert not unnamed, f"{case}: exit 2 with a line that names no file: {unnamed[0]!r}"


def _names_a_file(line: str) -> bool:
    match = _PROBLEM.match(line)
    if match is None:
        return False
    where = match["where"]
    return "/" in where or "." in where or where.startswith("override ")
