"""What a family reads with reserves and eligibility: explain names the block of seats that was full
(and whether the student could sit in it), says a student was not eligible, and compare shows the
reserved seats members fill. The market is the walk-zone one of tests/oracles/test_reserves.py."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from seatplan.models.data import load_inputs
from seatplan.solver.cli import main
from seatplan.solver.explain.infeasibility import coarse_conflict
from tests.oracles.test_reserves import Market, walk_zone


def run(config: Path, out: Path) -> Path:
    solved = CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"])
    assert solved.exit_code == 0, solved.output
    return out


def explain(folder: Path, student: str) -> str:
    result = CliRunner().invoke(main, ["explain", str(folder), student])
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_names_the_full_blocks(tmp_path: Path) -> None:
    folder = run(walk_zone("reserve_first").write(tmp_path / "data"), tmp_path / "run")
    # E walks to the school: both walk seats went to walkers ranked ahead (A, C), the open ones to B, D.
    text = explain(folder, "E")
    assert "its 2 seats reserved for walk went to students it ranks ahead of E" in text, text
    assert "its 2 open seats went to students it ranks ahead of E" in text, text
    assert "reserved seats first, then its open seats" in text, text
    assert "justified envy" not in text
    # F does not: the walk seats are not for F at all.
    text = explain(folder, "F")
    assert "its 2 seats reserved for walk went to walk students, who come first there, and F is not one" in text
    # Under open_first the open seats come first in the sentence and in the school's filling.
    folder = run(walk_zone("open_first").write(tmp_path / "data2"), tmp_path / "run2")
    text = explain(folder, "D")
    assert text.index("open seats went") < text.index("reserved for walk"), text
    assert "open seats first, then its reserved seats" in text


def test_explain_says_a_student_was_not_eligible(tmp_path: Path) -> None:
    market = Market(
        students=["A", "B"],
        schools={"J1": 1, "J2": 1},
        prefs={"A": ["J1", "J2"], "B": ["J2"]},
        ineligible={("A", "J1")},
    )
    folder = run(market.write(tmp_path / "data"), tmp_path / "run")
    text = explain(folder, "A")
    assert "has no school" in text
    assert "1st choice, J1: A is not eligible there" in text, text
    assert "2nd choice, J2: it was full" in text, text


def test_compare_shows_reserved_seats_filled_by_members(tmp_path: Path) -> None:
    first = walk_zone("reserve_first").write(tmp_path / "first")
    hold = walk_zone("reserve_first")
    hold.walk = {("A", "J")}
    hold.unfilled = "hold"
    held = hold.write(tmp_path / "hold")
    result = CliRunner().invoke(main, ["compare", str(first), str(held), "--format", "csv"])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if line.startswith("reserved seats filled by members"))
    assert row.split(",")[1:] == ["2/2", "1/2"], row


def test_explain_all_says_what_explain_says(tmp_path: Path) -> None:
    """explain --all (vectorised) gives each family the same reasons as explain for one student:
    blocks of seats with reserves, the school's own lottery number with per_school, and eligibility."""
    import pandas as pd

    folder = run(walk_zone("open_first").write(tmp_path / "data"), tmp_path / "run")
    out = tmp_path / "all.csv"
    result = CliRunner().invoke(main, ["explain", str(folder), "--all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    for student in ("D", "F"):  # D ranks above the last admitted (E), F below everyone
        row = rows[rows.student_id == student]
        assert len(row) == 1 and row.text.iloc[0] in explain(folder, student), (row.text.iloc[0], student)

    market = Market(
        students=["A", "B", "C"],
        schools={"J1": 1, "J2": 1},
        prefs={"A": ["J1", "J2"], "B": ["J1", "J2"], "C": ["J2", "J1"]},
        ineligible={("C", "J2")},
        lottery_kind="per_school",
        seed=4,
    )
    folder = run(market.write(tmp_path / "data2"), tmp_path / "run2")
    out = tmp_path / "all2.csv"
    result = CliRunner().invoke(main, ["explain", str(folder), "--all", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out, dtype=str, keep_default_na=False)
    for student in ("A", "B", "C"):
        single = explain(folder, student)
        for text in rows[(rows.student_id == student) & (rows.reason_school_id != "")].text:
            assert text in single, (student, text, single)
    c = rows[(rows.student_id == "C") & (rows.reason_school_id == "J2")]
    assert len(c) == 1 and "not eligible" in c.text.iloc[0]


# ---- infeasibility with reserves ----------------------------------------------------------------

BAND = "diversity:\n  - {attribute: ses, category: low, scope: school, band: [0, 50], mode: hard}\n"


def _market(folder: Path, *, reserves: bool, band: bool, stability: bool, reserved_at: str) -> Path:
    """Three students who list only A (two seats): s1 and s2 low-income, ranked first by the
    lottery, s3 not; s4 at B. The reserve (one or two seats for low-income students) is at
    `reserved_at`; the band keeps A at most half low-income."""
    folder.mkdir(parents=True)
    (folder / "students.csv").write_text("student_id,ses,lottery\ns1,low,0.1\ns2,low,0.2\ns3,high,0.3\ns4,high,0.4\n")
    (folder / "schools.csv").write_text("school_id,capacity\nA,2\nB,2\n")
    (folder / "preferences.csv").write_text("student_id,school_id,rank\ns1,A,1\ns2,A,1\ns3,A,1\ns4,B,1\n")
    (folder / "reserves.csv").write_text(f"school_id,reserve,seats\n{reserved_at},low_income,2\n")
    config = "name: market\ndata: {students: students.csv, schools: schools.csv, preferences: preferences.csv"
    config += ", reserves: reserves.csv}\n" if reserves else "}\n"
    if reserves:
        config += 'reserves: {precedence: reserve_first, unfilled: revert, members: {low_income: "ses=low"}}\n'
    config += "stability: {mode: hard}\n" if stability else ""
    config += BAND if band else ""
    (folder / "config.yaml").write_text(config + "solver: {time_limit: 10, workers: 1}\n")
    return folder / "config.yaml"


def _solve(config: Path, out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(out), "--quiet"])
    return result.exit_code, result.output


def _conflict(config: Path, tmp_path: Path) -> list[str]:
    code, output = _solve(config, tmp_path / "runs" / "x")
    assert code == 1, output
    document = json.loads((tmp_path / "runs" / "infeasibility.json").read_text())
    assert document["minimal"] is True
    return [rule["key"] for rule in document["rules"]]


def test_a_reserve_in_a_conflict_is_named(tmp_path: Path) -> None:
    """The reserve puts s1 and s2 at A (members who want it come first), the band allows one: the two
    rules collide, and each alone holds. Before, the reserve was part of the background and the
    explanation blamed the band alone, which holds without the reserve."""
    config = _market(tmp_path / "both", reserves=True, band=True, stability=False, reserved_at="A")
    assert sorted(_conflict(config, tmp_path)) == ["data.reserves", "diversity[0]"]
    text = json.loads((tmp_path / "runs" / "infeasibility.json").read_text())["text"]
    assert "the 2 seats of A reserved for low_income go to its members first" in text, text
    for name, kept in (("band only", {"band": True}), ("reserve only", {"reserves": True})):
        alone = _market(tmp_path / name, **{"reserves": False, "band": False, **kept}, stability=False, reserved_at="A")
        assert _solve(alone, tmp_path / name / "run")[0] == 0, name


def test_stability_with_reserves_in_a_conflict_is_named(tmp_path: Path) -> None:
    """With reserves the stability rows are the reserves' own (rules/reserves.py): they are switched
    by school as rules/stability.py's are. A must take its top two, both low-income, which the band
    forbids; the reserve (at B) plays no part."""
    config = _market(tmp_path / "stable", reserves=True, band=True, stability=True, reserved_at="B")
    assert sorted(_conflict(config, tmp_path)) == ["diversity[0]", "stability.mode"]
    text = json.loads((tmp_path / "runs" / "infeasibility.json").read_text())["text"]
    assert "nobody who lists A is kept out of it" in text, text


def test_the_coarse_search_drops_the_reserves_as_a_setting(tmp_path: Path) -> None:
    config, instance = load_inputs(_market(tmp_path / "c", reserves=True, band=True, stability=False, reserved_at="A"))
    conflict = coarse_conflict(config, instance, 60.0)
    assert conflict is not None and conflict.minimal
    assert sorted(rule.key for rule in conflict.rules) == ["data.reserves", "diversity[0]"]
