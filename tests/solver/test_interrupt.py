"""Interruption and safe writing (issue 16): Ctrl-C and SIGTERM during a solve write the best found
and exit 130/143; a second signal aborts without writing; SIGKILL at any moment leaves the old run
or the new one whole; two solves to one folder, and a disk that refuses the files, are one line."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import seatplan.solver.pipeline
from seatplan.models.generate import DistrictSpec, write_district
from seatplan.solver.cli import main
from tests.solver.test_cli import assert_bad_input, snapshot, solved, tiny

SEATPLAN = [sys.executable, "-m", "seatplan.solver.cli"]
RUN_FILES = {"assignment.csv", "config.yaml", "metrics.json", "solver.log"}


@pytest.fixture(scope="module")
def slow_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A district whose proof takes the search well over the seconds these tests wait (school-level soft
    bands on two attributes), with a minute's time limit."""
    folder = tmp_path_factory.mktemp("slow")
    path = write_district(DistrictSpec(students=2000, schools=30, seed=0), folder / "data")
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["diversity"] = [
        {"attribute": "ses", "category": "low", "scope": "school", "around_district": 3, "mode": "soft", "weight": 10},
        {"attribute": "ell", "category": "1", "scope": "school", "around_district": 3, "mode": "soft", "weight": 10},
    ]
    config["solver"] = {**config["solver"], "time_limit": 60, "gap": 0.0}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def start_solve(config: Path, out: Path, *options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*SEATPLAN, "solve", str(config), "--out", str(out), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_search(process: subprocess.Popen[str]) -> list[str]:
    """Read the progress lines until the search has a solution and a bound (the signal then lands
    in the search, not in the loading)."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "best" in line and "gap" in line:
            return seen
    raise AssertionError("the solve ended before its search began: " + "".join(seen))


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_writes_the_best_found_and_exits_with_the_shells_code(
    slow_config: Path, tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "run"
    process = start_solve(slow_config, out)
    wait_for_search(process)
    time.sleep(3)  # into the search (HiGHS on a face), past the LP and the flows at its prices
    sent = time.perf_counter()
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=60)
    assert time.perf_counter() - sent < 30  # it stopped, rather than running out its minute
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr and f"{signal.Signals(signum).name} received" in stderr
    assert set(os.listdir(out)) == RUN_FILES
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["interrupted"] is True
    assert metrics["status"] in ("feasible", "optimal") and metrics["bound"] is not None
    assert metrics["gap"] is not None
    assert "interrupted" in stdout.splitlines()[0]
    # The folder is a whole run: the independent auditor passes it.
    audit = CliRunner().invoke(main, ["audit", str(out)])
    assert audit.exit_code == 0, audit.output


def test_a_second_signal_aborts_without_writing(slow_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = start_solve(slow_config, out)
    wait_for_search(process)
    process.send_signal(signal.SIGINT)
    time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "Traceback" not in stderr
    # At once, unless the best found was already written by the time the second signal came (then
    # the process may be in Python's shutdown, which ends it by the signal itself: the shell's
    # status is 130 all the same).
    if "aborted; nothing was written" in stderr:
        assert process.returncode == 130, stderr
        assert not out.exists()
    else:
        assert process.returncode in (130, -signal.SIGINT), stderr
        assert set(os.listdir(out)) == RUN_FILES
    # An abort in the middle of the writing may leave the hidden staging folder of a process that
    # is gone: never a run, and removed by the next writer of this folder.
    from seatplan.solver.run import remove_leftovers

    remove_leftovers(out)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_an_interrupted_solve_without_a_solution_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop before the first solution: no_solution, exit 130, no folder (in-process: the signal is
    sent where the first solutions would be found)."""

    def interrupted_first_solutions(*args: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(seatplan.solver.pipeline, "first_solutions", interrupted_first_solutions)
    # The command leaves its abort-at-once handlers in place after a stop (its process is ending).
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    config = tiny(tmp_path / "data", objective={"rank": 1, "unassigned": 100, "outside_cluster": 2})
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 130, result.output
    assert "no_solution — interrupted before a first solution" in result.stderr
    assert not out.exists()
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def test_sigkill_at_any_moment_leaves_the_old_run_or_the_new_one_whole(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    solved(config, out)
    rng = random.Random(16)
    outcomes = set()
    for _ in range(8):
        before = snapshot(out)
        process = start_solve(config, out, "--overwrite", "--quiet")
        time.sleep(rng.uniform(0.3, 2.5))
        process.kill()
        process.communicate()
        assert set(os.listdir(out)) == RUN_FILES
        after = snapshot(out)
        outcomes.add("old" if after == before else "new")
        if after != before:
            json.loads((out / "metrics.json").read_text(encoding="utf-8"))
            audit = CliRunner().invoke(main, ["audit", str(out)])
            assert audit.exit_code == 0, audit.output
    # The next solve removes what killed writers left: nothing beside the run but the run.
    solved(config, out, "--overwrite")
    assert os.listdir(out.parent) == ["tiny"]


def test_a_leftover_of_a_live_writer_is_kept_and_of_a_dead_one_removed(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    out.parent.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed = out.parent / f".tiny.{dead.stdout.strip()}.abc123.tmp"
    live = out.parent / f".tiny.{os.getppid()}.def456.tmp"
    for folder in (killed, live):
        folder.mkdir()
        (folder / "assignment.csv").write_text("student_id\n", encoding="utf-8")
    solved(config, out)
    assert sorted(os.listdir(out.parent)) == sorted([live.name, "tiny"])


def test_two_solves_to_one_folder_one_fails_at_once(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from seatplan.solver.run import claim_destination\n"
            "with claim_destination(Path(sys.argv[1]), overwrite=False):\n"
            "    print('holding', flush=True); time.sleep(60)",
            str(out),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        lines = assert_bad_input(CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"]))
        assert lines == [
            f"{out}: another seatplan process is writing this run folder right now; "
            "wait for it to finish, or choose another --out"
        ]
        assert not out.exists()
    finally:
        holder.kill()
        holder.communicate()
    solved(config, out)  # the lock dies with its process


def test_two_real_solves_at_once_one_wins(slow_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = start_solve(slow_config, out)
    wait_for_search(first)
    second = subprocess.run(
        [*SEATPLAN, "solve", str(slow_config), "--out", str(out), "--overwrite"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert second.stderr.splitlines() == [
        f"{out}: another seatplan process is writing this run folder right now; "
        "wait for it to finish, or choose another --out"
    ]
    first.send_signal(signal.SIGTERM)  # the first one ends with its best, whole
    first.communicate(timeout=60)
    assert first.returncode == 143
    assert set(os.listdir(out)) == RUN_FILES


def test_a_file_size_limit_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    """A full disk, as RLIMIT_FSIZE makes one: writing assignment.csv fails (EFBIG)."""
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    done = subprocess.run(
        [*SEATPLAN, "solve", str(config), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        preexec_fn=small_files,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"{out}: cannot write the run folder: File too large; nothing was written"]
    assert os.listdir(out.parent) == []


def test_a_read_only_destination_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import seatplan.solver.run

    def read_only(*args: object, **kwargs: object) -> str:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(seatplan.solver.run.tempfile, "mkdtemp", read_only)
    config = tiny(tmp_path / "data")
    out = tmp_path / "runs" / "tiny"
    lines = assert_bad_input(CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"]))
    assert lines == [f"{out}: cannot write the run folder: Read-only file system; nothing was written"]
    assert os.listdir(out.parent) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not bind root")
def test_a_folder_without_write_permission_is_one_line(tmp_path: Path) -> None:
    config = tiny(tmp_path / "data")
    parent = tmp_path / "runs"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        lines = assert_bad_input(CliRunner().invoke(main, ["solve", str(config), "--out", str(parent / "t")]))
        assert "cannot write the run folder: Permission denied" in lines[0]
    finally:
        parent.chmod(0o755)


def test_a_siblings_temporary_folder_is_never_taken_for_a_leftover(tmp_path: Path) -> None:
    """`run` and its sibling `run.999999`: the sibling's staging folder, written by a live process,
    has a name that starts like a leftover of `run` (found by a review)."""
    from seatplan.solver.run import remove_leftovers

    sibling = tmp_path / f".run.999999.{os.getpid()}.abcd1234.tmp"
    sibling.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    mine = tmp_path / f".run.{dead.stdout.strip()}.abcd1234.tmp"
    mine.mkdir()
    remove_leftovers(tmp_path / "run")
    assert sibling.exists() and not mine.exists()


def test_a_stop_does_not_outlive_the_python_call(tmp_path: Path) -> None:
    """After an interrupted seatplan.solve, later calls in the same session are not stopped."""
    import threading

    import seatplan
    from seatplan.solver import interrupt

    config = tiny(tmp_path / "data")
    with interrupt.interruptible(exit_on_second=False):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        assert interrupt.requested() == signal.SIGINT
    assert interrupt.requested() is None
    assert threading.current_thread() is threading.main_thread()
    result = seatplan.solve(config)
    assert result.status == "optimal" and not result.interrupted
