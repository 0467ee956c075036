"""Eligibility, lottery kinds and reserves in the audit (issue 17's contract, /README's school choice).

Every district here is written out in the test, and every expected number is worked by hand in
the docstring or comment beside it — never taken from the auditor.
"""

from __future__ import annotations

import hashlib
import random
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.auditor import Report, audit_files
from seatplan.auditor.cli import audit_command
from seatplan.auditor.config import read_config
from seatplan.auditor.district import District, load_district
from seatplan.auditor.errors import Problems
from seatplan.auditor.mechanisms import immediate_acceptance, top_trading_cycles
from seatplan.auditor.reserve_rules import reserves_rule
from seatplan.auditor.reserves import Reserves
from seatplan.auditor.rules import Placements, place
from seatplan.auditor.stability import ReserveJudge, blocking_pairs, cells_of, deferred_acceptance, school_proposing

HEADER = "student_id,school_id,position,compact_id\n"


def write(folder: Path, config: str, **files: str) -> Path:
    """The CSV files (dedented) and config.yaml into `folder`; returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n")
    (folder / "config.yaml").write_text(textwrap.dedent(config).strip() + "\n")
    return folder / "config.yaml"


def audit(config: Path, placed: dict[str, tuple[str, int] | tuple[str, str, str] | None]) -> Report:
    """Audit an assignment given as student -> (school, position[, compact_id]) or None (unplaced)."""
    rows = "".join(f"{s},{','.join(map(str, (*p, '')[:3]))}\n" if p else f"{s},,,\n" for s, p in placed.items())
    (config.parent / "assignment.csv").write_text(HEADER + rows)
    return audit_files(config, config.parent / "assignment.csv")


def district_of(config: Path) -> District:
    problems = Problems()
    district = load_district(read_config(config), problems)
    problems.raise_if_any()
    assert district is not None
    return district


def pairs(report: Report) -> list[tuple[str, str, str | None]]:
    return [
        (p["student_id"], p["school_id"], p["displaced"]) for p in report.rule("stability").details["blocking_pairs"]
    ]


DATA = "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv, priorities: priorities.csv}"


# --- eligibility ----------------------------------------------------------------------------------


@pytest.fixture
def eligibility(tmp_path: Path) -> Path:
    """A and B have one seat each; s1 (lottery 0.1) and s2 (0.2) list A then B; s1 is not eligible at A.

    Deferred acceptance: s1 skips A and proposes to B (kept); s2 to A (kept). So s1 B (position 2,
    as written: its ineligible A still counts), s2 A.
    """
    return write(
        tmp_path,
        f"{DATA}\nstability: {{mode: hard}}\n",
        students="student_id,lottery\ns1,0.1\ns2,0.2",
        schools="school_id,capacity\nA,1\nB,1",
        preferences="student_id,school_id,rank\ns1,A,1\ns1,B,2\ns2,A,1\ns2,B,2",
        priorities="student_id,school_id,eligible\ns1,A,FALSE\ns2,B,",
    )


def test_a_placement_at_an_ineligible_pair_is_broken(eligibility: Path) -> None:
    report = audit(eligibility, {"s1": ("A", 1), "s2": ("B", 2)})
    assert report.failed_rules() == ["eligibility"], report.to_text()
    (violation,) = report.rule("eligibility").violations
    assert (
        violation.message
        == f"student s1 placed at A, where it is not eligible ({eligibility.parent}/priorities.csv line 2)"
    )
    assert violation.evidence == {"student_id": "s1", "school_id": "A", "line": 2}


def test_an_ineligible_pair_never_blocks(eligibility: Path) -> None:
    """s1 ranks above s2 at A (0.1 < 0.2) and lists A first, but may not go there: no pair."""
    report = audit(eligibility, {"s1": ("B", 2), "s2": ("A", 1)})
    assert report.passed, report.to_text()
    assert pairs(report) == []
    # The same placements with s1 eligible at A: (s1, A) blocks, A holding s2 ranked below it.
    (eligibility.parent / "priorities.csv").write_text("student_id,school_id,eligible\ns1,A,true\n")
    assert pairs(audit(eligibility, {"s1": ("B", 2), "s2": ("A", 1)})) == [("s1", "A", "s2")]


def test_every_mechanism_skips_an_ineligible_school(eligibility: Path) -> None:
    district = district_of(eligibility)
    for mechanism in (deferred_acceptance, school_proposing, immediate_acceptance, top_trading_cycles):
        assert mechanism(district) == {"s1": "B", "s2": "A"}, mechanism.__name__
    (eligibility.parent / "config.yaml").write_text(f"{DATA}\nmechanism: deferred_acceptance\n")
    assert audit(eligibility, {"s1": ("B", 2), "s2": ("A", 1)}).passed
    wrong = audit(eligibility, {"s1": ("A", 1), "s2": ("B", 2)})
    # s2 does not block with A: A ranks s1 above it (the plan breaks eligibility, not stability).
    assert set(wrong.failed_rules()) == {"eligibility", "deferred_acceptance"}


def test_immediate_acceptance_applies_to_the_kth_eligible_school(tmp_path: Path) -> None:
    """s1 (0.2) lists X (ineligible) then B; s2 (0.1) lists C (no seats) then B; B has one seat.

    Round 1: s1 skips X and applies to B, its first eligible school, and is accepted for good;
    s2 applies to C, which has no seat. Round 2: s2 applies to B, full. So s1 B, s2 unplaced.
    (Had s1 spent round 1 on X, both would apply to B in round 2 and B would take s2.)
    """
    config = write(
        tmp_path,
        DATA,
        students="student_id,lottery\ns1,0.2\ns2,0.1",
        schools="school_id,capacity\nB,1\nC,0\nX,1",
        preferences="student_id,school_id,rank\ns1,X,1\ns1,B,2\ns2,C,1\ns2,B,2",
        priorities="student_id,school_id,eligible\ns1,X,false",
    )
    assert immediate_acceptance(district_of(config)) == {"s1": "B"}


def test_priority_column_is_optional_beside_eligible(eligibility: Path) -> None:
    """eligibility's priorities.csv has no priority column: every priority is 0, an empty cell true."""
    district = district_of(eligibility)
    assert district.priorities == {("s1", "A"): 0, ("s2", "B"): 0}
    assert district.ineligible == {("s1", "A"): 2}
    assert district.eligible("s2", "B") and district.eligible("s2", "A")


