"""School choice in the audit: blocking pairs, split families, deferred acceptance runs.

The data sets are in tests/data/audit/{stability,stability_compacts,stability_grades,feeder,
lottery_seed,families,da,da_run,da_two_stable}/; each config's comment works its case out by
hand, and the numbers asserted here come from those comments, not from the auditor.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.auditor import Report, audit_files, audit_run
from seatplan.auditor.cli import audit_command
from seatplan.auditor.district import District, School
from seatplan.auditor.rules import Placements
from seatplan.auditor.stability import blocking_pairs, deferred_acceptance
from seatplan.solver.cli import main

DATA = Path(__file__).resolve().parents[1] / "data" / "audit"


def run(case: str, config: str, assignment: str, metrics: str | None = None) -> Report:
    folder = DATA / case
    return audit_files(folder / config, folder / assignment, folder / metrics if metrics else None)


def pairs(report: Report) -> list[tuple[str, str, str | None]]:
    """(student, school, displaced student or None for a free seat), from --json's list."""
    return [
        (p["student_id"], p["school_id"], p["displaced"]) for p in report.rule("stability").details["blocking_pairs"]
    ]


# (case, config, assignment, metrics, the rules that must fail — nothing else may)
CASES = [
    ("stability", "config_hard.yaml", "stable.csv", None, set()),
    ("stability", "config_hard.yaml", "free_seat.csv", None, {"stability"}),
    ("stability", "config_hard.yaml", "ranked_below.csv", None, {"stability"}),
    ("stability", "config.yaml", "ranked_below.csv", None, set()),
    ("stability", "config_soft.yaml", "ranked_below.csv", None, set()),
    ("stability", "config_soft.yaml", "ranked_below.csv", "metrics_soft.json", set()),
    (
        "stability",
        "config_soft.yaml",
        "ranked_below.csv",
        "metrics_soft_wrong_term.json",
        {"objective"},
    ),
    (
        "stability",
        "config_soft.yaml",
        "ranked_below.csv",
        "metrics_soft_wrong_count.json",
        {"metrics_counts"},
    ),
    (
        "stability",
        "config_soft.yaml",
        "ranked_below.csv",
        "metrics_soft_no_count.json",
        {"metrics_counts"},
    ),
    ("stability_compacts", "config.yaml", "right.csv", None, set()),
    (
        "stability_compacts",
        "config_nocompacts.yaml",
        "no_compact_ids.csv",
        None,
        {"listed_school", "stability"},
    ),
    ("stability_grades", "config.yaml", "right.csv", None, set()),
    ("stability_grades", "config.yaml", "wrong.csv", None, {"stability"}),
    ("stability_grades", "config.yaml", "free_grade.csv", None, {"stability"}),
    ("feeder", "config_feeder0.yaml", "assignment.csv", None, {"stability"}),
    ("feeder", "config_feeder1.yaml", "assignment.csv", None, set()),
    ("lottery_seed", "config_seed0.yaml", "seed0.csv", None, set()),
    ("lottery_seed", "config_seed0.yaml", "seed1.csv", None, {"stability"}),
    ("lottery_seed", "config_seed1.yaml", "seed1.csv", None, set()),
    ("lottery_seed", "config_seed1.yaml", "seed0.csv", None, {"stability"}),
    ("lottery_seed", "config_seed0_da.yaml", "seed0.csv", None, set()),
    (
        "lottery_seed",
        "config_seed0_da.yaml",
        "seed1.csv",
        None,
        {"stability", "deferred_acceptance"},
    ),
    ("families", "config_hard.yaml", "assignment.csv", None, {"families"}),
    ("families", "config_soft.yaml", "assignment.csv", None, set()),
    ("families", "config_off.yaml", "assignment.csv", None, set()),
    ("da", "config.yaml", "assignment.csv", None, set()),
    ("da", "config.yaml", "assignment.csv", "metrics.json", set()),
    ("da", "config.yaml", "blocking.csv", None, {"stability", "deferred_acceptance"}),
    (
        "da",
        "config.yaml",
        "compact_placed.csv",
        None,
        {"listed_school", "compact_id_column", "deferred_acceptance"},
    ),
    ("da", "config.yaml", "assignment.csv", "metrics_wrong_term.json", {"objective"}),
    ("da", "config.yaml", "assignment.csv", "metrics_optimal.json", {"solver_status"}),
    ("da", "config.yaml", "assignment.csv", "metrics_honored.json", {"metrics_counts"}),
    ("da", "config.yaml", "assignment.csv", "metrics_wrong_split.json", {"metrics_counts"}),
    ("da", "config.yaml", "assignment.csv", "metrics_optimize.json", {"metrics_counts"}),
    ("da_two_stable", "config.yaml", "student_optimal.csv", None, set()),
    ("da_two_stable", "config.yaml", "school_optimal.csv", None, {"deferred_acceptance"}),
]


