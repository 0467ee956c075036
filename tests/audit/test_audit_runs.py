"""Real runs: `seatplan generate`, `seatplan solve`, audit; then corrupt one thing at a time."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import seatplan.solver.cli as solver_cli
from seatplan.auditor import audit_run

# (name, generate options, config overrides): small, but every rule family switched on somewhere.
DISTRICTS = [
    ("plain", ["--students", "120", "--schools", "6", "--clusters", "2", "--seed", "3"], {}),
    (
        "grades_hard",
        [
            "--students",
            "100",
            "--schools",
            "5",
            "--clusters",
            "2",
            "--seed",
            "8",
            "--grades",
            "K,6",
        ],
        {
            "clusters": {"mode": "hard"},
            "objective": {"distance": 1, "broken_compact": 7},
            "diversity": [
                {
                    "attribute": "ses",
                    "category": "low",
                    "scope": "sector",
                    "band": [20, 80],
                    "mode": "soft",
                    "weight": 3,
                },
                {
                    "attribute": "ell",
                    "category": 1,
                    "scope": "school",
                    "around_district": 40,
                    "mode": "hard",
                },
            ],
        },
    ),
]


def _cli(*args: str) -> None:
    result = CliRunner().invoke(solver_cli.main, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name -> the folder holding `district/` and `run/` (copied whole, relative paths survive)."""
    made: dict[str, Path] = {}
    for name, options, overrides in DISTRICTS:
        root = tmp_path_factory.mktemp(name)
        _cli("generate", str(root / "district"), *options)
        config_path = root / "district" / "config.yaml"
        if overrides:
            config = yaml.safe_load(config_path.read_text())
            for key, value in overrides.items():
                if isinstance(value, dict):
                    config.setdefault(key, {}).update(value)
                else:
                    config[key] = value
            config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        _cli("solve", str(config_path), "--out", str(root / "run"), "--quiet")
        made[name] = root
    return made


@pytest.mark.parametrize("name", [d[0] for d in DISTRICTS])
def test_solved_runs_pass(runs: dict[str, Path], name: str) -> None:
    report = audit_run(runs[name] / "run")
    assert report.passed, report.to_text()
    assert report.rule("data_integrity").passed


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["student_id", "school_id", "position", "compact_id"])
        writer.writeheader()
        writer.writerows(rows)


def drop_a_row(run: Path) -> None:
    rows = _rows(run / "assignment.csv")
    _write_rows(run / "assignment.csv", rows[1:])


def place_off_list(run: Path) -> None:
    rows = _rows(run / "assignment.csv")
    preferences = _rows(run.parent / "district" / "preferences.csv")
    schools = [r["school_id"] for r in _rows(run.parent / "district" / "schools.csv")]
    listed: dict[str, set[str]] = {}
    for p in preferences:
        listed.setdefault(p["student_id"], set()).add(p["school_id"])
    row = next(r for r in rows if r["school_id"] and not r["compact_id"] and set(schools) - listed[r["student_id"]])
    row["school_id"] = sorted(set(schools) - listed[row["student_id"]])[0]
    row["position"] = ""
    _write_rows(run / "assignment.csv", rows)


def overfill(run: Path) -> None:
    """Send every unplaced-by-compact student to one school: far over its seats."""
    rows = _rows(run / "assignment.csv")
    target = rows[0]["school_id"] or "SCH0001"
    for row in rows:
        if not row["compact_id"]:
            row["school_id"] = target
    _write_rows(run / "assignment.csv", rows)


def split_a_compact(run: Path) -> None:
    rows = _rows(run / "assignment.csv")
    row = next(r for r in rows if r["compact_id"])
    row["school_id"], row["position"], row["compact_id"] = "", "", ""
    _write_rows(run / "assignment.csv", rows)


def wrong_position(run: Path) -> None:
    rows = _rows(run / "assignment.csv")
    row = next(r for r in rows if r["position"])
    row["position"] = str(int(row["position"]) + 1)
    _write_rows(run / "assignment.csv", rows)


def _edit_metrics(run: Path, edit: Callable[[dict], None]) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    edit(metrics)
    (run / "metrics.json").write_text(json.dumps(metrics))


def objective_off_by_a_cent(run: Path) -> None:
    _edit_metrics(run, lambda m: m.update(objective=m["objective"] + 0.01))


def term_wrong(run: Path) -> None:
    _edit_metrics(run, lambda m: m["terms"].update(rank=m["terms"]["rank"] + 1))


def assigned_wrong(run: Path) -> None:
    _edit_metrics(run, lambda m: m.update(assigned=m["assigned"] - 1))


def optimal_with_lower_bound(run: Path) -> None:
    _edit_metrics(run, lambda m: m.update(status="optimal", bound=m["objective"] - 1))


def data_changed(run: Path) -> None:
    # A blank line changes no rule, only the bytes: exactly what the digest is for.
    with (run.parent / "district" / "students.csv").open("a") as handle:
        handle.write("\n")


CORRUPTIONS = [
    (drop_a_row, "every_student_listed"),
    (place_off_list, "listed_school"),
    (overfill, "capacity"),
    (split_a_compact, "compact_together"),
    (wrong_position, "position_column"),
    (objective_off_by_a_cent, "objective"),
    (term_wrong, "objective"),
    (assigned_wrong, "metrics_counts"),
    (optimal_with_lower_bound, "solver_status"),
    (data_changed, "data_integrity"),
]


@pytest.mark.parametrize(("corrupt", "rule"), CORRUPTIONS, ids=[c[0].__name__ for c in CORRUPTIONS])
def test_corrupted_run_fails_naming_the_rule(
    runs: dict[str, Path], tmp_path: Path, corrupt: Callable[[Path], None], rule: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(runs["plain"], copy)
    assert audit_run(copy / "run").passed
    corrupt(copy / "run")
    report = audit_run(copy / "run")
    assert rule in report.failed_rules(), report.to_text()
    if corrupt is data_changed:
        assert report.failed_rules() == ["data_integrity"]
