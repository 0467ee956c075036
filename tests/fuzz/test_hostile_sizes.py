"""Memory and time stay bounded on hostile sizes (issue 16).

A CSV file of LARGE_FILE_BYTES or more is first read a few rows at a time: one that repeats a row
word for word more than 20 times there is refused from those rows, before it is read whole (a
repeated row is an error in every data file). Before, an 84 MB students.csv of one line took 4.5 GB
and 70 s to say so; a 1 GB one could not be read at all. The test writes a file just past the
threshold (66 MB, in memory where the machine has a tmpfs) and measures the peak memory of the
real `seatplan validate` in a subprocess; the same refusal is checked in-process on a small file
with the threshold lowered, and the one-school-a-million-times preferences.csv on its line.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from seatplan.auditor import tables as audit_tables
from seatplan.models import tables
from tests.fuzz.cases import check, copy_seed, invoke, scratch

EXECUTABLE = Path(sys.executable).with_name("seatplan")
#: Peak memory allowed to the refusal of a file past LARGE_FILE_BYTES; reading it whole took 4.5 GB.
MEMORY_LIMIT_MB = 400


def _one_line_students(path: Path, size: int) -> None:
    # Never more than 100 MB, whatever the threshold says: the file may be in memory (a tmpfs).
    assert size <= 100 << 20, f"{size:,} bytes is too much to write in a test"
    block = b"c1,F1\n" * (1 << 20)
    with path.open("wb") as handle:
        handle.write(b"student_id,family_id\n")
        for _ in range(size // len(block) + 1):
            handle.write(block)


def _peak_memory_mb(args: list[str]) -> tuple[int, str, int]:
    """Run a command in a child of a fresh Python (so that the peak is the command's alone)."""
    measure = (
        "import resource, subprocess, sys; "
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "sys.stderr.write(r.stderr); "
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)"
    )
    done = subprocess.run([sys.executable, "-c", measure, *args], capture_output=True, text=True, timeout=300)
    code, peak = done.stdout.split()
    return int(code), done.stderr, int(peak)


def test_a_large_file_of_one_repeated_line_is_refused_with_little_memory() -> None:
    with scratch() as folder:
        config = copy_seed("compacts", folder)
        _one_line_students(folder / "students.csv", tables.LARGE_FILE_BYTES + (2 << 20))
        code, stderr, peak = _peak_memory_mb([str(EXECUTABLE), "validate", str(config)])
    lines = stderr.splitlines()
    assert code == 2, stderr
    assert "Traceback" not in stderr
    assert lines[0].endswith("students.csv:3: expected each row once, got the row of line 2 again"), lines[0]
    assert "refused from its first 23 lines, before reading all" in lines[20], lines[20]
    assert peak < MEMORY_LIMIT_MB, f"{peak} MB to refuse a file of one repeated line"


def test_the_refusal_reads_only_the_first_rows(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tables, "LARGE_FILE_BYTES", 1000)
    config = copy_seed("compacts", tmp_path)
    (tmp_path / "students.csv").write_bytes(b"student_id,family_id\n" + b"c1,F1\n" * 5000)
    result = invoke(["validate", str(config)])
    check(result, "one repeated line")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 21 and lines[-1].endswith("refused from its first 23 lines, before reading all 30,021 bytes")
    # Below the threshold the file is read whole, and every repeat is the duplicate id it is.
    monkeypatch.setattr(tables, "LARGE_FILE_BYTES", 1 << 30)
    lines = invoke(["validate", str(config)]).stderr.splitlines()
    assert lines[0].endswith("students.csv:3: duplicate student_id 'c1' (first on line 2)"), lines[0]