@pytest.mark.parametrize(
    ("case", "config", "assignment", "metrics", "broken"),
    CASES,
    ids=[f"{c[0]}-{c[1].removesuffix('.yaml')}-{c[2].removesuffix('.csv')}-{c[3] or 'nometrics'}" for c in CASES],
)
def test_case_breaks_exactly_its_rule(
    case: str, config: str, assignment: str, metrics: str | None, broken: set[str]
) -> None:
    report = run(case, config, assignment, metrics)
    assert set(report.failed_rules()) == broken, report.to_text()
    for name in broken:
        assert f"{name}: FAIL" in report.to_text()


# --- blocking pairs ---------------------------------------------------------------------------


def test_free_seat() -> None:
    """B has 2 seats and holds only s4: s2 (unplaced) and s5 (at its 2nd choice C) block with B."""
    report = run("stability", "config_hard.yaml", "free_seat.csv")
    assert pairs(report) == [("s2", "B", None), ("s5", "B", None)]
    assert [v.message for v in report.rule("stability").violations] == [
        "student s2 (unplaced) lists B at position 2, which has a free seat (holds 1 of 2)",
        "student s5 prefers B (position 1, placed at C position 2), which has a free seat (holds 1 of 2)",
    ]


def test_ranked_below_by_priority_then_lottery() -> None:
    """A: s1 (priority 2) over s3 (1); B: s2 over s1 by lottery (0.2 vs 0.5), s5 by priority."""
    report = run("stability", "config_hard.yaml", "ranked_below.csv")
    assert pairs(report) == [("s1", "A", "s3"), ("s2", "B", "s1"), ("s5", "B", "s1")]
    messages = [v.message for v in report.rule("stability").violations]
    assert messages[0] == (
        "student s1 prefers A (position 1, placed at B position 2), which holds s3 ranked below s1 (priority 1 vs 2)"
    )
    assert messages[1] == (
        "student s2 (unplaced) lists B at position 2, which holds s1 ranked below s2 "
        "(both priority 0; lottery 0.5 vs 0.2)"
    )
    text = report.to_text()
    assert "stability: FAIL — 3 blocking pairs" in text
    evidence = report.rule("stability").violations[1].evidence
    assert (evidence["reason"], evidence["lottery"], evidence["displaced_lottery"]) == (
        "ranked_below",
        "0.2",
        "0.5",
    )


def test_no_pair_when_the_school_is_full_of_better_ranked_students() -> None:
    """stable.csv: s2 is unplaced, but A holds s1 and B holds s5 and s4, all above s2."""
    report = run("stability", "config_hard.yaml", "stable.csv")
    assert pairs(report) == []
    assert report.rule("stability").info == ["0 blocking pairs"]


def test_compact_members_neither_envy_nor_are_displaced() -> None:
    report = run("stability_compacts", "config.yaml", "right.csv")
    assert pairs(report) == []
    # The same placements without compacts: c1 and c2 envy, and n1 displaces c2 (lottery 0.5,
    # below c1's 0.4) with its priority 5 at U.
    control = run("stability_compacts", "config_nocompacts.yaml", "no_compact_ids.csv")
    assert pairs(control) == [("c1", "A", None), ("c2", "B", "n2"), ("n1", "U", "c2")]


def test_grades() -> None:
    assert pairs(run("stability_grades", "config.yaml", "right.csv")) == []
    wrong = run("stability_grades", "config.yaml", "wrong.csv")
    assert pairs(wrong) == [("f1", "B", "f2")]
    assert wrong.rule("stability").violations[0].evidence["grade"] == "1"
    free = run("stability_grades", "config.yaml", "free_grade.csv")
    assert pairs(free) == [("k2", "B", None), ("k2", "A", None)]
    assert "which has a free seat in grade K (holds 1 of 2)" in free.to_text()


def test_feeder_priority_changes_the_order() -> None:
    none = run("feeder", "config_feeder0.yaml", "assignment.csv")
    assert pairs(none) == [("b", "H", "a")]
    bonus = run("feeder", "config_feeder1.yaml", "assignment.csv")
    assert pairs(bonus) == []