# --- reserves -------------------------------------------------------------------------------------

RESERVES_DATA = (
    "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv, reserves: reserves.csv}"
)


def low_income(tmp_path: Path, unfilled: str, lists: str, lottery: str, ses: str) -> Path:
    """School A has 2 seats, 1 of them reserved for `low` (members: ses=low); B has 5 open seats."""
    students = "student_id,lottery,ses\n" + "\n".join(
        f"{s},{n},{k}" for s, n, k in zip(lists.split(), lottery.split(), ses.split(), strict=True)
    )
    return write(
        tmp_path,
        f"""
        {RESERVES_DATA}
        reserves: {{precedence: reserve_first, unfilled: {unfilled}, members: {{low: "ses=low"}}}}
        stability: {{mode: hard}}
        """,
        students=students,
        schools="school_id,capacity\nA,2\nB,5",
        preferences="student_id,school_id,rank\n" + "\n".join(f"{s},A,1\n{s},B,2" for s in lists.split()),
        reserves="school_id,reserve,seats\nA,low,1",
    )


def test_hold_reserve_over_filled_by_non_members(tmp_path: Path) -> None:
    """n1 (0.1), n2 (0.2), both not low, both at A. Slots [low, open], hold: the low slot finds no
    member and stays empty, the open one takes n1: n2 cannot be seated."""
    config = low_income(tmp_path, "hold", "n1 n2", "0.1 0.2", "high high")
    report = audit(config, {"n1": ("A", 1), "n2": ("A", 1)})
    assert report.failed_rules() == ["reserves"], report.to_text()
    (violation,) = report.rule("reserves").violations
    assert violation.message == (
        "school A: its choice seats 1 of the 2 regular students placed (2 seats after compacts; "
        "reserves held for members: low 1); n2 cannot be seated"
    )
    assert violation.evidence["unseated"] == ["n2"]
    # The right plan under hold: n1 at A, n2 at B; n2 does not block with A's free seat (held).
    assert audit(config, {"n1": ("A", 1), "n2": ("B", 2)}).passed
    # Under revert the reserve falls back to open: both at A is the plan, and nothing is broken.
    config.write_text(config.read_text().replace("unfilled: hold", "unfilled: revert"))
    assert audit(config, {"n1": ("A", 1), "n2": ("A", 1)}).passed
    blocking = audit(config, {"n1": ("A", 1), "n2": ("B", 2)})
    assert pairs(blocking) == [("n2", "A", None)]


