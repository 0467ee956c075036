"""A synthetic but realistic district: the demo's data and the benchmark's instances.

What makes it realistic, and why each part matters to the model:
- neighbourhoods with their own income mix (segregated: a few poor, a few affluent, most mixed), so a
  school filled from its neighbourhood misses a diversity band and the band costs something;
- clusters drawn as regions of the city (each school and student in the region's cluster), so
  keeping students in their cluster competes with their choices;
- school popularity that leans towards affluent areas, so some schools are over-subscribed and some
  under-selected, which is where compacts may go;
- ranked lists of 3 to `max_choices` schools chosen by a logit of popularity and distance;
- families with siblings sharing a home; compacts of 2 to 11 neighbouring families aimed at an
  under-selected school; a charter sector of citywide schools.
Everything is drawn from one numpy Generator seeded by `seed`, so the same spec writes the same files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from seatplan.models.errors import InputError, Problem

CENTER_LAT, CENTER_LON = 42.33, -71.07  # a city of about 20 km across
SPAN_KM = 20.0
KM_PER_DEG_LAT = 111.2
RACES = np.array(["black", "hispanic", "white", "asian", "other"])


@dataclass(frozen=True)
class DistrictSpec:
    """What to generate."""

    students: int = 3000
    schools: int = 30
    clusters: int = 5
    seed: int = 0
    compact_share: float = 0.03
    max_choices: int = 12
    min_choices: int = 3
    grades: tuple[str, ...] = ()
    charter_share: float = 0.15
    seat_ratio: float = 1.08  # seats per student, district-wide


def generate_district(spec: DistrictSpec) -> dict[str, pd.DataFrame]:
    """The data tables of a district: students, schools, preferences, compacts (and seats with grades)."""
    rng = np.random.default_rng(spec.seed)
    n_students, n_schools = spec.students, spec.schools
    n_clusters = max(1, min(spec.clusters, n_schools))

    # Neighbourhoods and their mix: income segregation is what makes diversity bands bind.
    n_hoods = max(n_clusters * 3, int(np.sqrt(n_students) / 4), 4)
    hood_xy = rng.uniform(0.08, 0.92, size=(n_hoods, 2)) * SPAN_KM
    hood_low = rng.beta(0.9, 0.9, size=n_hoods) * 0.85 + 0.05
    cluster_xy = _kmeans(hood_xy, n_clusters, rng)

    # Schools: near neighbourhoods; charters are citywide (no cluster).
    school_hood = rng.integers(0, n_hoods, size=n_schools)
    school_xy = hood_xy[school_hood] + rng.normal(0, 1.2, size=(n_schools, 2))
    school_xy = np.clip(school_xy, 0, SPAN_KM)
    school_cluster = _assign_clusters(school_xy, cluster_xy)
    charter = rng.random(n_schools) < spec.charter_share
    for c in range(n_clusters):  # a cluster keeps at least one district school
        inside = np.flatnonzero(school_cluster == c)
        if len(inside) and charter[inside].all():
            charter[inside[0]] = False
    popularity = rng.normal(0, 1.0, size=n_schools) + 1.5 * (0.5 - hood_low[school_hood])

    # Families and students: siblings share a home, a neighbourhood and a home cluster.
    sizes = rng.choice([1, 2, 3], p=[0.7, 0.22, 0.08], size=n_students)
    sizes = sizes[np.cumsum(sizes) <= n_students]
    if sizes.sum() < n_students:
        sizes = np.append(sizes, np.ones(n_students - sizes.sum(), dtype=int))
    n_families = len(sizes)
    family_of = np.repeat(np.arange(n_families), sizes)
    family_hood = rng.integers(0, n_hoods, size=n_families)
    family_xy = np.clip(hood_xy[family_hood] + rng.normal(0, 1.0, size=(n_families, 2)), 0, SPAN_KM)
    family_low = rng.random(n_families) < hood_low[family_hood]
    student_xy = family_xy[family_of]
    student_hood = family_hood[family_of]
    low = family_low[family_of]
    home_cluster = _nearest(student_xy, cluster_xy)
    ell = rng.random(n_students) < np.where(low, 0.22, 0.07)
    sped = rng.random(n_students) < 0.13
    race_weights = np.stack(
        [
            0.15 + 0.45 * hood_low,
            0.15 + 0.30 * hood_low,
            0.55 - 0.55 * hood_low,
            np.full(n_hoods, 0.10),
            np.full(n_hoods, 0.05),
        ],
        axis=1,
    )
    race_weights /= race_weights.sum(axis=1, keepdims=True)
    family_race = _choose_rows(rng, race_weights[family_hood])
    race = RACES[family_race[family_of]]

    # Seats: a little more than students, shared by popularity and size.
    size_weight = rng.uniform(0.6, 1.4, size=n_schools)
    total_seats = int(round(n_students * spec.seat_ratio))
    capacity = _split(total_seats, size_weight, rng)

    # Ranked lists: logit on popularity and distance over the nearest schools.
    lengths = rng.integers(spec.min_choices, max(spec.min_choices, spec.max_choices) + 1, size=n_students)
    lengths = np.minimum(lengths, n_schools)
    pref_student, pref_school, pref_rank = _rank_lists(
        rng, student_xy, school_xy, popularity, lengths, home_cluster, school_cluster, charter
    )

    # Grades (optional): students get one, schools offer seats per grade.
    grades = spec.grades
    student_grade = rng.choice(np.array(grades), size=n_students) if grades else None

    student_ids = np.array([f"S{i + 1:06d}" for i in range(n_students)])
    family_ids = np.array([f"F{i + 1:06d}" for i in range(n_families)])
    school_ids = np.array([f"SCH{j + 1:04d}" for j in range(n_schools)])
    cluster_names = np.array([f"C{c + 1}" for c in range(n_clusters)])

    per_grade = None
    if grades:
        share = rng.dirichlet(np.full(len(grades), 8.0), size=n_schools)
        per_grade = np.floor(share * capacity[:, None]).astype(int)
        # Each grade gets at least its students' count over the district, plus slack.
        need = np.array([int(np.sum(student_grade == g)) for g in grades])
        deficit = np.maximum(0, np.ceil(need * spec.seat_ratio).astype(int) - per_grade.sum(axis=0))
        per_grade[np.argmax(capacity), :] += deficit
        capacity = per_grade.sum(axis=1)

    first = np.zeros(n_schools, dtype=int)
    np.add.at(first, pref_school[pref_rank == 1], 1)
    compacts = _compacts(rng, spec, family_xy, sizes, capacity, first, school_xy)

    lat, lon = _to_latlon(student_xy)
    students = pd.DataFrame(
        {
            "student_id": student_ids,
            "family_id": family_ids[family_of],
            **({"grade": student_grade} if student_grade is not None else {}),
            "home_cluster": cluster_names[home_cluster],
            "lat": np.round(lat, 6),
            "lon": np.round(lon, 6),
            "ses": np.where(low, "low", "high"),
            "ell": ell.astype(int).astype(str),
            "sped": sped.astype(int).astype(str),
            "race": race,
            "neighbourhood": np.array([f"N{h + 1:03d}" for h in student_hood]),
        }
    )
    slat, slon = _to_latlon(school_xy)
    schools = pd.DataFrame(
        {
            "school_id": school_ids,
            "name": [f"{'Charter' if charter[j] else 'School'} {j + 1}" for j in range(n_schools)],
            "capacity": capacity,
            "cluster": np.where(charter, "", cluster_names[school_cluster]),
            "sector": np.where(charter, "charter", "district"),
            "lat": np.round(slat, 6),
            "lon": np.round(slon, 6),
        }
    )
    preferences = pd.DataFrame(
        {
            "student_id": student_ids[pref_student],
            "school_id": school_ids[pref_school],
            "rank": pref_rank,
        }
    )
    tables = {"students": students, "schools": schools, "preferences": preferences}
    if compacts:
        tables["compacts"] = pd.DataFrame(
            [
                (f"K{c + 1:04d}", family_ids[f], school_ids[j])
                for c, (j, families) in enumerate(compacts)
                for f in families
            ],
            columns=["compact_id", "family_id", "school_id"],
        )
    if per_grade is not None:
        tables["seats"] = pd.DataFrame(
            [(school_ids[j], g, int(per_grade[j, k])) for j in range(n_schools) for k, g in enumerate(grades)],
            columns=["school_id", "grade", "capacity"],
        )
    return tables


def district_config(spec: DistrictSpec, name: str, data: dict[str, str]) -> dict:
    """A config for a generated district that solves: compacts capped at 30% of a school, soft
    clusters, a soft band on the share of low-income students in each sector (district, charter)
    and a hard band on English learners in each cluster."""
    return {
        "name": name,
        "data": data,
        "compacts": {
            "min_families": 2,
            "max_families": 11,
            "require_under_selected": True,
            "under_selected_ratio": 1.0,
            "max_share": 30,
        },
        "clusters": {"mode": "soft"},
        "diversity": [
            {
                "attribute": "ses",
                "category": "low",
                "scope": "sector",
                "around_district": 5,
                "mode": "soft",
                "weight": 10,
            },
            {
                "attribute": "ell",
                "category": "1",
                "scope": "cluster",
                "around_district": 10,
                "mode": "hard",
            },
        ],
        "objective": {
            "rank": 1,
            "unassigned": 100,
            "distance": 0,
            "broken_compact": 10,
            "outside_cluster": 2,
        },
        "solver": {"backend": "auto", "time_limit": 60, "gap": 0.0, "workers": 2, "seed": 0},
    }


def write_district(spec: DistrictSpec, outdir: Path, overwrite: bool = False, config_path: Path | None = None) -> Path:
    """Write the CSV files into `outdir` and a config naming them (default `outdir/config.yaml`).

    Returns the config's path. Nothing is written when `outdir` exists, is not empty and
    `overwrite` is false; the folder appears whole or not at all.
    """
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())) and not overwrite:
        raise InputError(
            [
                Problem(
                    str(outdir),
                    None,
                    "folder exists and is not empty; pass --overwrite to replace it",
                )
            ]
        )
    config_path = config_path or outdir / "config.yaml"
    tables = generate_district(spec)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
    try:
        for key, table in tables.items():
            table.to_csv(staging / f"{key}.csv", index=False)
        relative = os.path.relpath(outdir.resolve(), config_path.parent.resolve())
        data = {key: (f"{key}.csv" if relative == "." else f"{relative}/{key}.csv") for key in tables}
        name = config_path.stem if config_path.name != "config.yaml" else outdir.name
        text = (
            f"# Generated by `seatplan generate --students {spec.students} --schools {spec.schools} "
            f"--clusters {spec.clusters} --seed {spec.seed}`.\n"
            + yaml.safe_dump(district_config(spec, name, data), sort_keys=False)
        )
        if config_path.parent.resolve() == outdir.resolve():
            (staging / config_path.name).write_text(text, encoding="utf-8")
        if outdir.exists():
            shutil.rmtree(outdir)
        os.rename(staging, outdir)
        if config_path.parent.resolve() != outdir.resolve():
            config_path.write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return config_path


# ---------------------------------------------------------------------------------------------


def _kmeans(points: np.ndarray, k: int, rng: np.random.Generator, rounds: int = 20) -> np.ndarray:
    centers = points[rng.choice(len(points), size=k, replace=False)]
    for _ in range(rounds):
        label = _nearest(points, centers)
        for c in range(k):
            if np.any(label == c):
                centers[c] = points[label == c].mean(axis=0)
    return centers


def _assign_clusters(school_xy: np.ndarray, cluster_xy: np.ndarray) -> np.ndarray:
    """Nearest cluster centre, then every empty cluster takes the nearest school of a cluster that
    has two or more, so that every cluster has a school."""
    label = _nearest(school_xy, cluster_xy)
    for c in range(len(cluster_xy)):
        if np.any(label == c):
            continue
        counts = np.bincount(label, minlength=len(cluster_xy))
        donors = np.flatnonzero(counts[label] > 1)
        if len(donors) == 0:
            break
        d = ((school_xy[donors] - cluster_xy[c]) ** 2).sum(axis=1)
        label[donors[int(np.argmin(d))]] = c
    return label


def _nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d, axis=1)


def _choose_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(weights))[:, None]
    return np.minimum((draw > cumulative).sum(axis=1), weights.shape[1] - 1)


def _split(total: int, weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    raw = weights / weights.sum() * total
    out = np.floor(raw).astype(int)
    remainder = total - out.sum()
    if remainder > 0:
        extra = rng.choice(len(out), size=remainder, replace=True, p=weights / weights.sum())
        np.add.at(out, extra, 1)
    return np.maximum(out, 1)


def _rank_lists(
    rng: np.random.Generator,
    student_xy: np.ndarray,
    school_xy: np.ndarray,
    popularity: np.ndarray,
    lengths: np.ndarray,
    home_cluster: np.ndarray,
    school_cluster: np.ndarray,
    charter: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each student ranks its `length` best schools by a Gumbel-noised utility (logit ranking)."""
    n_students, n_schools = len(student_xy), len(school_xy)
    students, schools, ranks = [], [], []
    chunk = max(1, 4_000_000 // max(1, n_schools))
    for start in range(0, n_students, chunk):
        stop = min(n_students, start + chunk)
        xy = student_xy[start:stop]
        dist = np.sqrt(((xy[:, None, :] - school_xy[None, :, :]) ** 2).sum(axis=2))
        utility = popularity[None, :] - 0.35 * dist
        same = school_cluster[None, :] == home_cluster[start:stop, None]
        utility += np.where(same & ~charter[None, :], 0.6, 0.0)
        utility += rng.gumbel(0, 1.0, size=utility.shape)
        length = lengths[start:stop]
        top = max(1, int(length.max()))
        best = np.argpartition(-utility, kth=min(top, n_schools) - 1, axis=1)[:, :top]
        order = np.argsort(-np.take_along_axis(utility, best, axis=1), axis=1)
        best = np.take_along_axis(best, order, axis=1)
        keep = np.arange(top)[None, :] < length[:, None]
        rows = np.repeat(np.arange(start, stop), length)
        students.append(rows)
        schools.append(best[keep])
        ranks.append(np.tile(np.arange(1, top + 1), stop - start).reshape(stop - start, top)[keep])
    return np.concatenate(students), np.concatenate(schools), np.concatenate(ranks)


def _compacts(
    rng: np.random.Generator,
    spec: DistrictSpec,
    family_xy: np.ndarray,
    sizes: np.ndarray,
    capacity: np.ndarray,
    first_choices: np.ndarray,
    school_xy: np.ndarray,
) -> list[tuple[int, list[int]]]:
    """Compacts of 2 to 11 neighbouring families, each aimed at an under-selected school."""
    target = int(spec.compact_share * sizes.sum())
    under = np.flatnonzero(first_choices < capacity)
    if target <= 0 or len(under) == 0 or len(sizes) < 2:
        return []
    taken = np.zeros(len(sizes), dtype=bool)
    room = capacity * 0.3  # aim to fit the demo's 30% share cap, with some compacts competing for it
    compacts: list[tuple[int, list[int]]] = []
    students_in = 0
    attempts = 0
    while students_in < target and attempts < 50 * (target + 1):
        attempts += 1
        seed_family = int(rng.integers(len(sizes)))
        if taken[seed_family]:
            continue
        want = int(rng.integers(2, 12))
        d = ((family_xy - family_xy[seed_family]) ** 2).sum(axis=1)
        d[taken] = np.inf
        group = [int(f) for f in np.argsort(d)[:want] if np.isfinite(d[f])]
        if len(group) < 2:
            continue
        members = int(sizes[group].sum())
        near = under[np.argsort(((school_xy[under] - family_xy[seed_family]) ** 2).sum(axis=1))]
        choices = near[: max(3, len(near) // 2)]
        school = int(rng.choice(choices))
        if room[school] < members * 0.7:
            continue
        room[school] -= members
        taken[group] = True
        compacts.append((school, group))
        students_in += members
    return compacts


def _to_latlon(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = CENTER_LAT + (xy[:, 1] - SPAN_KM / 2) / KM_PER_DEG_LAT
    lon = CENTER_LON + (xy[:, 0] - SPAN_KM / 2) / (KM_PER_DEG_LAT * np.cos(np.radians(CENTER_LAT)))
    return lat, lon