def test_seed_lottery_is_the_documented_sha256_rule() -> None:
    """The numbers written in lottery_seed/config_seed*.yaml, checked against hashlib here."""
    written = {
        (0, "x1"): 2117326955324746610,
        (0, "x3"): 4817714383419718532,
        (0, "x2"): 15402460961524954476,
        (1, "x3"): 6548175024806854537,
        (1, "x1"): 7841503302019884332,
        (1, "x2"): 13402395843329834913,
    }
    for (seed, student), number in written.items():
        digest = hashlib.sha256(f"{seed}:{student}".encode()).hexdigest()
        assert int(digest[:16], 16) == number
    seed0 = run("lottery_seed", "config_seed0.yaml", "seed1.csv")
    assert pairs(seed0) == [("x1", "A", "x3")]
    evidence = seed0.rule("stability").violations[0].evidence
    assert evidence["lottery"] == "2117326955324746610"
    assert evidence["displaced_lottery"] == "4817714383419718532"
    assert pairs(run("lottery_seed", "config_seed1.yaml", "seed0.csv")) == [("x3", "A", "x1")]


# --- modes and the objective ------------------------------------------------------------------


def test_soft_stability_counts_each_pair_at_its_weight() -> None:
    """ranked_below.csv: 3 pairs × weight 5 = 15; rank 2 (s1, s5 at 2nd) + unassigned 100."""
    report = run("stability", "config_soft.yaml", "ranked_below.csv")
    assert report.passed
    assert report.rule("stability").info == ["mode soft: 3 blocking pairs × weight 5 = 15.00 in the objective"]
    assert report.objective["terms"]["blocking_pairs"] == 15.0
    assert report.objective["objective"] == 117.0


def test_off_stability_still_counts_and_lists() -> None:
    report = run("stability", "config.yaml", "ranked_below.csv")
    assert report.rule("stability").info == ["mode off: not a rule; 3 blocking pairs (listed in --json)"]
    assert report.objective["terms"]["blocking_pairs"] == 0.0
    assert report.rule("stability").details["blocking_pair_count"] == 3


def test_wrong_blocking_term_and_count_are_named() -> None:
    wrong_term = run("stability", "config_soft.yaml", "ranked_below.csv", "metrics_soft_wrong_term.json")
    assert [v.evidence["term"] for v in wrong_term.rule("objective").violations] == [
        "blocking_pairs",
        "objective",
    ]
    wrong_count = run("stability", "config_soft.yaml", "ranked_below.csv", "metrics_soft_wrong_count.json")
    assert [v.message for v in wrong_count.rule("metrics_counts").violations] == [
        "blocking_pairs: recomputed 3, metrics.json says 2"
    ]


def test_older_metrics_without_the_new_terms(tmp_path: Path) -> None:
    """Without `mechanism`, a metrics.json may lack the new terms only while they are 0."""
    metrics = json.loads((DATA / "stability" / "metrics_soft.json").read_text())
    for key in ("mechanism", "blocking_pairs", "split_families"):
        del metrics[key]
    del metrics["terms"]["blocking_pairs"], metrics["terms"]["split_families"]
    (tmp_path / "m.json").write_text(json.dumps(metrics))
    folder = DATA / "stability"
    soft = audit_files(folder / "config_soft.yaml", folder / "ranked_below.csv", tmp_path / "m.json")
    assert soft.failed_rules() == ["objective"]
    assert soft.rule("objective").violations[0].message == (
        "term blocking_pairs: recomputed 15.00, metrics.json does not report it"
    )
    metrics["terms"]["blocking_pairs"] = 15.0
    (tmp_path / "m.json").write_text(json.dumps(metrics))
    soft = audit_files(folder / "config_soft.yaml", folder / "ranked_below.csv", tmp_path / "m.json")
    assert soft.passed, soft.to_text()
    assert any("not compared" in line for line in soft.rule("metrics_counts").info)


def test_families_hard_soft_off() -> None:
    hard = run("families", "config_hard.yaml", "assignment.csv")
    assert [v.message for v in hard.rule("families").violations] == [
        "family F2 split: b1 at A, b2 at B",
        "family F4 split: e1 at B, e2 unplaced",
    ]
    assert "families: FAIL — 2 split families" in hard.to_text()
    soft = run("families", "config_soft.yaml", "assignment.csv")
    assert soft.rule("families").info == ["together soft: 2 split families × weight 3 = 6.00 in the objective"]
    assert soft.objective["terms"]["split_families"] == 6.0
    assert soft.objective["objective"] == 309.0
    off = run("families", "config_off.yaml", "assignment.csv")
    assert off.rule("families").info == ["together off: not a rule; 2 split families"]
    assert off.objective["terms"]["split_families"] == 0.0


