"""The run folder: assignment.csv, metrics.json, config.yaml (with the data files' SHA-256), solver.log.

It is written into a temporary folder beside its destination and moved into place with one rename,
so it exists whole or not at all; an existing folder is replaced only when asked to.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from seatplan.models.config import resolved_config
from seatplan.models.data import distance_hundredths, file_sha256
from seatplan.models.errors import InputError, Problem
from seatplan.models.evaluate import rule_shortfalls
from seatplan.models.formulation import TERMS
from seatplan.models.rules.diversity import band, in_category, units
from seatplan.models.rules.families import split_families
from seatplan.models.rules.stability import blocking_pairs
from seatplan.solver.solve import Result, summary_numbers

VERSION = "0.1.0"


class RunExists(InputError):
    """The run folder is already there and --overwrite was not given."""


def default_run_folder(config_path: Path) -> Path:
    return Path("runs") / config_path.stem


def check_destination(folder: Path, overwrite: bool) -> None:
    """Refuse early, before solving, when the destination exists and may not be replaced."""
    if folder.exists() and not overwrite:
        raise RunExists(
            [
                Problem(
                    str(folder),
                    None,
                    "run folder already exists; pass --overwrite to replace it or --out to choose another",
                )
            ]
        )
    if folder.exists() and not folder.is_dir():
        raise RunExists([Problem(str(folder), None, "expected a folder, got a file")])


def write_run(result: Result, folder: Path, overwrite: bool = False) -> Path:
    """Write the run folder for a solved result, atomically. Returns the folder."""
    check_destination(folder, overwrite)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        write_assignment(result, staging / "assignment.csv")
        metrics = build_metrics(result)
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
        snapshot = resolved_config(result.config, folder)
        snapshot["data_sha256"] = {key: file_sha256(path) for key, path in result.config.data.named().items()}
        (staging / "config.yaml").write_text(
            "# The resolved config of this run: every default written out; data paths relative to this folder.\n"
            + yaml.safe_dump(snapshot, sort_keys=False, allow_unicode=True),
            encoding="utf-8",
        )
        (staging / "solver.log").write_text("\n".join(result.log) + "\n", encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".old", dir=folder.parent))
            os.rename(folder, retired / folder.name)
            try:
                os.rename(staging, folder)
            except BaseException:
                # Put the old run back: a failed replacement must not lose it.
                os.rename(retired / folder.name, folder)
                shutil.rmtree(retired, ignore_errors=True)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return folder


def write_assignment(result: Result, path: Path) -> None:
    """One row per student, in students.csv order: student_id,school_id,position,compact_id."""
    instance, assignment, evaluation = result.instance, result.assignment, result.evaluation
    assert assignment is not None and evaluation is not None
    school = assignment.school
    placed = school >= 0
    school_text = np.where(placed, instance.school_ids[np.maximum(school, 0)], "")
    position = evaluation.positions
    position_text = np.where(position > 0, position.astype(str), "")
    compact = instance.compact_of_student
    through = assignment.via_compact & (compact >= 0)
    compact_text = np.where(through, instance.compact_ids[np.maximum(compact, 0)] if instance.n_compacts else "", "")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student_id", "school_id", "position", "compact_id"])
        writer.writerows(zip(instance.student_ids, school_text, position_text, compact_text, strict=True))


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def build_metrics(result: Result) -> dict[str, Any]:
    """Everything metrics.json holds: status, objective and terms, counts, and per-unit tables."""
    instance, config = result.instance, result.config
    assignment, evaluation = result.assignment, result.evaluation
    assert assignment is not None and evaluation is not None
    school = assignment.school
    placed = school >= 0
    positions = evaluation.positions
    n = instance.n_students

    position_counts: dict[str, int] = {}
    for value, count in zip(*np.unique(positions[placed], return_counts=True), strict=True):
        if value > 0:
            position_counts[str(int(value))] = int(count)
    if np.any(positions[placed] == 0):
        position_counts["unlisted"] = int(np.sum(positions[placed] == 0))

    honored = evaluation.honored
    compact = instance.compact_of_student
    member_counts = np.bincount(compact[compact >= 0], minlength=instance.n_compacts)
    compacts = {
        "total": int(instance.n_compacts),
        "honored": int(honored.sum()),
        "families": int(instance.compact_family_count.sum()),
        "families_honored": int(instance.compact_family_count[honored].sum()),
        "students": int(member_counts.sum()),
        "students_honored": int(member_counts[honored].sum()),
        "list": [
            {
                "compact_id": str(instance.compact_ids[c]),
                "school_id": str(instance.school_ids[instance.compact_school[c]]),
                "families": int(instance.compact_family_count[c]),
                "students": int(member_counts[c]),
                "honored": bool(honored[c]),
            }
            for c in range(instance.n_compacts)
        ],
    }

    through = placed & assignment.via_compact
    categories = [(rule.attribute, rule.category) for rule in config.diversity]
    categories = list(dict.fromkeys(categories))
    placed_idx = np.flatnonzero(placed)
    per_school_placed = np.bincount(school[placed], minlength=instance.n_schools)
    per_school_compact = np.bincount(school[through], minlength=instance.n_schools)
    per_school_cat = {
        f"{a}={c}": np.bincount(
            school[placed_idx],
            weights=(instance.attributes[a][placed_idx] == c),
            minlength=instance.n_schools,
        )
        for a, c in categories
    }
    capacity = instance.total_capacity
    schools_table = []
    for j in range(instance.n_schools):
        row: dict[str, Any] = {
            "school_id": str(instance.school_ids[j]),
            "name": str(instance.school_names[j]),
            "cluster": instance.clusters[instance.school_cluster[j]] if instance.school_cluster[j] >= 0 else "",
            "sector": instance.sectors[instance.school_sector[j]] if instance.school_sector[j] >= 0 else "",
            "capacity": int(capacity[j]),
            "placed": int(per_school_placed[j]),
            "compact_members": int(per_school_compact[j]),
            "under_selected": bool(instance.under_selected[j]),
            "first_choices": int(instance.first_choices[j]),
        }
        if instance.has_grades:
            row["capacity_by_grade"] = {g: int(instance.capacity[j, k]) for k, g in enumerate(instance.grades)}
        row["shares"] = {key: _pct(values[j], per_school_placed[j]) for key, values in per_school_cat.items()}
        schools_table.append(row)

    clusters_table = []
    for c, cluster in enumerate(instance.clusters):
        members = instance.school_cluster == c
        total_placed = int(per_school_placed[members].sum())
        clusters_table.append(
            {
                "cluster": cluster,
                "schools": int(members.sum()),
                "capacity": int(capacity[members].sum()),
                "placed": total_placed,
                "compact_members": int(per_school_compact[members].sum()),
                "home_students": int((instance.home_cluster == c).sum()),
                "home_students_placed_inside": int(
                    (
                        (instance.home_cluster == c) & placed & (instance.school_cluster[np.maximum(school, 0)] == c)
                    ).sum()
                ),
                "shares": {key: _pct(values[members].sum(), total_placed) for key, values in per_school_cat.items()},
            }
        )

    diversity = []
    for number, rule in enumerate(config.diversity):
        lo, hi = band(instance, rule)
        info = units(instance, rule.scope)
        with_schools = np.zeros(len(info.names), dtype=bool)
        with_schools[info.of_school[info.of_school >= 0]] = True
        short = rule_shortfalls(instance, rule, school)
        unit = info.of_school[school[placed_idx]]
        counted = unit >= 0
        n_unit = np.bincount(unit[counted], minlength=len(info.names))
        k_unit = np.bincount(
            unit[counted],
            weights=in_category(instance, rule)[placed_idx][counted],
            minlength=len(info.names),
        )
        worst = int(np.argmax(short)) if len(short) else -1
        diversity.append(
            {
                "rule": number + 1,
                "attribute": rule.attribute,
                "category": rule.category,
                "scope": rule.scope,
                "mode": rule.mode,
                "weight": rule.weight,
                "band": [lo, hi],
                "shortfall": int(short.sum()),
                "worst": {"unit": info.names[worst], "shortfall": int(short[worst])}
                if worst >= 0 and short[worst] > 0
                else None,
                "units": [
                    {
                        "unit": info.names[u],
                        "placed": int(n_unit[u]),
                        "in_category": int(k_unit[u]),
                        "share": _pct(k_unit[u], n_unit[u]),
                        "shortfall": int(short[u]),
                    }
                    for u in range(len(info.names))
                    if with_schools[u]
                ],
            }
        )

    distance = None
    if placed.any() and np.isfinite(instance.student_lat[placed]).all() and np.isfinite(instance.school_lat).all():
        hundredths = distance_hundredths(instance, placed_idx, school[placed_idx])
        distance = round(float(hundredths.mean()) / 100, 2)

    numbers = summary_numbers(result)
    terms = {name: evaluation.terms.get(name, 0) / 100 for name in TERMS}
    envious, _ = blocking_pairs(instance, config, school, through)
    return {
        "seatplan_version": VERSION,
        "name": config.name,
        "mechanism": config.mechanism,
        "status": result.status,
        "backend": result.backend,
        "fallback": result.fallback,
        "objective": evaluation.objective / 100,
        "bound": result.bound,
        "gap": None if result.gap is None else round(result.gap, 6),
        "terms": terms,
        "students": n,
        "assigned": int(placed.sum()),
        "unassigned": int(n - placed.sum()),
        "position_counts": position_counts,
        "first_choice_pct": round(numbers["first_choice_pct"], 2),
        "top3_pct": round(numbers["top3_pct"], 2),
        "mean_position": round(numbers["mean_position"], 3),
        "mean_distance_km": distance,
        "compacts": compacts,
        "blocking_pairs": int(len(envious)),
        "split_families": int(len(split_families(instance, school))),
        "diversity": diversity,
        "schools": schools_table,
        "clusters": clusters_table,
        "model": result.model_size,
        "solver": {
            "time_limit": config.solver.time_limit,
            "gap": config.solver.gap,
            "workers": config.solver.workers,
            "seed": config.solver.seed,
        },
        "seconds": result.seconds,
        "trajectory": [list(point) for point in result.trajectory],
    }
