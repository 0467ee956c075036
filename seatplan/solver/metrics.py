"""The figures of a solve, computed once: metrics.json is them, and the terminal summary and
`compare` read them (from a Result, or from a run folder's metrics.json)."""

from __future__ import annotations

import hashlib
import json
import platform
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from seatplan.models.config import Config, resolved_config
from seatplan.models.data import file_sha256
from seatplan.models.instance import distance_hundredths
from seatplan.models.rules import RULES

if TYPE_CHECKING:
    from seatplan.solver.result import Result

#: seatplan's version (the package's metadata says the same; a test keeps them together).
VERSION = "0.1.0"
#: The packages whose versions can change an answer, recorded in metrics.json's `reproduce`.
SOLVER_PACKAGES = ("ortools", "highspy", "pulp", "numpy", "pandas")


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _pcts(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """_pct of each pair: the same operations on float64 and numpy's rounding, 0 where `whole` is 0."""
    out = np.zeros(len(part), dtype=np.float64)
    np.divide(100.0 * part, whole, out=out, where=whole != 0)
    return np.where(whole != 0, np.round(out, 2), 0.0)


def choice_numbers(positions: np.ndarray, placed: np.ndarray) -> dict[str, float]:
    """First-choice and top-three shares (of all students) and the mean position (placed students
    at a school they listed)."""
    n = max(1, len(placed))
    listed = positions[placed & (positions > 0)]
    return {
        "first_choice_pct": 100.0 * float(np.sum(positions == 1)) / n,
        "top3_pct": 100.0 * float(np.sum((positions >= 1) & (positions <= 3))) / n,
        "mean_position": float(listed.mean()) if len(listed) else 0.0,
    }


def build_metrics(result: Result) -> dict[str, Any]:
    """Everything metrics.json holds: status, objective and terms, counts, each rule's figures, and
    the schools and clusters tables."""
    instance, config, evaluation = result.instance, result.config, result.evaluation
    assert result.placement is not None and evaluation is not None
    school = result.placement.school
    placed = school >= 0
    positions = evaluation.positions
    n = instance.n_students
    numbers = choice_numbers(positions, placed)
    head: dict[str, Any] = {
        "seatplan_version": VERSION,
        "name": config.name,
        "mechanism": config.mechanism,
        "status": str(result.status),
        "backend": result.backend,
        "fallback": result.fallback,
        "objective": evaluation.objective / 100,
        "bound": result.bound,
        "gap": None if result.gap is None else round(result.gap, 6),
        "interrupted": result.interrupted,
        "tie_break": result.tie_break,
        "terms": {name: evaluation.terms.get(name, 0) / 100 for name in RULES.terms()},
        "students": n,
        "assigned": int(placed.sum()),
        "unassigned": int(n - placed.sum()),
        "position_counts": _position_counts(positions, placed),
        "first_choice_pct": round(numbers["first_choice_pct"], 2),
        "top3_pct": round(numbers["top3_pct"], 2),
        "mean_position": round(numbers["mean_position"], 3),
        "mean_distance_km": _mean_distance(result, placed),
    }
    tail: dict[str, Any] = {
        **_tables(result),
        "model": result.model_size,
        "solver": {
            "time_limit": config.solver.time_limit,
            "gap": config.solver.gap,
            "workers": config.solver.workers,
            "seed": config.solver.seed,
        },
        "seconds": result.seconds,
        "trajectory": [list(point) for point in result.trajectory],
        "command": result.command,
        "reproduce": reproduce(result),
    }
    # Each rule's own figures (compacts, diversity, blocking_pairs, split_families, …) in between.
    clashing = set(evaluation.figures) & (set(head) | set(tail))
    if clashing:
        raise RuntimeError(f"rules report figures under metrics.json's own keys: {', '.join(sorted(clashing))}")
    return {**head, **evaluation.figures, **tail}


def reproduce(result: Result) -> dict[str, Any]:
    """What it takes to run this solve again: the versions of seatplan, Python and the solvers, the
    machine, the backend used, the seed, workers and time limit, and the resolved config's hash (with
    the data files' SHA-256). How it was asked for is metrics.json's `command`, beside it."""
    solver = result.config.solver
    return {
        **environment(),
        "backend": result.backend,
        "pulp_solver": solver.pulp_solver,
        "seed": solver.seed,
        "workers": solver.workers,
        "time_limit": solver.time_limit,
        "gap": solver.gap,
        "config_sha256": config_sha256(result.config),
        "data_sha256": {key: _content_sha256(path) for key, path in result.config.data.named().items()},
    }


def environment() -> dict[str, Any]:
    """seatplan's version, Python's and the solver packages' (None when one is not installed), and
    the machine: what can change an answer besides the config and the data."""
    return {
        "seatplan_version": VERSION,
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "packages": dict(_package_versions()),
        "system": platform.system(),
        "machine": platform.machine(),
    }


@cache
def _package_versions() -> tuple[tuple[str, str | None], ...]:
    found: list[tuple[str, str | None]] = []
    for name in SOLVER_PACKAGES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, None))
    return tuple(found)