# --- deferred acceptance ----------------------------------------------------------------------


def test_deferred_acceptance_run_folder_passes_and_reports_what_it_does_not_apply() -> None:
    report = audit_run(DATA / "da_run")
    assert report.passed, report.to_text()
    assert report.rule("data_integrity").passed
    expected_info = {
        "compact_together": "not applied by deferred acceptance: compact K1: 1 of 2 families at U, family F2 unplaced",
        "clusters": "not applied by deferred acceptance: student n3 (home cluster N) placed at Q in cluster S",
        "diversity #1 ell=1 by school (hard)": "not applied by deferred acceptance: school P: 1 "
        "of 2 placed are ell=1 (50.00%), band [0, 40], shortfall 20 percent-students "
        "(0.20 students)",
        "families": "not applied by deferred acceptance: family F9 split: n2 at P, n3 at Q",
    }
    for rule, line in expected_info.items():
        assert line in report.rule(rule).info, report.rule(rule).info
    assert report.rule("diversity #1 ell=1 by school (hard)").details["not_applied"][0]["amount"] == 20
    assert report.objective["terms"]["broken_compact"] == 20.0
    assert report.objective["objective"] == 121.0


def test_deferred_acceptance_blocking_pair_fails() -> None:
    report = run("da", "config.yaml", "blocking.csv")
    assert pairs(report) == [("n3", "Q", "c2"), ("n3", "U", None)]
    assert report.rule("deferred_acceptance").violations[0].message == (
        "student c2 is at Q; deferred acceptance leaves it unplaced"
    )


def test_deferred_acceptance_places_no_one_through_a_compact() -> None:
    report = run("da", "config.yaml", "compact_placed.csv")
    (violation,) = report.rule("listed_school").violations
    assert violation.evidence == {"student_id": "c2", "school_id": "U"}
    assert {v.evidence["student_id"] for v in report.rule("compact_id_column").violations} == {
        "c1",
        "c2",
    }


def test_deferred_acceptance_status() -> None:
    report = run("da", "config.yaml", "assignment.csv", "metrics_optimal.json")
    assert [v.message for v in report.rule("solver_status").violations][0] == (
        'status is "optimal", expected stable for a deferred acceptance run'
    )


def test_a_stable_matching_that_is_not_deferred_acceptance_is_caught() -> None:
    report = run("da_two_stable", "config.yaml", "school_optimal.csv")
    assert pairs(report) == []
    assert [v.evidence["student_id"] for v in report.rule("deferred_acceptance").violations] == [
        "x",
        "y",
    ]


def test_changed_priorities_file_is_named(tmp_path: Path) -> None:
    shutil.copytree(DATA / "da", tmp_path / "da")
    shutil.copytree(DATA / "da_run", tmp_path / "da_run")
    with (tmp_path / "da" / "priorities.csv").open("a") as handle:
        handle.write("n1,Q,0\n")
    report = audit_run(tmp_path / "da_run")
    assert report.failed_rules() == ["data_integrity"]
    (violation,) = report.rule("data_integrity").violations
    assert violation.evidence["key"] == "priorities"


# --- the command ------------------------------------------------------------------------------


def invoke(*args: str | Path):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(audit_command, [str(a) for a in args])


def test_json_lists_the_pairs_in_soft_mode() -> None:
    folder = DATA / "stability"
    result = invoke(folder / "config_soft.yaml", folder / "ranked_below.csv", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    (rule,) = [r for r in document["rules"] if r["rule"] == "stability"]
    assert rule["passed"] is True and rule["blocking_pair_count"] == 3
    assert [(p["student_id"], p["school_id"], p["reason"]) for p in rule["blocking_pairs"]] == [
        ("s1", "A", "ranked_below"),
        ("s2", "B", "ranked_below"),
        ("s5", "B", "ranked_below"),
    ]
    assert document["objective"]["terms"]["blocking_pairs"] == 15.0


def test_hard_listing_is_capped_at_20(tmp_path: Path) -> None:
    (tmp_path / "students.csv").write_text("student_id\n" + "".join(f"x{i}\n" for i in range(25)))
    (tmp_path / "schools.csv").write_text("school_id,capacity\nA,30\n")
    (tmp_path / "preferences.csv").write_text("student_id,school_id,rank\n" + "".join(f"x{i},A,1\n" for i in range(25)))
    (tmp_path / "config.yaml").write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\nstability: {mode: hard}\n"
    )
    (tmp_path / "a.csv").write_text(
        "student_id,school_id,position,compact_id\n" + "".join(f"x{i},,,\n" for i in range(25))
    )
    result = invoke(tmp_path / "config.yaml", tmp_path / "a.csv")
    assert result.exit_code == 1
    assert "stability: FAIL — 25 blocking pairs" in result.output
    assert "… and 5 more" in result.output


