"""Published worked examples: seatplan must reproduce assignments printed by others.

Each folder of tests/data/published/ holds one example transcribed from a published source (its
SOURCE.md names the repository, commit, file and lines, and says where the transcription is our own
mapping rather than the source's): config.yaml (the mechanism and the data files), students.csv,
schools.csv, preferences.csv, priorities.csv (a school's strict order written as descending
integers) and expected.csv (student_id, school_id; an empty school_id is unplaced), the outcome as
published — never one computed here. Each config is solved through the Python API (`seatplan.solve`)
and every student's school must be the published one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import yaml

import seatplan

PUBLISHED = Path(__file__).resolve().parents[1] / "data" / "published"
FOLDERS = sorted(path.name for path in PUBLISHED.iterdir() if (path / "config.yaml").is_file())
#: What a mechanism's run reports: a stable matching, or an assignment that need not be stable.
STATUS = {
    "deferred_acceptance": "stable",
    "school_proposing": "stable",
    "immediate_acceptance": "assigned",
    "top_trading_cycles": "assigned",
}


def expected_assignment(folder: Path) -> dict[str, str]:
    """expected.csv as {student: school}, '' for a student left unplaced."""
    with (folder / "expected.csv").open(encoding="utf-8", newline="") as handle:
        return {row["student_id"]: row["school_id"] for row in csv.DictReader(handle)}


def solved_assignment(result: seatplan.Result) -> dict[str, str]:
    """The result's assignment as {student: school}, '' for a student left unplaced."""
    frame = result.assignment
    return {
        str(student): "" if pd.isna(school) else str(school)
        for student, school in zip(frame["student_id"], frame["school_id"], strict=True)
    }


def mechanism_of(folder: Path) -> str:
    document = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8"))
    return str(document["mechanism"])


@pytest.mark.parametrize("name", FOLDERS)
def test_seatplan_reproduces_the_published_assignment(name: str) -> None:
    folder = PUBLISHED / name
    expected = expected_assignment(folder)
    result = seatplan.solve(folder / "config.yaml")
    assert result.status == STATUS[mechanism_of(folder)]
    got = solved_assignment(result)
    assert set(got) == set(expected), "the run and expected.csv name different students"
    differences = {s: (got[s], expected[s]) for s in expected if got[s] != expected[s]}
    assert not differences, f"{name}: student -> (seatplan, published): {differences}"


def test_every_example_says_where_it_comes_from() -> None:
    for name in FOLDERS:
        source = (PUBLISHED / name / "SOURCE.md").read_text(encoding="utf-8")
        assert "github.com/" in source and "lines" in source, name


def test_the_examples_cover_every_mechanism() -> None:
    # A folder that stops being collected (renamed config, say) must not go unnoticed.
    counts = pd.Series([mechanism_of(PUBLISHED / name) for name in FOLDERS]).value_counts().to_dict()
    assert counts == {
        "deferred_acceptance": 5,
        "school_proposing": 4,
        "immediate_acceptance": 1,
        "top_trading_cycles": 5,
    }
