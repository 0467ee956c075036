"""Every rule and objective term on a tiny hand-made instance whose optimum is worked out in the
comments; each case runs on every backend (the backend suite)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from seatplan.solver.solve import solve
from tests.conftest import settings_for, write_case


@dataclass
class Case:
    name: str
    students: str
    schools: str
    preferences: str
    objective: float
    config: dict[str, Any] = field(default_factory=dict)
    compacts: str | None = None
    seats: str | None = None
    placed: dict[str, str] = field(default_factory=dict)  # student -> school ("" = unplaced)
    terms: dict[str, float] = field(default_factory=dict)
    honored: int | None = None


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# A school of 1 seat wanted by three students; the one with no second choice gets it.
RANK = Case(
    "rank",
    "student_id\ns1\ns2\ns3",
    "school_id,capacity\nA,1\nB,2",
    "student_id,school_id,rank\ns1,A,1\ns1,B,2\ns2,A,1\ns2,B,2\ns3,A,1",
    objective=2.0,
    placed={"s1": "B", "s2": "B", "s3": "A"},
    terms={"rank": 2.0, "unassigned": 0.0},
)

# Two students, one seat: one stays unplaced (100), and never at an unlisted school.
UNASSIGNED = Case(
    "unassigned",
    "student_id\ns1\ns2",
    "school_id,capacity\nA,1\nB,5",
    "student_id,school_id,rank\ns1,A,1\ns2,A,1",
    objective=100.0,
    terms={"unassigned": 100.0},
)

# Ranks are ordered, not positions: ranks 10 and 20 are positions 1 and 2.
RANK_GAPS = Case(
    "rank_gaps",
    "student_id\ns1\ns2",
    "school_id,capacity\nA,1\nB,1",
    "student_id,school_id,rank\ns1,B,20\ns1,A,10\ns2,A,5",
    objective=1.0,
    placed={"s1": "B", "s2": "A"},
)

# Seats per grade: s3 (grade 1) has no seat at B, so it takes A (position 2);
# s1 and s2 (grade K) share A's and B's K seats: one of them at position 2.
GRADES = Case(
    "grades",
    "student_id,grade\ns1,K\ns2,K\ns3,1",
    "school_id\nA\nB",
    "student_id,school_id,rank\ns1,A,1\ns1,B,2\ns2,A,1\ns2,B,2\ns3,B,1\ns3,A,2",
    seats="school_id,grade,capacity\nA,K,1\nA,1,1\nB,K,1",
    objective=2.0,
    placed={"s3": "A"},
)

COMPACT_DATA = dict(
    students="student_id,family_id\na1,f1\na2,f1\nb1,f2\nc1,f3",
    preferences="student_id,school_id,rank\na1,P,1\na2,P,1\nb1,P,1\nb1,U,2\nc1,P,1",
    compacts="compact_id,family_id,school_id\nK1,f1,U\nK1,f2,U",
)

# Four students want P (2 seats). The compact of f1 and f2 at under-selected U places its three
# members there at no rank cost (b1 listed U second: still 0), c1 takes P: optimum 0.
COMPACT_HONORED = Case(
    "compact_honored",
    schools="school_id,capacity\nP,2\nU,4",
    objective=0.0,
    config={"objective": {"rank": 1, "unassigned": 100, "broken_compact": 10}},
    placed={"a1": "U", "a2": "U", "b1": "U", "c1": "P"},
    honored=1,
    **COMPACT_DATA,
)

# The same, but a compact may take only ⌊50 × 4 / 100⌋ = 2 seats of U: it cannot be honored.
# Members may not be placed at U outside the compact (b1 listed it!), so two of the four get P,
# two are unplaced (200), and 2 families are in a broken compact (2 × 10): 220.
COMPACT_SHARE = Case(
    "compact_share",
    schools="school_id,capacity\nP,2\nU,4",
    objective=220.0,
    config={"compacts": {"max_share": 50}, "objective": {"rank": 1, "unassigned": 100, "broken_compact": 10}},
    terms={"unassigned": 200.0, "broken_compact": 20.0},
    honored=0,
    **COMPACT_DATA,
)

# All or none: U has 2 seats for 3 members, so the compact is broken: 220 as above.
COMPACT_TOGETHER = Case(
    "compact_together",
    schools="school_id,capacity\nP,2\nU,2",
    objective=220.0,
    config={"objective": {"rank": 1, "unassigned": 100, "broken_compact": 10}},
    honored=0,
    **COMPACT_DATA,
)

CLUSTER_DATA = dict(
    students="student_id,home_cluster\ns1,N\ns2,N\ns3,",
    schools="school_id,capacity,cluster\nA,1,N\nB,2,S\nC,1,",
    preferences="student_id,school_id,rank\ns1,B,1\ns1,A,2\ns2,A,1\ns3,B,1",
)

# Hard: s1 may not go to B (cluster S); s1 and s2 compete for A: one is unplaced. 100.
CLUSTERS_HARD = Case(
    "clusters_hard",
    objective=100.0,
    config={"clusters": {"mode": "hard"}},
    placed={"s1": "", "s2": "A", "s3": "B"},
    **CLUSTER_DATA,
)

# Soft, 2 per student outside: s1 takes B anyway: 2.
CLUSTERS_SOFT = Case(
    "clusters_soft",
    objective=2.0,
    config={"clusters": {"mode": "soft"}, "objective": {"outside_cluster": 2}},
    placed={"s1": "B", "s2": "A", "s3": "B"},
    terms={"outside_cluster": 2.0},
    **CLUSTER_DATA,
)

# Soft at 200 per student outside costs more than leaving s1 unplaced: 100.
CLUSTERS_SOFT_DEAR = Case(
    "clusters_soft_dear",
    objective=100.0,
    config={"clusters": {"mode": "soft"}, "objective": {"outside_cluster": 200}},
    **CLUSTER_DATA,
)

# Off: the weight is ignored.
CLUSTERS_OFF = Case(
    "clusters_off",
    objective=0.0,
    config={"clusters": {"mode": "off"}, "objective": {"outside_cluster": 200}},
    **CLUSTER_DATA,
)

# Hard clusters do not stop a compact: s1 (home N) is honored at U in cluster S.
CLUSTERS_HARD_COMPACT = Case(
    "clusters_hard_compact",
    students="student_id,family_id,home_cluster\ns1,f1,N\ns2,f2,N",
    schools="school_id,capacity,cluster\nA,1,N\nU,5,S",
    preferences="student_id,school_id,rank\ns1,A,1\ns2,A,1",
    compacts="compact_id,family_id,school_id\nK1,f1,U\nK1,f2,U",
    objective=0.0,
    config={"clusters": {"mode": "hard"}, "objective": {"outside_cluster": 5}},
    placed={"s1": "U", "s2": "U"},
    honored=1,
)

DIVERSITY_DATA = dict(
    students="student_id,ses\nl1,low\nl2,low\nh1,high\nh2,high",
    schools="school_id,capacity,sector\nA,2,district\nB,2,charter",
    preferences="student_id,school_id,rank\nl1,A,1\nl1,B,2\nl2,A,1\nl2,B,2\nh1,B,1\nh1,A,2\nh2,B,1\nh2,A,2",
)

# Band [50, 50] by school, weight 10: separated, each school is short by 100 percent-students
# (cost 10 × 200 / 100 = 20); mixing costs 2 rank steps and no shortfall: 2.
DIVERSITY_SOFT = Case(
    "diversity_soft",
    objective=2.0,
    config={"diversity": [{"attribute": "ses", "category": "low", "band": [50, 50], "weight": 10}]},
    terms={"rank": 2.0, "diversity": 0.0},
    **DIVERSITY_DATA,
)

# The same at weight 0.5 → not allowed (integers), so weight 1 with band [50, 100]:
# separated, B has k=0 of n=2: shortfall 100 → cost 1; mixing costs 2: stay separated, 1.
DIVERSITY_SOFT_CHEAP = Case(
    "diversity_soft_cheap",
    objective=1.0,
    config={"diversity": [{"attribute": "ses", "category": "low", "band": [50, 100], "weight": 1}]},
    terms={"rank": 0.0, "diversity": 1.0},
    placed={"l1": "A", "l2": "A", "h1": "B", "h2": "B"},
    **DIVERSITY_DATA,
)

# Hundredths: one school of 3 with 2 of 3 low, band [0, 60]: shortfall 200 − 180 = 20 → 0.20.
DIVERSITY_CENTS = Case(
    "diversity_cents",
    students="student_id,ses\nl1,low\nl2,low\nh1,high",
    schools="school_id,capacity\nA,3",
    preferences="student_id,school_id,rank\nl1,A,1\nl2,A,1\nh1,A,1",
    objective=0.2,
    config={"diversity": [{"attribute": "ses", "category": "low", "band": [0, 60], "weight": 1}]},
    terms={"diversity": 0.2},
)

# Hard by sector, band [0, 75]: three low-income students list the charter B first; B may not be
# all low-income, so h1 joins them at its second choice: 1.
DIVERSITY_HARD_SECTOR = Case(
    "diversity_hard_sector",
    students="student_id,ses\nl1,low\nl2,low\nl3,low\nh1,high",
    schools="school_id,capacity,sector\nA,4,district\nB,4,charter",
    preferences="student_id,school_id,rank\nl1,B,1\nl1,A,2\nl2,B,1\nl2,A,2\nl3,B,1\nl3,A,2\nh1,A,1\nh1,B,2",
    objective=1.0,
    config={"diversity": [{"attribute": "ses", "category": "low", "scope": "sector", "band": [0, 75], "mode": "hard"}]},
    placed={"h1": "B"},
)

# Hard by cluster around the district: 1 of 4 students is an English learner, p = 25, t = 5:
# band [20, 30]. Cluster N (A) holds 2 and cluster S (B) 2: each must have no English learner
# (0% < 20% with n>0 breaks it) … or be empty. Everyone in one cluster: 25%. e1 and x1 want A,
# x2 and x3 want B (each listing the other second): two move, cost 2 (all at A or all at B).
DIVERSITY_HARD_AROUND = Case(
    "diversity_hard_around",
    students="student_id,ell\ne1,1\nx1,0\nx2,0\nx3,0",
    schools="school_id,capacity,cluster\nA,4,N\nB,4,S",
    preferences="student_id,school_id,rank\ne1,A,1\ne1,B,2\nx1,A,1\nx1,B,2\nx2,B,1\nx2,A,2\nx3,B,1\nx3,A,2",
    objective=2.0,
    config={
        "diversity": [{"attribute": "ell", "category": 1, "scope": "cluster", "around_district": 5, "mode": "hard"}]
    },
    terms={"rank": 2.0, "unassigned": 0.0},
)

# Distance: rank step 1 versus km. A is 1° of longitude away on the equator, B half of that.
_KM_A = math.floor(_haversine(0, 0, 0, 1) * 100 + 0.5) / 100
_KM_B = math.floor(_haversine(0, 0, 0, 0.5) * 100 + 0.5) / 100
DISTANCE = Case(
    "distance",
    "student_id,lat,lon\ns1,0,0",
    "school_id,capacity,lat,lon\nA,1,0,1\nB,1,0,0.5",
    "student_id,school_id,rank\ns1,A,1\ns1,B,2",
    objective=round(min(_KM_A, 1 + _KM_B), 2),
    config={"objective": {"distance": 1}},
    placed={"s1": "B"},
    terms={"distance": _KM_B, "rank": 1.0},
)

CASES = [
    RANK,
    UNASSIGNED,
    RANK_GAPS,
    GRADES,
    COMPACT_HONORED,
    COMPACT_SHARE,
    COMPACT_TOGETHER,
    CLUSTERS_HARD,
    CLUSTERS_SOFT,
    CLUSTERS_SOFT_DEAR,
    CLUSTERS_OFF,
    CLUSTERS_HARD_COMPACT,
    DIVERSITY_SOFT,
    DIVERSITY_SOFT_CHEAP,
    DIVERSITY_CENTS,
    DIVERSITY_HARD_SECTOR,
    DIVERSITY_HARD_AROUND,
    DISTANCE,
]


def _write(case: Case, folder: Path) -> Path:
    return write_case(
        folder,
        case.students,
        case.schools,
        case.preferences,
        compacts=case.compacts,
        seats=case.seats,
        config=case.config,
        name=case.name,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_known_optimum(case: Case, backend: str, tmp_path: Path) -> None:
    result = solve(settings_for(_write(case, tmp_path), backend))
    assert result.status == "optimal", result.log[-5:]
    assert result.objective == pytest.approx(case.objective, abs=1e-9)
    assert result.bound == pytest.approx(case.objective, abs=1e-9)
    ids = list(result.instance.student_ids)
    for student, school in case.placed.items():
        index = result.placement.school[ids.index(student)]
        got = "" if index < 0 else result.instance.school_ids[index]
        assert got == school, f"{student}: expected {school or 'unplaced'}, got {got or 'unplaced'}"
    for term, value in case.terms.items():
        assert result.evaluation.terms[term] / 100 == pytest.approx(value, abs=1e-9), term
    if case.honored is not None:
        assert int(result.evaluation.honored.sum()) == case.honored


def test_around_district_band(tmp_path: Path) -> None:
    """p = ⌊100·K/N + 1/2⌋: 1 of 8 is 12.5% → 13; ±10 gives [3, 23]; 1 of 3 is 33.3% → 33."""
    from seatplan.models.data import load_instance
    from seatplan.models.rules.diversity import band

    students = "student_id,g\n" + "\n".join(f"s{i},{'y' if i == 0 else 'n'}" for i in range(8))
    path = write_case(
        tmp_path,
        students,
        "school_id,capacity\nA,8",
        "student_id,school_id,rank\ns0,A,1",
        config={"diversity": [{"attribute": "g", "category": "y", "around_district": 10}]},
    )
    from seatplan.models.config import load_config

    config = load_config(path)
    assert band(load_instance(config), config.diversity[0]) == (3, 23)
    students = "student_id,g\ns0,y\ns1,n\ns2,n"
    path = write_case(
        tmp_path / "b",
        students,
        "school_id,capacity\nA,8",
        "student_id,school_id,rank\ns0,A,1",
        config={"diversity": [{"attribute": "g", "category": "y", "around_district": 50}]},
    )
    config = load_config(path)
    assert band(load_instance(config), config.diversity[0]) == (0, 83)


def test_hard_band_leaves_a_student_out(backend: str, tmp_path: Path) -> None:
    """A hard band is met by leaving a student out when nothing else meets it: an empty school is
    inside every band (n = 0), so the hard rules of this model can always all hold."""
    path = write_case(
        tmp_path,
        "student_id,ses\nl1,low\nh1,high",
        "school_id,capacity\nA,2",
        "student_id,school_id,rank\nl1,A,1\nh1,A,1",
        config={"diversity": [{"attribute": "ses", "category": "low", "band": [0, 40], "mode": "hard"}]},
    )
    result = solve(settings_for(path, backend))
    # Placing h1 alone is in band (0%), so the optimum leaves l1 out: 100.
    assert result.status == "optimal" and result.objective == 100.0
    assert list(result.placement.school) == [-1, 0]