def test_a_few_repeats_of_a_row_are_read_as_usual(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Twenty repeats are said as what they are (a duplicate id); only more than that is refused early."""
    monkeypatch.setattr(tables, "LARGE_FILE_BYTES", 10)
    config = copy_seed("compacts", tmp_path)
    students = (tmp_path / "students.csv").read_bytes()
    (tmp_path / "students.csv").write_bytes(students + b"c1,F1\n" * 20)
    lines = invoke(["validate", str(config)]).stderr.splitlines()
    assert lines[0].endswith("students.csv:11: duplicate student_id 'c1' (first on line 2)"), lines[0]
    # Blank rows (a spreadsheet's `,`) may repeat as often as they like: they are skipped, not refused.
    (tmp_path / "students.csv").write_bytes(students + b",\n" * 50 + b' ,"" \n' * 50)
    assert invoke(["validate", str(config)]).exit_code == 0


def test_one_school_listed_a_million_times_is_refused_on_its_line(tmp_path: Path) -> None:
    config = copy_seed("compacts", tmp_path)
    rows = b"".join(b"c1,P,%d\n" % rank for rank in range(1, 10**6 + 1))
    (tmp_path / "preferences.csv").write_bytes(b"student_id,school_id,rank\n" + rows)
    result = invoke(["validate", str(config)])
    check(result, "a million repeats")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].endswith(
        "preferences.csv:3: expected each school once in a student's list, got student 'c1' listing school 'P' "
        "again (first on line 2)"
    ), lines[0]
    assert len(lines) <= 25, "at most 20 rows of one kind, then a count"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 < 2000


def _limited(megabytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (megabytes << 20, megabytes << 20))


@pytest.mark.parametrize("command", ["audit", "explain", "cutoffs"])
def test_a_school_of_a_trillion_seats_with_reserves_is_a_few_runs_of_slots(tmp_path: Path, command: str) -> None:
    """Found by the fuzz suite (the reserves seed, a capacity of a trillion): the auditor spelled out
    a school's reserved seats one by one, and a run folder took more memory than the machine had.
    Slots are runs of one kind now; the commands run here under a 3 GB address-space limit, where
    one list entry per seat fails at once (MemoryError) instead of exhausting the machine."""
    config = copy_seed("reserves", tmp_path / "data")
    schools = (tmp_path / "data" / "schools.csv").read_text().replace("A,3\n", "A,1000000000000\n")
    (tmp_path / "data" / "schools.csv").write_text(schools)
    reserves = (tmp_path / "data" / "reserves.csv").read_text().replace("A,walk,1,", "A,walk,100000000000,")
    (tmp_path / "data" / "reserves.csv").write_text(reserves)
    run = tmp_path / "run"
    assert invoke(["solve", str(config), "--out", str(run), "--quiet"]).exit_code == 0
    args = {"audit": [str(run)], "explain": [str(run), "r4"], "cutoffs": [str(run)]}[command]
    done = subprocess.run(
        [str(EXECUTABLE), command, *args],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: _limited(3000),
    )
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_line_of_70_mb_is_refused_on_its_line_with_little_memory() -> None:
    """Found by the fuzz suite (reserves.csv, one field made 20,000 times longer twice over: a line
    of 1.6 GB): the careful reader held the line many times over, and the kernel killed the run past
    16 GB. A large file is now looked at for a line longer than tables.MAX_LINE_BYTES first (a 70 MB
    line here: the reserve's name of a valid row, which was read and accepted)."""
    with scratch() as folder:
        config = copy_seed("reserves", folder)
        with (folder / "reserves.csv").open("ab") as handle:
            handle.write(b"C,walk" + b"k" * (70 << 20) + b",1,\n")
        code, stderr, peak = _peak_memory_mb([str(EXECUTABLE), "validate", str(config)])
    lines = stderr.splitlines()
    assert code == 2 and "Traceback" not in stderr, stderr[-2000:]
    assert lines[0].endswith(
        "reserves.csv:5: expected a line of at most 1,048,576 bytes (a row of ids and numbers), got one of "
        "73,400,329 bytes; the file is not read further"
    ), lines[0]
    # 380-404 MB measured here (the file itself is 70 MB); before, the line was read as a reserve's name
    # (this one is a valid row) in 790 MB.
    assert peak < 600, f"{peak} MB to refuse a file with a line of 70 MB"


def test_the_auditor_refuses_a_line_too_long_on_its_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The auditor reads the data files itself (sharing no code with the solver): the same guard,
    written apart, checked here with the limit lowered."""
    config = copy_seed("reserves", tmp_path / "data")
    run = tmp_path / "run"
    assert invoke(["solve", str(config), "--out", str(run), "--quiet"]).exit_code == 0
    with (tmp_path / "data" / "reserves.csv").open("a") as handle:
        handle.write("C,walk" + "k" * 200 + ",1,\n")
    monkeypatch.setattr(audit_tables, "MAX_LINE_BYTES", 100)
    result = invoke(["audit", str(run)])
    check(result, "a line too long for the auditor")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0].endswith(
        "reserves.csv:5: expected lines of at most 100 bytes, got a longer one"
    )


#: (text, the first line longer than 10 bytes and its length, or None), line breaks left out.
LONG_LINES = [
    (b"a,b\nccc\n", None),
    (b"a\n" + b"x" * 11 + b"\nq\n", (2, 11)),
    (b"a\nb\n" + b"y" * 11, (3, 11)),
    (b"a\n" + b"x" * 6, None),
    (b"a\nb\nc\n" + b"z" * 12 + b"\n", (4, 12)),
    (b"a\r\nb\r\n" + b"x" * 11, (3, 11)),
    (b"a\rb\r" + b"x" * 11 + b"\r", (3, 11)),
    (b"a\r\n" * 5 + b"q" * 10 + b"\r\n", None),
    (b"a\r\n" * 5 + b"q" * 11 + b"\r\nb\n", (6, 11)),
    (b"x" * 10 + b"\r", None),
    (b"x" * 11, (1, 11)),
    (b"\n" * 30, None),
    (b"", None),
]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 1000])
@pytest.mark.parametrize(("text", "expected"), LONG_LINES)
def test_the_longest_line_is_found_whatever_the_blocks(
    monkeypatch: pytest.MonkeyPatch, text: bytes, expected: tuple[int, int] | None, block: int
) -> None:
    monkeypatch.setattr(tables, "MAX_LINE_BYTES", 10)
    assert tables._overlong_line(text, block=block) == expected