# --- unreadable input -------------------------------------------------------------------------


@pytest.fixture
def stability_copy(tmp_path: Path) -> Path:
    shutil.copytree(DATA / "stability", tmp_path / "stability")
    return tmp_path / "stability"


def exit_2(folder: Path, config: str = "config.yaml") -> str:
    result = invoke(folder / config, folder / "stable.csv")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    return result.output


def test_priorities_unknown_school_and_student_and_repeats(stability_copy: Path) -> None:
    (stability_copy / "priorities.csv").write_text(
        "student_id,school_id,priority\ns1,A,2\ns1,Z,1\ns9,A,1\ns1,A,3\ns2,B,high\n"
    )
    output = exit_2(stability_copy)
    assert 'priorities.csv:3: unknown school_id "Z" (not in schools.csv)' in output
    assert 'priorities.csv:4: unknown student_id "s9" (not in students.csv)' in output
    assert "priorities.csv:5: student s1 has a priority at school A twice (first on line 2)" in (output)
    assert 'priorities.csv:6: expected priority to be an integer, got "high"' in output


def test_lottery_non_numeric_empty_and_repeated(stability_copy: Path) -> None:
    (stability_copy / "students.csv").write_text("student_id,lottery\ns1,0.5\ns2,abc\ns3,\ns4,0.50\ns5,7\n")
    output = exit_2(stability_copy)
    assert 'students.csv:3: expected lottery to be a number for student s2, got "abc"' in output
    assert "students.csv:4: expected a lottery number for student s3 (the file has a lottery column)" in output
    # 0.50 is the number 0.5: a repeat.
    assert (
        "students.csv:5: lottery 0.50 of student s4 repeats that of student s1 (line 2); "
        "lottery numbers must be distinct" in output
    )


def test_feeds_naming_an_unknown_school(stability_copy: Path) -> None:
    (stability_copy / "schools.csv").write_text("school_id,capacity,feeds\nA,1,B\nB,2,\nC,2,Z\n")
    output = exit_2(stability_copy)
    assert 'schools.csv:4: school C feeds unknown school_id "Z" (not in schools.csv)' in output


def test_bad_config_keys(stability_copy: Path) -> None:
    (stability_copy / "bad.yaml").write_text(
        "data: {students: students.csv, schools: schools.csv, preferences: preferences.csv}\n"
        "stability: {mode: strict, wieght: 2}\n"
        "families: {together: hard, weight: -1}\n"
        "mechanism: lottery\n"
        "clusters: {feeder_priority: -2}\n"
        "solver: {seed: x}\n"
    )
    output = exit_2(stability_copy, "bad.yaml")
    for expected in (
        'bad.yaml:2: expected stability.mode to be one of off, soft, hard, got "strict"',
        "bad.yaml:2: unknown key stability.wieght (did you mean weight?)",
        'bad.yaml:3: expected families.weight to be an integer ≥ 0, got "-1"',
        "bad.yaml:4: expected mechanism to be one of optimize, deferred_acceptance, school_proposing, "
        'immediate_acceptance, top_trading_cycles, got "lottery"',
        'bad.yaml:5: expected clusters.feeder_priority to be an integer ≥ 0, got "-2"',
        'bad.yaml:6: expected solver.seed to be an integer ≥ 0, got "x"',
    ):
        assert expected in output, output


# --- the auditor's own oracles: literal definitions on random tiny districts ------------------


