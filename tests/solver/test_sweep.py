"""`seatplan sweep`: the points a sweep file means, checked up front; every point's figures; the
cache that makes a sweep resumable; failing points recorded; Dask giving the local rows; the
trade-off frontier."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import seatplan
from seatplan.solver import sweep as sweeps
from seatplan.solver.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*(:\d+)?: \S")
FAMILY_SPLIT = ROOT / "tests" / "data" / "explain" / "family_split"


def small(folder: Path) -> Path:
    """Six students, two schools, a soft band: solved in a blink."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "students.csv").write_text(
        "student_id,ses\n" + "".join(f"S{k},{'low' if k % 2 else 'high'}\n" for k in range(6))
    )
    (folder / "schools.csv").write_text("school_id,capacity\nA,3\nB,3\n")
    prefs = ["student_id,school_id,rank"] + [f"S{k},A,1\nS{k},B,2" for k in range(6)]
    (folder / "preferences.csv").write_text("\n".join(prefs) + "\n")
    (folder / "config.yaml").write_text(
        "name: small\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "diversity:\n  - {attribute: ses, category: low, scope: school, band: [50, 50], mode: soft, weight: 1}\n"
        "solver: {workers: 1}\n"
    )
    return folder / "config.yaml"


def write_sweep(folder: Path, text: str) -> Path:
    small(folder / "data")
    path = folder / "sweep.yaml"
    path.write_text(text)
    return path


GRID = """\
base: data/config.yaml
vary:
  diversity[0].weight: [0, 3]
  objective.rank: [1, 2]
seeds: 0..1
mechanisms: [optimize, deferred_acceptance]
"""


def invoke(*args: object) -> CliRunner:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_grid_is_every_combination(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, GRID)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--quiet", "--jobs", "1")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "out" / "points.csv")
    assert len(frame) == 2 * 2 * 2 * 2
    assert list(frame.columns[:5]) == ["point", "diversity[0].weight", "objective.rank", "seed", "mechanism"]
    for column in (
        "status",
        "objective",
        "bound",
        "gap",
        "terms.rank",
        "first_choice_pct",
        "top3_pct",
        "unplaced",
        "compacts_honored",
        "worst_shortfall",
        "blocking_pairs",
        "seconds",
    ):
        assert column in frame.columns
    assert set(frame["mechanism"]) == {"optimize", "deferred_acceptance"}
    assert set(frame["status"]) <= {"optimal", "stable"}
    # The figures are each point's own: a weight 0 band costs nothing, a weight 3 band does.
    optimised = frame[frame["mechanism"] == "optimize"]
    assert (optimised[optimised["diversity[0].weight"] == 0]["terms.diversity"] == 0).all()
    assert pd.read_parquet(tmp_path / "out" / "points.parquet").shape == frame.shape


def test_points_list(tmp_path: Path) -> None:
    path = write_sweep(
        tmp_path,
        "base: data/config.yaml\npoints:\n  - diversity[0].weight: 0\n"
        "  - diversity[0].weight: 9\n    objective.rank: 3\n",
    )
    assert invoke("sweep", path, "--out", tmp_path / "out", "--quiet", "--jobs", "1").exit_code == 0
    frame = pd.read_csv(tmp_path / "out" / "points.csv")
    assert list(frame["diversity[0].weight"]) == [0, 9]
    assert frame["objective.rank"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("base: data/config.yaml\nvary:\n  diversity[0].weight: [0, -1]\n", 3),
        ("base: data/config.yaml\nvary:\n  clusters.mdoe: [soft]\n", 3),
        ("base: data/config.yaml\nvary:\n  diversity[0].weight: []\n", 3),
        ("base: data/config.yaml\nvary:\n  diversity[0].weight: [1]\nseeds: zero..9\n", 4),
        ("base: data/config.yaml\nvary:\n  diversity[0].weight: [1]\nmechanisms: [lottery]\n", 4),
        ("base: data/config.yaml\nvary: {}\n", 2),
        ("base: data/config.yaml\nvary:\n  diversity[0].weight: [1]\nvaries: 3\n", 4),
        ("base: data/config.yaml\n", 1),
        ("- just a list\n", 1),
    ],
)
def test_bad_sweep_files_are_one_line_each_before_anything_runs(tmp_path: Path, text: str, line: int) -> None:
    path = write_sweep(tmp_path, text)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and PROBLEM_LINE.match(lines[0]), result.output
    assert lines[0].startswith(f"{path}:{line}:") or f"sweep.yaml:{line}:" in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "points.csv").exists()


