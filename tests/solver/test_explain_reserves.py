"""What a family reads with reserves and eligibility: explain names the block of seats that was full
(and whether the student could sit in it), says a student was not eligible, and compare shows the
reserved seats members fill. The market is the walk-zone one of tests/oracles/test_reserves.py."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from seatplan.solver.cli import main
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
