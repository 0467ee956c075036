"""The objective, term by term, in cents: recomputed from the data and the config alone.

Cents (the objective × 100) are integers by construction of the contract, so every
comparison with metrics.json is exact.
"""

from __future__ import annotations

import math

from seatplan.auditor.config import TERMS, AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.rules import Placements, diversity_units, outside_cluster

EARTH_RADIUS_KM = 6371.0


def haversine_hundredths(a: tuple[float, float], b: tuple[float, float]) -> int:
    """Great-circle distance in hundredths of a km, rounded half up (the contract's 0.01 km)."""
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))
    return math.floor(km * 100 + 0.5)


def objective_cents(
    district: District,
    config: AuditConfig,
    placements: Placements,
    blocking_pairs: int = 0,
    split_families: int = 0,
) -> dict[str, int]:
    """Every term of the objective, in cents, and nothing else (the total is their sum).

    blocking_pairs and split_families are the counts (audit.stability); they cost their
    weight each only in soft mode.
    """
    w = config.weights
    rank_steps = 0
    for student, school in placements.school.items():
        if student in placements.through_compact:
            continue  # a member placed at its honored compact's school costs nothing
        position = district.position(student, school)
        if position is not None:
            rank_steps += position - 1
    unplaced = len(district.students) - len(placements.school)
    distance = 0
    if w["distance"] > 0:
        for student, school_id in placements.school.items():
            home = district.student_location.get(student)
            site = district.schools[school_id]
            # Reading refused missing coordinates when the distance weight is above 0.
            assert home is not None and site.lat is not None and site.lon is not None
            distance += haversine_hundredths(home, (site.lat, site.lon))
    broken_families = sum(len(c.families) for c in district.compacts.values() if not placements.honored[c.compact_id])
    outside = len(outside_cluster(district, placements)) if config.clusters_mode == "soft" else 0
    diversity = sum(
        rule.weight * diversity_units(district, rule, placements).shortfall
        for rule in config.diversity
        if rule.mode == "soft"
    )
    cents = {
        "rank": 100 * w["rank"] * rank_steps,
        "unassigned": 100 * w["unassigned"] * unplaced,
        "distance": w["distance"] * distance,
        "broken_compact": 100 * w["broken_compact"] * broken_families,
        "outside_cluster": 100 * w["outside_cluster"] * outside,
        "diversity": diversity,
        "blocking_pairs": (100 * config.stability_weight * blocking_pairs if config.stability_mode == "soft" else 0),
        "split_families": (100 * config.families_weight * split_families if config.families_mode == "soft" else 0),
    }
    assert tuple(cents) == TERMS
    return cents


def money(cents: int) -> str:
    """Cents as the 2-decimal number metrics.json and the solver print."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"
