"""`seatplan simulate`: the chances it reports are the draws' own placements, counted.

The oracle solves each draw on its own, the ordinary way — the config with `solver.seed + k`, read
from the files (so the lottery is drawn by the data loader, not by the simulation) — and counts; the
simulation must give exactly the same probabilities, with one worker process or two.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import seatplan
from seatplan.models.data import load_inputs
from seatplan.solver.cli import main
from seatplan.solver.simulate import probabilities, simulate
from seatplan.solver.solve import solve

ROOT = Path(__file__).resolve().parents[2]
DA = ROOT / "configs" / "scenarios" / "deferred_acceptance.yaml"


def small_district(folder: Path, mechanism: str = "deferred_acceptance") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "students.csv").write_text(
        "student_id,grade\n" + "".join(f"S{k},{'K' if k % 3 else '1'}\n" for k in range(14))
    )
    (folder / "schools.csv").write_text("school_id,capacity\nA,0\nB,0\nC,0\n")
    (folder / "seats.csv").write_text("school_id,grade,capacity\nA,K,3\nA,1,1\nB,K,2\nB,1,2\nC,K,2\n")
    prefs = ["student_id,school_id,rank"]
    for k in range(14):
        order = [["A", "B", "C"], ["B", "A"], ["A", "C"]][k % 3]
        prefs += [f"S{k},{j},{r}" for r, j in enumerate(order, start=1)]
    (folder / "preferences.csv").write_text("\n".join(prefs) + "\n")
    (folder / "priorities.csv").write_text("student_id,school_id,priority\nS4,A,2\nS5,B,1\n")
    (folder / "config.yaml").write_text(
        f"name: small\nmechanism: {mechanism}\n"
        "data: {students: students.csv, schools: schools.csv, seats: seats.csv, preferences: preferences.csv, "
        "priorities: priorities.csv}\nsolver: {seed: 7, workers: 1}\n"
    )
    return folder / "config.yaml"


def counted_one_by_one(config_path: Path, draws: int) -> dict[tuple[str, str], float]:
    config, instance = load_inputs(config_path)
    counts: Counter[tuple[str, str]] = Counter()
    for k in range(draws):
        seeded = replace(config, solver=replace(config.solver, seed=config.solver.seed + k))
        assignment = solve(seeded).assignment
        for row in assignment.itertuples():
            counts[(row.student_id, "" if pd.isna(row.school_id) else row.school_id)] += 1
    return {pair: count / draws for pair, count in counts.items()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_chances_are_the_draws_counted(tmp_path: Path, jobs: int) -> None:
    config_path = small_district(tmp_path / "case")
    config, instance = load_inputs(config_path)
    counts = simulate(config, instance, 30, jobs=jobs)
    assert counts.draws == 30 and not counts.failed
    table = probabilities(instance, counts)
    got = {(row.student_id, row.school_id): row.probability for row in table.itertuples()}
    assert got == pytest.approx(counted_one_by_one(config_path, 30))
    for student, rows in table.groupby("student_id"):
        assert rows["probability"].sum() == pytest.approx(1.0), student


def test_optimised_draws_are_solves(tmp_path: Path) -> None:
    config_path = small_district(tmp_path / "case", mechanism="optimize")
    config, instance = load_inputs(config_path)
    counts = simulate(config, instance, 4, jobs=1)
    got = {(row.student_id, row.school_id): row.probability for row in probabilities(instance, counts).itertuples()}
    assert got == pytest.approx(counted_one_by_one(config_path, 4))


def test_the_command_writes_probabilities_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = CliRunner().invoke(main, ["simulate", str(DA), "--draws", "20", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "probabilities.csv", dtype={"school_id": str}, keep_default_na=False)
    assert list(table.columns) == ["student_id", "school_id", "probability"]
    assert (table["probability"] > 0).all()
    assert table.groupby("student_id")["probability"].sum().round(9).eq(1).all()
    assert pd.read_parquet(out / "probabilities.parquet").shape == table.shape
    document = json.loads((out / "summary.json").read_text())
    assert document["draws"] == 20 and len(document["schools"]) == 30
    # Deferred acceptance honors no compact; each compact names the families that share its chance.
    assert document["compacts"] and all(c["honored_probability"] == 0 and c["families"] for c in document["compacts"])
    for school in document["schools"]:
        assert 0 <= school["fill_probability"] <= 1
        if school["fill_probability"] > 0:
            assert school["cutoff_lottery_place"]["min"] >= 1
    again = CliRunner().invoke(main, ["simulate", str(DA), "--draws", "20", "--out", str(out), "--quiet"])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_lotteries_file(tmp_path: Path) -> None:
    config_path = small_district(tmp_path / "case")
    config, instance = load_inputs(config_path)
    rows = ["student_id,d0,d1"] + [f"S{k},{k},{100 - k}" for k in range(14)]
    (tmp_path / "lotteries.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "sim"
    result = CliRunner().invoke(
        main,
        ["simulate", str(config_path), "--lotteries", str(tmp_path / "lotteries.csv"), "--out", str(out), "--quiet"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["draws"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("student_id,d0\nS0,1\n")
    result = CliRunner().invoke(
        main, ["simulate", str(config_path), "--lotteries", str(bad), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_dask_gives_the_local_counts(tmp_path: Path) -> None:
    pytest.importorskip("dask.distributed")
    config, instance = load_inputs(small_district(tmp_path / "case"))
    local = probabilities(instance, simulate(config, instance, 60, jobs=1))
    on_dask = probabilities(instance, simulate(config, instance, 60, dask="local"))
    pd.testing.assert_frame_equal(local, on_dask)


def test_the_python_api(tmp_path: Path) -> None:
    config_path = small_district(tmp_path / "case")
    table = seatplan.simulate(config_path, draws=10, jobs=1)
    assert list(table.columns) == ["student_id", "school_id", "probability"]
    assert table.groupby("student_id")["probability"].sum().round(9).eq(1).all()


def test_a_student_twice_in_the_lotteries_file_is_one_line(tmp_path: Path) -> None:
    config_path = small_district(tmp_path / "case")
    rows = ["student_id,d0"] + [f"S{k},{k}" for k in range(14)] + ["S3,99"]
    (tmp_path / "lotteries.csv").write_text("\n".join(rows) + "\n")
    arguments = [
        "simulate",
        str(config_path),
        "--lotteries",
        str(tmp_path / "lotteries.csv"),
        "--out",
        str(tmp_path / "x"),
    ]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2, result.output
    assert result.output.strip().endswith("lotteries.csv:16: expected each student once, got 'S3' again")
