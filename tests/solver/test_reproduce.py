"""metrics.json's `reproduce` record (issue 16): the versions, the machine, the solver settings and
the resolved config's hash — the same settings on the same data give the same hash, wherever the
data and the run folder are, and any change of either gives another."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import seatplan
from seatplan.models.config import load_config
from seatplan.solver.cli import main
from seatplan.solver.metrics import SOLVER_PACKAGES, VERSION, config_sha256
from seatplan.solver.runfolder import METRICS_KEYS, read_run
from tests.conftest import write_case

STUDENTS = """\
student_id,family_id
s1,f1
s2,f2
s3,f3
"""
SCHOOLS = """\
school_id,capacity
A,1
B,2
"""
PREFERENCES = """\
student_id,school_id,rank
s1,A,1
s2,A,1
s2,B,2
s3,B,1
"""
SOLVER = {"backend": "cpsat", "workers": 1, "seed": 7, "time_limit": 20}


def solve(config: Path, out: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    return dict(json.loads((out / "metrics.json").read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reproduce")
    return write_case(
        folder / "data",
        STUDENTS,
        SCHOOLS,
        PREFERENCES,
        config={"solver": SOLVER, "sections": {"size": 2}},
        name="small",
    )


@pytest.fixture(scope="module")
def run_folder(district: Path) -> Path:
    out = district.parent.parent / "runs" / "small"
    solve(district, out)
    return out


def test_the_record_names_versions_machine_and_settings(run_folder: Path) -> None:
    metrics = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
    record = metrics["reproduce"]
    assert record["seatplan_version"] == metrics["seatplan_version"] == VERSION
    assert record["packages"] == {name: metadata.version(name) for name in SOLVER_PACKAGES}
    assert record["python"] == platform.python_version()
    assert record["python_implementation"] == platform.python_implementation()
    assert record["machine"] == platform.machine() and record["system"] == platform.system()
    assert record["backend"] == metrics["backend"] == "cpsat"
    assert (record["seed"], record["workers"], record["time_limit"]) == (7, 1, 20.0)
    written = yaml.safe_load((run_folder / "config.yaml").read_text(encoding="utf-8"))
    assert record["data_sha256"] == written["data_sha256"]
    assert len(record["config_sha256"]) == 64
    # The keys that were there before stay, and the report still reads the folder.
    assert all(key in metrics for key in METRICS_KEYS)
    read_run(run_folder)


def test_the_classroom_stage_has_its_own_record(run_folder: Path) -> None:
    record = json.loads((run_folder / "sections.json").read_text(encoding="utf-8"))["reproduce"]
    assert record["seatplan_version"] == VERSION and record["packages"]["ortools"] == metadata.version("ortools")
    assert (record["seed"], record["workers_per_cohort"]) == (0, 1)
    assert record["time_limit_per_cohort"] > 0 and len(record["settings_sha256"]) == 64


def test_the_hash_is_the_readme_s_recipe_applied_to_config_yaml(run_folder: Path) -> None:
    written = yaml.safe_load((run_folder / "config.yaml").read_text(encoding="utf-8"))
    shas = written.pop("data_sha256")
    written["data"] = {key: f"sha256:{shas[key]}" for key in written["data"]}
    text = json.dumps(written, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    recorded = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))["reproduce"]["config_sha256"]
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == recorded


def test_the_same_config_and_data_give_the_same_hash_wherever_the_run_is(district: Path, run_folder: Path) -> None:
    elsewhere = district.parent.parent / "deeper" / "still" / "small"
    again = solve(district, elsewhere)
    first = json.loads((run_folder / "metrics.json").read_text(encoding="utf-8"))
    assert again["reproduce"]["config_sha256"] == first["reproduce"]["config_sha256"]
    # The run folder's own config.yaml, read back, is the same config.
    assert config_sha256(load_config(elsewhere / "config.yaml")) == first["reproduce"]["config_sha256"]


def test_a_changed_setting_or_data_file_changes_the_hash(tmp_path: Path) -> None:
    def hashed(schools: str = SCHOOLS, **solver: Any) -> str:
        folder = tmp_path / hashlib.sha256(f"{schools}{solver}".encode()).hexdigest()[:8]
        config = write_case(folder, STUDENTS, schools, PREFERENCES, config={"solver": {**SOLVER, **solver}})
        return config_sha256(load_config(config))

    base = hashed()
    assert hashed() == base
    assert hashed(seed=8) != base
    assert hashed(workers=2) != base
    assert hashed(schools=SCHOOLS.replace("A,1", "A,2")) != base


def test_the_version_is_said_once() -> None:
    assert VERSION == seatplan.__version__ == metadata.version("seatplan")
