"""`seatplan validate`, `solve` and `simulate` on mutated config and data folders (issue 16): whatever
the mutation, exit 0, 1 or 2, never a traceback, and every problem names its file.

Each case copies a seed folder (tests/data/fuzz/), mutates one file — or the folder: a data path,
an id in every file, a file removed — by one to three mutation families of tests/fuzz/mutate.py,
and runs the command in-process. A failure prints the drawn case, which reproduces it exactly.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seatplan.models import tables
from tests.fuzz.cases import SEEDS, SEEDS_FOLDER, check, copy_seed, fuzz_settings, invoke, scratch
from tests.fuzz.mutate import CSV_FAMILIES, FOLDER_FAMILIES, YAML_FAMILIES, apply


def _targets(seed: str) -> list[str]:
    return sorted(p.name for p in (SEEDS_FOLDER / seed).iterdir() if p.is_file())


@st.composite
def mutations(draw: st.DrawFn, seed: str) -> tuple[str, list[str], int]:
    """(the file mutated, the families applied in turn, the random seed they draw from)."""
    target = draw(st.sampled_from(_targets(seed)))
    kinds = YAML_FAMILIES if target.endswith(".yaml") else CSV_FAMILIES
    family = st.sampled_from(sorted(kinds) + sorted(FOLDER_FAMILIES))
    return target, draw(st.lists(family, min_size=1, max_size=3)), draw(st.integers(0, 2**32 - 1))


def run_case(seed: str, command: list[str], case: tuple[str, list[str], int], arrow: bool) -> None:
    """One case; `arrow` sends even these small CSV files through Arrow's reader, which large plain
    files take, so that both readers meet every mutation."""
    target, families, random_seed = case
    fast_path = tables.PLAIN_FAST_PATH_BYTES
    with scratch() as folder:
        config = copy_seed(seed, folder / "case")
        apply(folder / "case", target, families, random_seed, config)
        args = [command[0], str(config), *command[1:]]
        if command[0] in ("solve", "simulate"):
            args += ["--out", str(folder / "run")]
        tables.PLAIN_FAST_PATH_BYTES = 0 if arrow else fast_path
        try:
            result = invoke(args)
        finally:
            tables.PLAIN_FAST_PATH_BYTES = fast_path
        check(result, f"seatplan {' '.join(command)} on {seed} after {case}, arrow={arrow}")


@pytest.mark.parametrize("seed", SEEDS)
def test_validate_never_crashes(seed: str) -> None:
    @fuzz_settings("validate")
    @given(case=mutations(seed), arrow=st.booleans())
    def validate(case: tuple[str, list[str], int], arrow: bool) -> None:
        run_case(seed, ["validate"], case, arrow)

    validate()


@pytest.mark.parametrize("seed", SEEDS)
def test_solve_never_crashes(seed: str) -> None:
    @fuzz_settings("solve")
    @given(case=mutations(seed), arrow=st.booleans())
    def solve(case: tuple[str, list[str], int], arrow: bool) -> None:
        run_case(seed, ["solve", "--quiet", "--time-limit", "2"], case, arrow)

    solve()


@pytest.mark.parametrize("seed", SEEDS)
def test_simulate_never_crashes(seed: str) -> None:
    @fuzz_settings("simulate")
    @given(case=mutations(seed), arrow=st.booleans())
    def simulate(case: tuple[str, list[str], int], arrow: bool) -> None:
        run_case(seed, ["simulate", "--draws", "2", "--jobs", "1", "--quiet"], case, arrow)

    simulate()
