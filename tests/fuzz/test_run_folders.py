"""`seatplan audit`, `explain`, `report` and `cutoffs` on mutated run folders (issue 16): each seed is solved
once, then every case copies the run folder and its data, mutates one file — assignment.csv,
metrics.json, the run's config.yaml or a data file — or the folder, and runs the command
in-process. Exit 0, 1 or 2, never a traceback, and every problem names its file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.cases import SEEDS, STUDENT, check, copy_seed, fuzz_settings, invoke, scratch
from tests.fuzz.mutate import FOLDER_FAMILIES, apply, families_for

RUN_TARGETS = ("run/assignment.csv", "run/metrics.json", "run/config.yaml")


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each seed and its run folder, solved once: `<seed>/data/` and `<seed>/run/`."""
    folders = {}
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(seed)
        config = copy_seed(seed, folder / "data")
        result = invoke(["solve", str(config), "--out", str(folder / "run"), "--quiet"])
        assert result.exit_code == 0, result.output
        folders[seed] = folder
    return folders


def _targets(folder: Path) -> list[str]:
    data = sorted(f"data/{p.name}" for p in (folder / "data").iterdir() if p.suffix == ".csv")
    return [*RUN_TARGETS, *data]


@st.composite
def mutations(draw: st.DrawFn, folder: Path) -> tuple[str, list[str], int]:
    """(the file mutated, the families applied in turn, the random seed they draw from)."""
    target = draw(st.sampled_from(_targets(folder)))
    family = st.sampled_from(sorted(families_for(Path(target))) + sorted(FOLDER_FAMILIES))
    return target, draw(st.lists(family, min_size=1, max_size=3)), draw(st.integers(0, 2**32 - 1))


def run_case(template: Path, command: str, seed: str, case: tuple[str, list[str], int], variant: int) -> None:
    target, families, random_seed = case
    with scratch() as folder:
        shutil.copytree(template, folder, dirs_exist_ok=True)
        run = folder / "run"
        apply(folder, target, families, random_seed, run / "config.yaml")
        args = _arguments(command, folder, seed, variant)
        check(invoke(args), f"seatplan {' '.join(args[:1] + args[2:])} on {seed} after {case}")


def _arguments(command: str, folder: Path, seed: str, variant: int) -> list[str]:
    run = str(folder / "run")
    if command == "audit":
        if variant % 3 == 0:
            # A config and an assignment made anywhere: the seed's own config, the run's files.
            config, assignment, metrics = (
                folder / "data" / "config.yaml",
                run + "/assignment.csv",
                run + "/metrics.json",
            )
            return ["audit", str(config), assignment, "--metrics", metrics]
        return ["audit", run, *(["--json"] if variant % 3 == 1 else [])]
    if command == "explain":
        return ["explain", run, STUDENT[seed], *(["--json"] if variant % 2 else [])]
    if command == "cutoffs":
        return ["cutoffs", run, "--format", ("table", "csv", "json", "markdown")[variant % 4]]
    return ["report", run, "--out", str(folder / "report.html"), "--suppress", str(variant % 3)]


@pytest.mark.parametrize("command", ["audit", "explain", "report", "cutoffs"])
@pytest.mark.parametrize("seed", SEEDS)
def test_run_folder_commands_never_crash(solved: dict[str, Path], seed: str, command: str) -> None:
    @fuzz_settings(command)
    @given(case=mutations(solved[seed]), variant=st.integers(0, 5))
    def run(case: tuple[str, list[str], int], variant: int) -> None:
        run_case(solved[seed], command, seed, case, variant)

    run()