def test_a_sweep_resumes_and_skips_what_is_done(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, GRID)
    out = tmp_path / "out"
    plan = sweeps.read_sweep(path)
    ran: list[bool] = []
    first = sweeps.run_sweep(plan, out, jobs=1, progress=ran.append)
    assert len(ran) == 16
    ran.clear()
    again = sweeps.run_sweep(plan, out, jobs=1, progress=ran.append)
    assert ran == []  # nothing solved twice
    pd.testing.assert_frame_equal(first, again)
    # An interrupted sweep keeps what it finished: one point's result lost, one point run again.
    stored = sorted((out / "points").glob("*.json"))
    stored[3].unlink()
    sweeps.run_sweep(plan, out, jobs=1, progress=ran.append)
    assert len(ran) == 1


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_sweep(tmp_path, "base: data/config.yaml\nvary:\n  objective.rank: [1, 2, 3]\n")
    real = sweeps.solve

    def broken(config, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if config.objective.rank == 2:
            raise RuntimeError("the machine caught fire")
        return real(config, **kwargs)

    monkeypatch.setattr(sweeps, "solve", broken)
    frame = sweeps.run_sweep(sweeps.read_sweep(path), tmp_path / "out", jobs=1)
    assert list(frame["status"]) == ["optimal", "error", "optimal"]
    assert "machine caught fire" in frame["error"][1]


def test_infeasible_points_are_rows_too(tmp_path: Path) -> None:
    shutil.copytree(FAMILY_SPLIT, tmp_path / "data")
    (tmp_path / "sweep.yaml").write_text("base: data/config.yaml\nvary:\n  families.together: [off, hard]\n")
    frame = sweeps.run_sweep(sweeps.read_sweep(tmp_path / "sweep.yaml"), tmp_path / "out", jobs=1)
    assert list(frame["status"]) == ["optimal", "infeasible"]


def test_dask_gives_the_local_rows(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    path = write_sweep(tmp_path, GRID)
    plan = sweeps.read_sweep(path)
    local = sweeps.run_sweep(plan, tmp_path / "local", jobs=2)
    on_dask = sweeps.run_sweep(plan, tmp_path / "dask", dask="local")
    drop = ["seconds"]
    pd.testing.assert_frame_equal(local.drop(columns=drop), on_dask.drop(columns=drop))


def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    path = write_sweep(tmp_path, GRID)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--quiet", "--dask", "tcp://127.0.0.1:9")
    assert result.exit_code == 2, result.output
    assert "cannot reach the Dask scheduler" in result.output and "Traceback" not in result.output


def test_pareto_against_brute_force() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        frame = pd.DataFrame({"x": rng.integers(0, 6, 12), "y": rng.integers(0, 6, 12)})
        got = sweeps.pareto(frame, "x", "y")
        points = list(zip(frame["x"], frame["y"], strict=True))
        expected = [not any(a <= x and b <= y and (a < x or b < y) for a, b in points) for x, y in points]
        assert got.tolist() == expected


def test_the_frontier_is_marked_and_drawn(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, "base: data/config.yaml\nvary:\n  diversity[0].weight: [0, 1, 5]\n")
    out = tmp_path / "out"
    result = invoke("sweep", path, "--out", out, "--quiet", "--frontier", "terms.rank,diversity_shortfall")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "points.csv")
    assert frame["frontier"].any()
    assert (out / "frontier.png").stat().st_size > 1000 and (out / "frontier.svg").is_file()
    bad = invoke("sweep", path, "--out", out, "--quiet", "--frontier", "terms.rank,happiness")
    assert bad.exit_code == 2 and "happiness" in bad.output


def test_keep_runs_and_seed_forms(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, "base: data/config.yaml\nvary:\n  objective.rank: [1]\nseeds: [4, 9]\n")
    out = tmp_path / "out"
    result = invoke("sweep", path, "--out", out, "--quiet", "--keep-runs", "--jobs", "1")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out / "points.csv")
    assert list(frame["seed"]) == [4, 9]
    for point in (0, 1):
        (folder,) = (out / "runs").glob(f"point-{point}-*")
        assert (folder / "assignment.csv").is_file() and (folder / "metrics.json").is_file()
    (second,) = (out / "runs").glob("point-1-*")
    assert "seed: 9" in (second / "config.yaml").read_text()
    single = write_sweep(tmp_path / "one", "base: data/config.yaml\nvary:\n  objective.rank: [1]\nseeds: 3\n")
    assert list(sweeps.read_sweep(single).points[0:1])[0].seed == 3


def test_the_python_api(tmp_path: Path) -> None:
    path = write_sweep(tmp_path, "base: data/config.yaml\nvary:\n  objective.rank: [1, 2]\n")
    frame = seatplan.sweep(path, out=tmp_path / "out", jobs=1)
    assert list(frame["objective.rank"]) == [1, 2] and (tmp_path / "out" / "points.csv").is_file()


def test_points_that_read_the_data_differently_do_not_share_it(tmp_path: Path) -> None:
    """Found in review: a worker kept one Instance per data files and seed, so a point naming another
    attribute (or other compact settings) was solved on the first point's data."""
    data = small(tmp_path / "data")
    students = (tmp_path / "data" / "students.csv").read_text().splitlines()
    rows = [students[0] + ",ell"] + [f"{line},{'1' if k < 2 else '0'}" for k, line in enumerate(students[1:])]
    (tmp_path / "data" / "students.csv").write_text("\n".join(rows) + "\n")
    path = tmp_path / "sweep.yaml"
    path.write_text(f"base: {data}\nvary:\n  diversity[0].attribute: [ses, ell]\n  diversity[0].category: [low, '1']\n")
    plan = sweeps.read_sweep(path)
    frame = sweeps.run_sweep(plan, tmp_path / "out", jobs=1)
    for point, config in zip(plan.points, sweeps.resolve(plan), strict=True):
        alone = sweeps.solve(config)
        row = frame.iloc[point.number]
        assert row["status"] == str(alone.status), row
        assert row["objective"] == pytest.approx(alone.objective), (point, row["error"])


def test_a_malformed_scheduler_address_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    path = write_sweep(tmp_path, GRID)
    result = invoke("sweep", path, "--out", tmp_path / "out", "--quiet", "--dask", "http://host:bar")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
