"""Hand-made cases: each wrong file breaks exactly the rule it is named for; each right one passes.

The data sets live in tests/data/audit/<case>/; every number asserted here was worked
out by hand from those files, not taken from the auditor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seatplan.auditor import Report, audit_files, audit_run

DATA = Path(__file__).resolve().parents[1] / "data" / "audit"


def run(case: str, config: str, assignment: str, metrics: str | None = None) -> Report:
    folder = DATA / case
    return audit_files(folder / config, folder / assignment, folder / metrics if metrics else None)


# (case, config, assignment, metrics, the rules that must fail — nothing else may)
CASES = [
    ("basic", "config.yaml", "right.csv", None, set()),
    ("basic", "config.yaml", "right.csv", "metrics_right.json", set()),
    ("basic", "config.yaml", "right.csv", "metrics_feasible.json", set()),
    ("basic", "config.yaml", "unknown_student.csv", None, {"known_ids"}),
    ("basic", "config.yaml", "unknown_school.csv", None, {"known_ids"}),
    ("basic", "config.yaml", "twice.csv", None, {"at_most_once"}),
    ("basic", "config.yaml", "missing.csv", None, {"every_student_listed"}),
    ("basic", "config.yaml", "not_on_list.csv", None, {"listed_school"}),
    ("basic", "config.yaml", "wrong_position.csv", None, {"position_column"}),
    ("basic", "config.yaml", "over_capacity.csv", None, {"capacity"}),
    ("basic", "config.yaml", "right.csv", "metrics_wrong_counts.json", {"metrics_counts"}),
    ("basic", "config.yaml", "right.csv", "metrics_optimal_bound.json", {"solver_status"}),
    ("basic", "config.yaml", "right.csv", "metrics_bound_above.json", {"solver_status"}),
    ("grades", "config.yaml", "right.csv", None, set()),
    ("grades", "config.yaml", "over_grade.csv", None, {"capacity"}),
    ("compacts", "config.yaml", "right.csv", "metrics_right.json", set()),
    ("compacts", "config.yaml", "split.csv", None, {"compact_together"}),
    ("compacts", "config.yaml", "wrong_compact_id.csv", None, {"compact_id_column"}),
    ("compacts", "config.yaml", "right.csv", "metrics_wrong_compacts.json", {"metrics_counts"}),
    ("compacts", "config_min3.yaml", "right.csv", None, {"compact_family_count"}),
    ("compacts", "config_ratio_025.yaml", "right.csv", None, set()),
    ("compacts", "config_ratio_02.yaml", "right.csv", None, {"compact_under_selected"}),
    ("compacts", "config_share_60.yaml", "right.csv", None, set()),
    ("compacts", "config_share_5999.yaml", "right.csv", None, {"compact_share"}),
    ("compacts", "config_twice.yaml", "right_twice.csv", None, {"compact_family_once"}),
    ("compacts", "config_mixed.yaml", "right.csv", None, {"compact_single_school"}),
    ("compacts", "config_unknown.yaml", "right.csv", None, {"compact_known"}),
    ("clusters", "config.yaml", "right.csv", None, set()),
    ("clusters", "config.yaml", "outside.csv", None, {"clusters"}),
    ("clusters", "config_off.yaml", "outside.csv", None, set()),
    ("diversity", "config_school.yaml", "right_school.csv", None, set()),
    (
        "diversity",
        "config_school.yaml",
        "wrong_school.csv",
        None,
        {"diversity #1 ell=1 by school (hard)"},
    ),
    ("diversity", "config_around.yaml", "right_school.csv", None, set()),
    (
        "diversity",
        "config_around.yaml",
        "wrong_around.csv",
        None,
        {"diversity #1 ell=1 by school (hard)"},
    ),
    ("diversity", "config_cluster.yaml", "right.csv", None, set()),
    (
        "diversity",
        "config_cluster.yaml",
        "wrong_cluster.csv",
        None,
        {"diversity #1 ell=1 by cluster (hard)"},
    ),
    ("diversity", "config_sector.yaml", "right.csv", None, set()),
    (
        "diversity",
        "config_sector.yaml",
        "wrong_sector.csv",
        None,
        {"diversity #1 ell=1 by sector (hard)"},
    ),
    ("objective", "config.yaml", "right.csv", "metrics_right.json", set()),
    *[
        ("objective", "config.yaml", "right.csv", f"metrics_wrong_{term}.json", {"objective"})
        for term in (
            "rank",
            "unassigned",
            "distance",
            "broken_compact",
            "outside_cluster",
            "diversity",
            "total",
        )
    ],
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
    assert report.passed is (not broken)
    for name in broken:
        # The printed report names the rule and marks it.
        assert f"{name}: FAIL" in report.to_text()


def messages(report: Report, rule: str) -> list[str]:
    return [v.message for v in report.rule(rule).violations]


def test_evidence_names_ids_and_amounts() -> None:
    assert messages(run("basic", "config.yaml", "over_capacity.csv"), "capacity") == [
        "school A holds 3, capacity 2 (over by 1)"
    ]
    assert messages(run("grades", "config.yaml", "over_grade.csv"), "capacity") == [
        "school B grade 1 holds 1, capacity 0 (over by 1)"
    ]
    assert messages(run("compacts", "config.yaml", "split.csv"), "compact_together") == [
        "compact K1: 1 of 2 families at U, family F2 at P"
    ]
    assert messages(run("basic", "config.yaml", "wrong_position.csv"), "position_column") == [
        'line 5: student s4 at B has position "20", expected 2'
    ]
    twice = run("basic", "config.yaml", "twice.csv").rule("at_most_once").violations
    assert len(twice) == 1 and twice[0].evidence["student_id"] == "s1" and twice[0].evidence["lines"] == [2, 7]
    unknown = run("basic", "config.yaml", "unknown_student.csv").rule("known_ids").violations
    assert [v.evidence["student_id"] for v in unknown] == ["s9"]
    assert 'unknown school "Z"' in messages(run("basic", "config.yaml", "unknown_school.csv"), "known_ids")[0]
    assert messages(run("basic", "config.yaml", "missing.csv"), "every_student_listed") == [
        "student s5 has no row (audited as unplaced)"
    ]
    assert "s3 placed at C" in messages(run("basic", "config.yaml", "not_on_list.csv"), "listed_school")[0]


def test_compact_rules_evidence() -> None:
    wrong_ids = run("compacts", "config.yaml", "wrong_compact_id.csv").rule("compact_id_column").violations
    assert [(v.evidence["student_id"], v.evidence["expected"]) for v in wrong_ids] == [
        ("c3", "K1"),
        ("c6", None),
    ]
    share = run("compacts", "config_share_5999.yaml", "right.csv").rule("compact_share").violations
    assert [(v.evidence["school_id"], v.evidence["cap"], v.amount) for v in share] == [("U", 2, 1)]
    counts = run("compacts", "config_min3.yaml", "right.csv").rule("compact_family_count").violations
    assert [v.evidence["compact_id"] for v in counts] == ["K1", "K2"]
    under = run("compacts", "config_ratio_02.yaml", "right.csv").rule("compact_under_selected").violations
    assert {v.evidence["compact_id"] for v in under} == {"K1", "K2"}
    twice = run("compacts", "config_twice.yaml", "right_twice.csv").rule("compact_family_once").violations
    assert [(v.evidence["family_id"], v.evidence["compacts"]) for v in twice] == [("F2", ["K1", "K3"])]
    mixed = run("compacts", "config_mixed.yaml", "right.csv").rule("compact_single_school").violations
    assert mixed[0].evidence["schools"] == ["U", "P"]
    unknown = run("compacts", "config_unknown.yaml", "right.csv").rule("compact_known").violations
    assert [v.evidence["family_id"] for v in unknown] == ["F9"]


def test_clusters_evidence() -> None:
    outside = run("clusters", "config.yaml", "outside.csv").rule("clusters").violations
    assert [v.message for v in outside] == ["student h1 (home cluster N) placed at B in cluster S"]


@pytest.mark.parametrize(
    ("config", "assignment", "units"),
    [
        ("config_school.yaml", "wrong_school.csv", {"A": 40, "D": 40}),
        # p = 40, band [25, 55]: A holds 1 of 5 (short 25), C holds 2 of 2 (over by 90).
        ("config_around.yaml", "wrong_around.csv", {"A": 25, "C": 90}),
        ("config_cluster.yaml", "wrong_cluster.csv", {"X": 150, "Y": 200}),
        ("config_sector.yaml", "wrong_sector.csv", {"district": 110, "charter": 165}),
    ],
)
def test_hard_diversity_shortfall_per_unit(config: str, assignment: str, units: dict[str, int]) -> None:
    report = run("diversity", config, assignment)
    (rule,) = [r for r in report.rules if r.rule.startswith("diversity #1")]
    assert {v.evidence["unit"]: v.amount for v in rule.violations} == units


def test_objective_terms_recomputed_by_hand() -> None:
    """All six terms are non-zero in this case; each was computed by hand.

    rank 3 × (s2 at its 2nd choice) = 3; unassigned 7 × s5 = 7;
    distance 2 × (100.08 km for s2 + 111.19 km for s4) = 422.54; broken_compact 5 × 2 families = 10;
    outside_cluster 4 × (s2 at B in S, s4 at A in N) = 8; diversity 3 × 40/100 + 1 × 50/100 = 1.70.
    """
    report = run("objective", "config.yaml", "right.csv")
    assert report.objective["terms"] == {
        "rank": 3.0,
        "unassigned": 7.0,
        "distance": 422.54,
        "broken_compact": 10.0,
        "outside_cluster": 8.0,
        "diversity": 1.7,
        "blocking_pairs": 0.0,  # stability and families are off here
        "split_families": 0.0,
    }
    assert report.objective["objective"] == 452.24
    assert report.objective["compared_with_metrics"] is False


@pytest.mark.parametrize("term", ["rank", "unassigned", "distance", "broken_compact", "outside_cluster", "diversity"])
def test_each_wrong_term_is_named(term: str) -> None:
    report = run("objective", "config.yaml", "right.csv", f"metrics_wrong_{term}.json")
    assert [v.evidence["term"] for v in report.rule("objective").violations] == [term]


def test_wrong_total_is_named() -> None:
    report = run("objective", "config.yaml", "right.csv", "metrics_wrong_total.json")
    (violation,) = report.rule("objective").violations
    assert violation.evidence["term"] == "objective" and violation.amount == pytest.approx(0.01)


def test_wrong_counts_are_each_named() -> None:
    report = run("basic", "config.yaml", "right.csv", "metrics_wrong_counts.json")
    fields = {v.evidence["field"] for v in report.rule("metrics_counts").violations}
    assert fields == {
        "assigned",
        "unassigned",
        "position_counts[1]",
        "position_counts[2]",
        "schools[C].placed",
    }
    report = run("compacts", "config.yaml", "right.csv", "metrics_wrong_compacts.json")
    fields = {v.evidence["field"] for v in report.rule("metrics_counts").violations}
    assert fields == {"compacts.honored", "compacts.families_honored"}


def test_optimal_needs_bound_equal_to_objective() -> None:
    report = run("basic", "config.yaml", "right.csv", "metrics_optimal_bound.json")
    assert "bound 0.00 ≠ objective 1.00" in report.rule("solver_status").violations[0].message


def test_run_folder_passes_and_a_changed_file_is_named() -> None:
    assert audit_run(DATA / "run").passed
    stale = audit_run(DATA / "run_stale")
    assert stale.failed_rules() == ["data_integrity"]
    (violation,) = stale.rule("data_integrity").violations
    assert violation.evidence["key"] == "schools" and violation.evidence["file"].endswith("schools.csv")