def _tiny_district(rng: random.Random, grades: bool) -> District:
    students = [f"s{i}" for i in range(rng.randint(1, 6))]
    school_ids = [f"J{j}" for j in range(rng.randint(1, 3))]
    # Mostly one seat and full lists: that is where several stable matchings appear.
    some_seats = [0, 1, 1, 1, 2]
    grade_of = {s: rng.choice("KA") for s in students} if grades else None
    seats = {(j, g): rng.choice(some_seats) for j in school_ids for g in "KA" if rng.random() < 0.8} if grades else {}
    schools = {
        j: School(
            j,
            "",
            "",
            sum(n for (k, _g), n in seats.items() if k == j) if grades else rng.choice(some_seats),
            None,
            None,
            None,
        )
        for j in school_ids
    }
    lists = {s: rng.sample(school_ids, rng.choice([0, len(school_ids), len(school_ids), 1])) for s in students}
    lottery = dict(zip(students, rng.sample(range(100), len(students)), strict=True))
    district = District(
        students=students,
        family={s: s for s in students},
        grade=grade_of,
        home_cluster={s: "" for s in students},
        attributes={},
        student_location={},
        schools=schools,
        seats=seats,
        lists={s: listed for s, listed in lists.items() if listed},
        compacts={},
        family_members={s: [s] for s in students},
        first_choices=Counter(),
        lottery=dict(lottery),
        lottery_text={s: str(n) for s, n in lottery.items()},
        priorities={(s, j): rng.randint(0, 2) for s in students for j in school_ids},
    )
    district.link_compacts()
    return district


def _assignments(district: District) -> list[dict[str, str]]:
    """Every assignment to listed schools within the seats."""
    found: list[dict[str, str]] = []
    options = [[None, *district.lists.get(s, [])] for s in district.students]
    for choice in itertools.product(*options):
        placed = {s: j for s, j in zip(district.students, choice, strict=True) if j is not None}
        held = Counter((j, district.grade[s] if district.grade else "") for s, j in placed.items())
        if all(
            n <= (district.seats.get(key, 0) if district.grade else district.schools[key[0]].capacity)
            for key, n in held.items()
        ):
            found.append(placed)
    return found


def _literal_pairs(district: District, placed: dict[str, str]) -> set[tuple[str, str]]:
    """The contract's words, one pair at a time, with no shortcut."""
    found: set[tuple[str, str]] = set()
    for s in district.students:
        listed = district.lists.get(s, [])
        here = placed.get(s)
        for j in listed:
            if here is not None and listed.index(j) >= listed.index(here):
                continue
            grade = district.grade[s] if district.grade else ""
            same = [t for t, k in placed.items() if k == j and (not district.grade or district.grade[t] == grade)]
            seats = district.seats.get((j, grade), 0) if district.grade else district.schools[j].capacity
            if seats == 0:
                continue
            key = (-district.priorities[(s, j)], district.lottery[s])
            if len(same) < seats or any((-district.priorities[(t, j)], district.lottery[t]) > key for t in same):
                found.add((s, j))
    return found


def _rank(district: District, student: str, school: str | None) -> int:
    listed = district.lists.get(student, [])
    return listed.index(school) if school is not None else len(listed)


@pytest.mark.parametrize("seed", range(150))
def test_blocking_pairs_and_deferred_acceptance_against_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    district = _tiny_district(rng, grades=seed % 2 == 1)
    every = _assignments(district)
    stable = [a for a in every if not _literal_pairs(district, a)]
    for placed in rng.sample(every, min(5, len(every))):
        placements = Placements([], {}, dict(placed), {}, {})
        mine = {(p.student, p.school) for p in blocking_pairs(district, placements)}
        assert mine == _literal_pairs(district, placed)
    # Deferred acceptance: stable, and every student weakly prefers it to any stable matching.
    outcome = deferred_acceptance(district)
    assert outcome in stable
    for other in stable:
        for s in district.students:
            assert _rank(district, s, outcome.get(s)) <= _rank(district, s, other.get(s))


def test_what_a_mechanism_does_not_apply_is_said_in_its_name(tmp_path: Path) -> None:
    """An immediate-acceptance run's unapplied rules are "not applied by immediate acceptance" (they
    were said to be deferred acceptance's for every mechanism)."""
    scenario = Path(__file__).resolve().parents[2] / "configs" / "scenarios" / "immediate_acceptance.yaml"
    solved = CliRunner().invoke(main, ["solve", str(scenario), "--out", str(tmp_path / "run"), "--quiet"])
    assert solved.exit_code == 0, solved.output
    text = audit_run(tmp_path / "run").to_text()
    assert "not applied by immediate acceptance" in text and "deferred acceptance" not in text, text