def test_member_kept_out_while_the_reserve_holds_a_non_member(tmp_path: Path) -> None:
    """n1 (0.1), n2 (0.2), m1 (0.3, low), all list A then B. Revert, reserve_first: slots [low, open].

    The plan n1, n2 at A, m1 at B: A holds 0 members of low (1 seat) while m1 wants A: (a) breaks.
    Reserve-aware: C_A({n1, n2} ∪ {m1}) = low → m1, open → n1: m1 is chosen, n2 is let go; (m1, A)
    blocks although A is full of students ranked above m1. DA: n1 A, m1 A, n2 B.
    """
    config = low_income(tmp_path, "revert", "n1 n2 m1", "0.1 0.2 0.3", "high high low")
    report = audit(config, {"n1": ("A", 1), "n2": ("A", 1), "m1": ("B", 2)})
    assert set(report.failed_rules()) == {"reserves", "stability"}, report.to_text()
    (violation,) = report.rule("reserves").violations
    assert violation.message == (
        "school A: reserve low has 1 seats but 0 members placed, while member m1 lists A at position 1 "
        "and is at B position 2"
    )
    assert (violation.amount, violation.evidence["kept_out"]) == (1, ["m1"])
    assert pairs(report) == [("m1", "A", "n2")]
    assert report.rule("stability").violations[0].message == (
        "student m1 prefers A (position 1, placed at B position 2), whose choice would give it a seat of "
        "reserve low over n2 (it is a member of reserve low)"
    )
    assert report.rule("stability").violations[0].evidence["slot"] == "low"
    assert deferred_acceptance(district_of(config)) == {"n1": "A", "m1": "A", "n2": "B"}
    assert audit(config, {"n1": ("A", 1), "n2": ("B", 2), "m1": ("A", 1)}).passed


def test_without_reserves_the_same_plan_has_no_pair(tmp_path: Path) -> None:
    """Control for the test above: no data.reserves, A full of n1 and n2, both above m1: no pair."""
    config = low_income(tmp_path, "revert", "n1 n2 m1", "0.1 0.2 0.3", "high high low")
    config.write_text(config.read_text().replace(", reserves: reserves.csv", ""))
    report = audit(config, {"n1": ("A", 1), "n2": ("A", 1), "m1": ("B", 2)})
    assert report.passed and pairs(report) == []


def walk_zone(tmp_path: Path, precedence: str, column: str = "") -> Path:
    """A has 2 seats, 1 reserved for the walk zone; B has 4 open seats. Lottery: w1 0.1 (walk),
    x1 0.2, w2 0.3 (walk), x2 0.4; everyone lists A then B."""
    reserves = (
        "school_id,reserve,seats" + (",precedence" if column else "") + "\nA,walk,1" + (f",{column}" if column else "")
    )
    return write(
        tmp_path,
        f"""
        {RESERVES_DATA}
        mechanism: deferred_acceptance
        reserves: {{precedence: {precedence}, members: {{walk: "zone=walk"}}}}
        """,
        students="student_id,lottery,zone\nw1,0.1,walk\nx1,0.2,far\nw2,0.3,walk\nx2,0.4,far",
        schools="school_id,capacity\nA,2\nB,4",
        preferences="student_id,school_id,rank\n" + "\n".join(f"{s},A,1\n{s},B,2" for s in ("w1", "x1", "w2", "x2")),
        reserves=reserves,
    )