def config_sha256(config: Config) -> str:
    """SHA-256 of the resolved config (every default written out) as canonical JSON (keys sorted, no
    spaces), each file it names given as `sha256:<its content's SHA-256>` (a data file's `#sheet`
    kept) instead of its path: the same settings on the same data give the same hash, wherever the
    files and the run folder are."""
    return canonical_sha256(resolved_config(config, name_file=content_name))


def canonical_sha256(document: Any) -> str:
    """SHA-256 of plain data as canonical JSON: keys sorted, separators "," and ":", UTF-8."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_name(path: Path) -> str:
    """A file named by its content, `sha256:<its SHA-256>`, for a hash that holds wherever it is."""
    sha256 = _content_sha256(path)
    # A file not there to be read: its path is all that names it.
    return str(path) if sha256 is None else f"sha256:{sha256}"


def _content_sha256(path: Path) -> str | None:
    """cached_file_sha256; None when the file cannot be read."""
    try:
        return cached_file_sha256(path)
    except OSError:
        return None


def cached_file_sha256(path: Path) -> str:
    """file_sha256, once per version of a file (a sweep's points share their data; a run's
    metrics.json and config.yaml both record it)."""
    stat = Path(path).stat()
    return _sha256_of(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256_of(path: str, size: int, modified: int) -> str:
    return file_sha256(Path(path))


def _position_counts(positions: np.ndarray, placed: np.ndarray) -> dict[str, int]:
    """Placed students by position; compact placements at a school the student did not list as `unlisted`."""
    counts: dict[str, int] = {}
    for value, count in zip(*np.unique(positions[placed], return_counts=True), strict=True):
        if value > 0:
            counts[str(int(value))] = int(count)
    if np.any(positions[placed] == 0):
        counts["unlisted"] = int(np.sum(positions[placed] == 0))
    return counts


def _mean_distance(result: Result, placed: np.ndarray) -> float | None:
    instance = result.instance
    assert result.placement is not None
    # Unknown when any placed student or any school lacks a coordinate (latitude or longitude).
    if (
        not placed.any()
        or not np.isfinite(instance.student_lat[placed]).all()
        or not np.isfinite(instance.student_lon[placed]).all()
        or not np.isfinite(instance.school_lat).all()
        or not np.isfinite(instance.school_lon).all()
    ):
        return None
    students = np.flatnonzero(placed)
    return round(float(distance_hundredths(instance, students, result.placement.school[students]).mean()) / 100, 2)


def _tables(result: Result) -> dict[str, list[dict[str, Any]]]:
    """Per school and per cluster: seats, students placed, compact members, and the share of every
    category a diversity rule names."""
    instance, config = result.instance, result.config
    assert result.placement is not None and result.evaluation is not None
    school = result.placement.school
    placed = np.flatnonzero(school >= 0)
    through = result.evaluation.through_compact
    per_school_placed = np.bincount(school[placed], minlength=instance.n_schools)
    per_school_compact = np.bincount(school[through], minlength=instance.n_schools)
    categories = list(dict.fromkeys((rule.attribute, rule.category) for rule in config.diversity))
    per_school_category = {
        f"{a}={c}": np.bincount(
            school[placed], weights=(instance.attributes[a][placed] == c), minlength=instance.n_schools
        )
        for a, c in categories
    }
    capacity = instance.total_capacity
    # Columns as Python lists first: five thousand schools, read one number at a time from numpy, cost.
    shares = {key: _pcts(values, per_school_placed).tolist() for key, values in per_school_category.items()}
    by_grade = instance.capacity.tolist()
    columns = zip(
        instance.school_ids.tolist(),
        instance.school_names.tolist(),
        [instance.clusters[c] if c >= 0 else "" for c in instance.school_cluster.tolist()],
        [instance.sectors[s] if s >= 0 else "" for s in instance.school_sector.tolist()],
        capacity.tolist(),
        per_school_placed.tolist(),
        per_school_compact.tolist(),
        instance.under_selected.tolist(),
        instance.first_choices.tolist(),
        strict=True,
    )
    schools = []
    for j, (school_id, name, cluster, sector, seats, placed_here, members, under, first) in enumerate(columns):
        row: dict[str, Any] = {
            "school_id": str(school_id),
            "name": str(name),
            "cluster": cluster,
            "sector": sector,
            "capacity": seats,
            "placed": placed_here,
            "compact_members": members,
            "under_selected": under,
            "first_choices": first,
        }
        if instance.has_grades:
            row["capacity_by_grade"] = dict(zip(instance.grades, by_grade[j], strict=True))
        row["shares"] = {key: values[j] for key, values in shares.items()}
        schools.append(row)
    inside = np.zeros(instance.n_students, dtype=bool)
    inside[placed] = instance.school_cluster[school[placed]] == instance.home_cluster[placed]
    # Students by home cluster, counted once (not a pass over every student per cluster).
    home, n_clusters = instance.home_cluster, len(instance.clusters)
    home_students = np.bincount(home[home >= 0], minlength=n_clusters).tolist()
    home_inside = np.bincount(home[(home >= 0) & inside], minlength=n_clusters).tolist()
    clusters = []
    for c, cluster in enumerate(instance.clusters):
        members = instance.school_cluster == c
        total_placed = int(per_school_placed[members].sum())
        clusters.append(
            {
                "cluster": cluster,
                "schools": int(members.sum()),
                "capacity": int(capacity[members].sum()),
                "placed": total_placed,
                "compact_members": int(per_school_compact[members].sum()),
                "home_students": home_students[c],
                "home_students_placed_inside": home_inside[c],
                "shares": {
                    key: _pct(values[members].sum(), total_placed) for key, values in per_school_category.items()
                },
            }
        )
    return {"schools": schools, "clusters": clusters}


def summary_text(result: Result, folder: Path | None) -> str:
    """The short table printed after a solve: its metrics, said in a few lines."""
    metrics, config = result.metrics, result.config
    lines = summary_lines(metrics)
    if config.stability.mode != "off" or config.is_mechanism:
        lines.append(f"  {'blocking pairs':<18}{metrics['blocking_pairs']:>12,}   (stability {config.stability.mode})")
    if config.families.together != "off":
        lines.append(
            f"  {'split families':<18}{metrics['split_families']:>12,}   (families together {config.families.together})"
        )
    if folder is not None:
        lines.append(f"  {'run folder':<18}{folder}")
    return "\n".join(lines)


def summary_lines(metrics: dict[str, Any]) -> list[str]:
    """The objective, its terms, placements, choices, compacts and bands, from a run's metrics."""
    status = metrics["status"]
    proof = {
        "optimal": " — proven: no assignment costs less",
        "feasible": " — the best found, not proven optimal",
        "stable": (
            " — schools proposing: the school-optimal stable matching, without compacts or bands"
            if metrics.get("mechanism") == "school_proposing"
            else " — deferred acceptance: the student-optimal stable matching, without compacts or bands"
            + (
                f"; {metrics['reserved_seats_filled_by_members']:,} of {metrics['reserved_seats']:,} reserved seats "
                "filled by members"
                if "reserved_seats" in metrics
                else ""
            )
        ),
        "assigned": (
            " — top trading cycles: Pareto efficient for the students, not stable; without compacts or bands"
            if metrics.get("mechanism") == "top_trading_cycles"
            else " — immediate acceptance (the Boston mechanism): not stable; without compacts or bands"
        ),
    }.get(status, "")
    if metrics.get("interrupted"):
        proof = " — interrupted: the best found before the stop" + (", proven optimal" if status == "optimal" else "")
    how = metrics["backend"] + (", after fallback" if metrics.get("fallback") else "")
    seconds = metrics.get("seconds", {}).get("total", 0)
    stopped = ", interrupted" if metrics.get("interrupted") else ""
    lines = [f"{metrics['name']}: {status} ({how}{stopped}) in {seconds:.1f} s{proof}"]
    if metrics.get("bound") is not None:
        bound = f"bound {metrics['bound']:,.2f}, gap {metrics['gap']:.2%}"
    else:
        bound = "what the config's weights make of it" if status in ("stable", "assigned") else "no bound known"
    lines.append(f"  {'objective':<18}{metrics['objective']:>12,.2f}   ({bound})")
    lines += [f"    {name:<16}{value:>12,.2f}" for name, value in metrics["terms"].items() if value]
    n, placed = metrics["students"], metrics["assigned"]
    lines.append(f"  {'students':<18}{n:>12,}   placed {placed:,}, unplaced {n - placed:,}")
    lines.append(
        f"  {'first choice':<18}{metrics['first_choice_pct']:>11.1f}%   top three "
        f"{metrics['top3_pct']:.1f}%, mean position {metrics['mean_position']:.2f}"
    )
    compacts = metrics["compacts"]
    if compacts["total"]:
        lines.append(
            f"  {'compacts':<18}{compacts['honored']:>12,}   honored of {compacts['total']:,} "
            f"({compacts['families_honored']:,} of {compacts['families']:,} families)"
        )
    for number, rule in enumerate(metrics["diversity"]):
        lo, hi = rule["band"]
        outside = sum(1 for unit in rule["units"] if unit["shortfall"] > 0)
        worst = rule["worst"]
        scope = rule["scope"]
        detail = (
            f"{outside} {scope}{'s' if outside != 1 else ''} outside [{lo}, {hi}]%, "
            f"worst {worst['unit']} short by {worst['shortfall'] / 100:g} students"
            if worst
            else f"every {scope} inside [{lo}, {hi}]%"
        )
        label = "diversity" if number == 0 else ""
        lines.append(f"  {label:<18}{rule['attribute']}={rule['category']} by {scope} ({rule['mode']}): {detail}")
    return lines
