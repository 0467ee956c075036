"""A sample of the fuzz cases through the real `seatplan` executable (issue 16): what a planner's
shell sees — the exit code, and no traceback on stderr — not only what click's runner catches.
Data paths to /dev/null, a folder and an unreadable file are among them, each named once."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.cases import SEEDS, SEEDS_FOLDER, copy_seed, scratch
from tests.fuzz.mutate import CSV_FAMILIES, FOLDER_FAMILIES, YAML_FAMILIES, apply

EXECUTABLE = Path(sys.executable).with_name("seatplan")
SAMPLE = 20


def _case(number: int) -> tuple[str, str, list[str], int]:
    rng = random.Random(number)
    seed = rng.choice(SEEDS)
    target = rng.choice(sorted(p.name for p in (SEEDS_FOLDER / seed).iterdir() if p.is_file()))
    kinds = YAML_FAMILIES if target.endswith(".yaml") else CSV_FAMILIES
    families = [rng.choice(sorted(kinds) + sorted(FOLDER_FAMILIES)) for _ in range(rng.randint(1, 3))]
    return seed, target, families, rng.randrange(2**32)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXECUTABLE), *args], capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "100"}
    )


def _assert_clean(result: subprocess.CompletedProcess[str], case: object) -> None:
    assert result.returncode in (0, 1, 2), f"{case}: exit {result.returncode}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr + result.stdout, f"{case}: a traceback\n{result.stderr[-2000:]}"
    if result.returncode == 2:
        assert result.stderr.strip(), f"{case}: exit 2 without a word"


@pytest.mark.parametrize("number", range(SAMPLE))
def test_the_executable_never_prints_a_traceback(number: int) -> None:
    seed, target, families, random_seed = case = _case(number)
    with scratch() as folder:
        config = copy_seed(seed, folder / "case")
        apply(folder / "case", target, families, random_seed, config)
        _assert_clean(_run(["validate", str(config)]), case)


@pytest.mark.parametrize("target", ["/dev/null", "a folder", "unreadable"])
def test_a_data_path_to_a_device_a_folder_or_an_unreadable_file_is_one_line(target: str) -> None:
    if target == "unreadable" and os.geteuid() == 0:
        pytest.skip("root reads a file without read permission: the case cannot be made here")
    with scratch() as folder:
        config = copy_seed("compacts", folder)
        path = {"/dev/null": "/dev/null", "a folder": str(folder / "a_folder"), "unreadable": str(folder / "x.csv")}
        (folder / "a_folder").mkdir()
        (folder / "x.csv").write_text("student_id\nc1\n", encoding="utf-8")
        (folder / "x.csv").chmod(0)
        config.write_text(
            config.read_text(encoding="utf-8").replace("students: students.csv", f"students: {path[target]}"),
            encoding="utf-8",
        )
        result = _run(["validate", str(config)])
        _assert_clean(result, target)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        where = "config.yaml:3: " if target == "a folder" else f"{path[target]}"
        assert where in lines[0], lines[0]