def test_deferred_acceptance_reserve_first_and_open_first_pick_different_winners(tmp_path: Path) -> None:
    """All four propose to A at once (its final applicant set is all of them).

    reserve_first, slots [walk, open]: walk takes the best walker w1; open takes the best left, x1.
    open_first, slots [open, walk]: open takes the best of all, w1; walk takes the best walker left, w2.
    The rest go to B. So x1 wins A under reserve_first and w2 under open_first.
    """
    reserve_first = {"w1": "A", "x1": "A", "w2": "B", "x2": "B"}
    open_first = {"w1": "A", "w2": "A", "x1": "B", "x2": "B"}
    first = walk_zone(tmp_path / "reserve_first", "reserve_first")
    assert deferred_acceptance(district_of(first)) == reserve_first
    second = walk_zone(tmp_path / "open_first", "open_first")
    assert deferred_acceptance(district_of(second)) == open_first
    # reserves.csv's own precedence column wins over the config's.
    by_file = walk_zone(tmp_path / "by_file", "reserve_first", column="open_first")
    assert deferred_acceptance(district_of(by_file)) == open_first

    def placed(outcome: dict[str, str]) -> dict[str, tuple[str, int] | None]:
        return {s: (j, 1 if j == "A" else 2) for s, j in outcome.items()}

    assert audit(first, placed(reserve_first)).passed
    assert audit(second, placed(open_first)).passed
    wrong = audit(first, placed(open_first))
    assert set(wrong.failed_rules()) == {"deferred_acceptance", "stability"}
    # x1 (unplaced at A) against A's choice of {w1, w2} ∪ {x1}: walk → w1, open → x1 over w2 (0.2 < 0.3).
    assert pairs(wrong) == [("x1", "A", "w2")]


def test_compact_seats_come_out_of_the_open_slots_first(tmp_path: Path) -> None:
    """A has 2 seats, 1 for `low` (revert, reserve_first: slots [low, open]); compact K places c at A.
    n1 (0.1) is at A, m1 (0.2, low) at B, both list A first.

    The compact's seat comes out of the open slot, leaving [low]: A's choice of {n1} ∪ {m1} gives
    low's seat to m1, so (m1, A) blocks, displacing n1. (Taken out of low's seat instead, the one
    open slot would take n1, ranked above m1: no pair.)
    """
    config = write(
        tmp_path,
        """
        data: {students: students.csv, schools: schools.csv, preferences: preferences.csv,
               reserves: reserves.csv, compacts: compacts.csv}
        compacts: {min_families: 1, require_under_selected: false}
        reserves: {members: {low: "ses=low"}}
        stability: {mode: soft}
        """,
        students="student_id,family_id,lottery,ses\nc,c,0.5,high\nn1,n1,0.1,high\nm1,m1,0.2,low",
        schools="school_id,capacity\nA,2\nB,5",
        preferences="student_id,school_id,rank\nc,B,1\nn1,A,1\nn1,B,2\nm1,A,1\nm1,B,2",
        reserves="school_id,reserve,seats\nA,low,1",
        compacts="compact_id,family_id,school_id\nK,c,A",
    )
    report = audit(config, {"c": ("A", "", "K"), "n1": ("A", 1), "m1": ("B", 2)})
    assert report.failed_rules() == ["reserves"], report.to_text()
    assert pairs(report) == [("m1", "A", "n1")]
    assert report.rule("reserves").violations[0].evidence["kept_out"] == ["m1"]


# --- lotteries ------------------------------------------------------------------------------------

# The draws used below, as anyone can redo them (checked against hashlib in the first test).
DRAWN = {
    "0:a:A": 15963544307823786573,
    "0:b:A": 7694964031186375992,
    "0:a:B": 8160501484848384015,
    "0:b:B": 15005853084026727303,
    "0:a": 11381658363930578919,
    "0:b": 16150351356220094717,
    "0:family:F1": 16891015218537493545,
    "0:family:F2": 690583443401262800,
    "0:family:g": 14114536842738348647,
    "0:f1a": 16263413161470934850,
    "0:f1b": 6751766020916674304,
    "0:f2": 14389534904593721145,
    "0:g": 6685363151533582764,
}


def test_the_draws_are_the_documented_sha256() -> None:
    for text, number in DRAWN.items():
        assert int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) == number


def two_schools(tmp_path: Path, kind: str, students: str, priorities: str | None = None) -> Path:
    """A and B one seat each; a and b list A then B."""
    files = {
        "students": students,
        "schools": "school_id,capacity\nA,1\nB,1",
        "preferences": "student_id,school_id,rank\na,A,1\na,B,2\nb,A,1\nb,B,2",
    }
    data = "students: students.csv, schools: schools.csv, preferences: preferences.csv"
    if priorities is not None:
        files["priorities"] = priorities
        data += ", priorities: priorities.csv"
    return write(tmp_path, f"data: {{{data}}}\nlottery: {{kind: {kind}}}\nsolver: {{seed: 0}}\n", **files)


def test_per_school_drawn(tmp_path: Path) -> None:
    """Single draws: a 11381658363930578919 < b 16150351356220094717: both schools take a first,
    DA gives a A, b B. Per school: at A b 7694964031186375992 < a 15963544307823786573; at B
    a 8160501484848384015 < b 15005853084026727303: A keeps b, a goes on to B."""
    single = two_schools(tmp_path / "single", "single", "student_id\na\nb")
    assert deferred_acceptance(district_of(single)) == {"a": "A", "b": "B"}
    per_school = district_of(two_schools(tmp_path / "per_school", "per_school", "student_id\na\nb"))
    assert per_school.order_key("b", "A") == (0, 7694964031186375992)
    assert deferred_acceptance(per_school) == {"b": "A", "a": "B"}


def test_per_school_from_priorities_ignores_students_lottery(tmp_path: Path) -> None:
    """students.csv says a 1, b 2 (unused); priorities.csv: at A b 0.1 < a 0.9, at B a 0.5 < b 0.7."""
    config = two_schools(
        tmp_path,
        "per_school",
        "student_id,lottery\na,1\nb,2",
        "student_id,school_id,priority,lottery\na,A,0,0.9\nb,A,0,0.1\na,B,0,0.5\nb,B,0,0.7",
    )
    assert deferred_acceptance(district_of(config)) == {"b": "A", "a": "B"}
    # b at B prefers A, which holds a, ranked below b there (0.9 vs 0.1).
    report = audit(config, {"a": ("A", 1), "b": ("B", 2)})
    assert pairs(report) == [("b", "A", "a")]
    (pair,) = report.rule("stability").details["blocking_pairs"]
    assert (pair["lottery"], pair["displaced_lottery"]) == ("0.1", "0.9")


FAMILY_STUDENTS = "student_id,family_id\nf1a,F1\nf1b,F1\ng,\nf2,F2"


def family_case(tmp_path: Path, kind: str, students: str = FAMILY_STUDENTS) -> Path:
    """A has 2 seats; everyone lists A only."""
    return write(
        tmp_path,
        f"data: {{students: students.csv, schools: schools.csv, preferences: preferences.csv}}\n"
        f"lottery: {{kind: {kind}}}\n",
        students=students,
        schools="school_id,capacity\nA,2",
        preferences="student_id,school_id,rank\nf1a,A,1\nf1b,A,1\ng,A,1\nf2,A,1",
    )


def test_family_lottery_drawn(tmp_path: Path) -> None:
    """Family numbers: F2 690583443401262800 < g 14114536842738348647 < F1 16891015218537493545;
    siblings f1b 6751766020916674304 < f1a 16263413161470934850. Order: f2, g, f1b, f1a; A keeps f2, g.
    The single kind orders by own draws: g 6685363151533582764, f1b 6751766020916674304, f2, f1a."""
    district = district_of(family_case(tmp_path / "family", "family"))
    order = sorted(district.students, key=lambda s: district.order_key(s, "A"))
    assert order == ["f2", "g", "f1b", "f1a"]
    assert district.order_key("f1b", "A") == (0, 16891015218537493545, 6751766020916674304)
    assert deferred_acceptance(district) == {"f2": "A", "g": "A"}
    single = district_of(family_case(tmp_path / "single", "single"))
    assert deferred_acceptance(single) == {"g": "A", "f1b": "A"}


def test_family_lottery_from_the_file(tmp_path: Path) -> None:
    """F1 5 (both siblings), g 3, F2 7: g, then F1's siblings by student_id as text (f1a < f1b), f2."""
    students = "student_id,family_id,lottery\nf1a,F1,5\nf1b,F1,5.0\ng,,3\nf2,F2,7"
    district = district_of(family_case(tmp_path, "family", students))
    assert sorted(district.students, key=lambda s: district.order_key(s, "A")) == ["g", "f1a", "f1b", "f2"]
    assert deferred_acceptance(district) == {"g": "A", "f1a": "A"}


# --- bad input: one line each, exit 2 ------------------------------------------------------------


def exit_2(config: Path) -> str:
    (config.parent / "assignment.csv").write_text(HEADER)
    result = CliRunner().invoke(audit_command, [str(config), str(config.parent / "assignment.csv")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


def test_bad_eligible_value_and_ineligible_compact_member(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv, "
        "priorities: priorities.csv, compacts: compacts.csv}",
        students="student_id,family_id\nc1,F\nc2,F\nx,",
        schools="school_id,capacity\nA,5",
        preferences="student_id,school_id,rank\nc1,A,1\nc2,A,1\nx,A,1",
        priorities="student_id,school_id,priority,eligible\nx,A,1,maybe\nc2,A,0,false",
        compacts="compact_id,family_id,school_id\nK,F,A",
    )
    output = exit_2(config)
    assert 'priorities.csv:2: expected eligible to be true or false, got "maybe"' in output
    assert (
        "priorities.csv:3: expected student 'c2' to be eligible at 'A', where compact 'K' places it "
        "(compacts.csv line 2)" in output
    )


def test_bad_reserves_input(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
        data: {students: students.csv, schools: schools.csv, preferences: preferences.csv,
               reserves: reserves.csv, reserve_members: reserve_members.csv}
        reserves: {precedence: first, members: {low: "ses=low"}}
        """,
        students="student_id\ns1",
        schools="school_id,capacity\nA,2\nB,3",
        preferences="student_id,school_id,rank\ns1,A,1",
        reserves="school_id,reserve,seats,precedence\nA,low,3,\nB,low,2,open_first\nB,ell,2,open_first\nB,x,0,later",
        reserve_members="student_id,school_id,reserve\ns1,A,ell\ns1,A,walk",
    )
    output = exit_2(config)
    assert 'config.yaml:3: expected reserves.precedence to be one of reserve_first, open_first, got "first"' in output
    config.write_text(config.read_text().replace("precedence: first", "precedence: reserve_first"))
    output = exit_2(config)
    for line in (
        "reserves.csv:2: expected reserve low of school A to have at most 2 seats (the seats there), got 3",
        "reserves.csv:4: expected the reserves of school B to total at most 3 seats (the seats there), "
        "got 4 with this row",
        'reserves.csv:5: expected precedence to be one of reserve_first, open_first (or empty), got "later"',
        'reserve_members.csv:3: expected a reserve of reserves.csv (low, ell), got "walk"',
        "config.yaml:3: expected students.csv to have a column ses (reserves.members.low), got none",
    ):
        assert line in output, output


def test_reserves_with_another_mechanism_and_family_without_family_id(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        """
        data: {students: students.csv, schools: schools.csv, preferences: preferences.csv, reserves: reserves.csv}
        mechanism: top_trading_cycles
        """,
        students="student_id\ns1",
        schools="school_id,capacity\nA,2",
        preferences="student_id,school_id,rank\ns1,A,1",
        reserves="school_id,reserve,seats\nA,low,1",
    )
    assert (
        "config.yaml:2: expected mechanism optimize or deferred_acceptance with data.reserves (reserves apply to "
        'deferred_acceptance and optimize), got "top_trading_cycles"' in exit_2(config)
    )
    config.write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\nlottery:\n  kind: family\n"
    )
    assert "config.yaml:3: expected students.csv to have a family_id column (lottery.kind family), got none" in exit_2(
        config
    )


def test_per_school_lottery_missing_and_repeated(tmp_path: Path) -> None:
    config = two_schools(
        tmp_path,
        "per_school",
        "student_id\na\nb",
        "student_id,school_id,lottery,priority\na,A,0.5,0\nb,A,0.50,0\na,B,0.2,0",
    )
    output = exit_2(config)
    assert "priorities.csv:3: expected lottery numbers at school A to differ, got 0.50 for student b" in output
    assert "preferences.csv:5: expected a lottery number for student b at school B" in output


# --- the auditor's own oracles on random small districts -------------------------------------------


def _random_reserves(rng: random.Random, district: District, cells: list[tuple[str, str]]) -> Reserves:
    seats: dict[tuple[str, str], list[tuple[str, int]]] = {}
    for cell in cells:
        capacity = district.capacity(*cell)
        listed = []
        for reserve in ("R", "Q"):
            n = rng.randint(0, capacity - sum(k for _r, k in listed))
            if rng.random() < 0.7:
                listed.append((reserve, n))
        if listed:
            seats[cell] = listed
    members = {s: {r for r in ("R", "Q") if rng.random() < 0.4} for s in district.students}
    return Reserves(
        order=["R", "Q"],
        seats=seats,
        lines={},
        precedence={j: rng.choice(["reserve_first", "open_first"]) for j in district.schools},
        hold=rng.random() < 0.5,
        by_column=members,
    )


@pytest.mark.parametrize("seed", range(120))
def test_reserves_against_their_literal_definitions(seed: int, tmp_path: Path) -> None:
    """On random districts: the judge's shortcut is C_j(μ_reg ∪ {s}) itself, and deferred acceptance
    with reserves leaves no reserve-aware blocking pair and keeps the rule `reserves`."""
    rng = random.Random(seed)
    students = [f"s{i}" for i in range(rng.randint(1, 8))]
    schools = ["A", "B", "C"][: rng.randint(1, 3)]
    lists = {s: rng.sample(schools, rng.randint(1, len(schools))) for s in students}
    config = write(
        tmp_path,
        DATA,
        students="student_id,lottery\n"
        + "\n".join(f"{s},{n}" for s, n in zip(students, rng.sample(range(99), len(students)), strict=True)),
        schools="school_id,capacity\n" + "\n".join(f"{j},{rng.randint(0, 4)}" for j in schools),
        preferences="student_id,school_id,rank\n"
        + "\n".join(f"{s},{j},{i}" for s in students for i, j in enumerate(lists[s])),
        priorities="student_id,school_id,priority,eligible\n"
        + "\n".join(f"{s},{j},{rng.randint(0, 1)},{rng.random() > 0.15}" for s in students for j in schools),
    )
    district = district_of(config)
    district.reserves = _random_reserves(rng, district, [(j, "") for j in schools])
    outcome = deferred_acceptance(district)
    assert all(district.eligible(s, j) for s, j in outcome.items())
    placements = place(district, [])
    placements.school.update(outcome)
    assert blocking_pairs(district, placements) == []
    assert reserves_rule(district, read_config(config), placements).passed
    # Any plan: the judge agrees with C_j applied to the cell's students and the applicant.
    plan = {s: rng.choice(lists[s]) for s in students if rng.random() < 0.7}
    placements = Placements([], {}, plan, {}, {})
    cells = cells_of(district, placements)
    judge = ReserveJudge(district, cells.regular, cells.holds)
    for s in students:
        for j in schools:
            if (j, "") not in district.reserves.seats or plan.get(s) == j:
                continue
            applicants = sorted([*cells.regular.get((j, ""), []), s], key=lambda t, j=j: district.order_key(t, j))
            seats = district.reserves.choose(j, judge.slots((j, "")), applicants)
            assert judge.chooses(s, (j, "")) == (s in seats.students)
