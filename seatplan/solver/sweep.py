"""`seatplan sweep`: one district under many settings, each point a resolved config, solved and
summarised in one table (points.csv and .parquet), resumable, locally or on Dask.

The sweep file names a base config and either a grid (`vary:` — every combination of the values of
each config key path) or an explicit list (`points:`), optionally crossed with lottery draws
(`seeds:`, the solver seed) and mechanisms. Every point's config is built and checked before anything
runs: a bad key path or value is one line with the sweep file's line.

A point's result is stored under the SHA-256 of its resolved config and the bytes of its data files
(`points/<sha>.json`, written whole as soon as the point ends), so re-running a sweep skips every
point already done, and an interrupted sweep loses only the points in flight. A point that fails is
recorded with its error and never stops the others.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seatplan.models.config import MECHANISMS, Config, display_path, load_config, resolved_config
from seatplan.models.data import data_inputs, file_sha256, load_instance
from seatplan.models.errors import ConfigError, InputError, Problem, SeatplanError
from seatplan.models.rules import RULES
from seatplan.models.tables import guarded
from seatplan.models.yamlnodes import LocatedYaml, Path_, load_yaml, parse_dotted
from seatplan.solver.compare import metrics_of
from seatplan.solver.metrics import VERSION
from seatplan.solver.run import available_cores, write_text_whole
from seatplan.solver.solve import solve

SWEEP_KEYS = ("base", "vary", "points", "seeds", "mechanisms")
#: The figures of every point, after its varied keys, seed and mechanism.
FIGURES = (
    "status",
    "objective",
    "bound",
    "gap",
    *(f"terms.{term}" for term in RULES.terms()),
    "first_choice_pct",
    "top3_pct",
    "unplaced",
    "compacts_honored",
    "worst_shortfall",
    "diversity_shortfall",
    "blocking_pairs",
    "seconds",
    "error",
)


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its number, the values it sets (key path as written → value), and
    where each was written in the sweep file."""

    number: int
    values: tuple[tuple[str, Any], ...]
    seed: int | None
    mechanism: str | None
    lines: tuple[int | None, ...]


@dataclass(frozen=True)
class Sweep:
    file: Path
    base: Path
    keys: tuple[str, ...]
    points: tuple[Point, ...]


# ---- reading the sweep file --------------------------------------------------------------------


def key_path(key: str) -> Path_ | None:
    """`diversity[0].weight` -> ("diversity", 0, "weight"); None when it is not a key path."""
    return parse_dotted(key)


def read_sweep(path: Path) -> Sweep:
    """The sweep file, checked: every problem one line with the file's line."""
    path = Path(path)
    file = display_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError([Problem(file, None, f"expected a readable YAML sweep file ({error})")]) from None
    doc = load_yaml(text, file)
    if not isinstance(doc.value, dict):
        raise InputError([Problem(file, doc.line(()), "expected a mapping with base: and vary: or points:")])
    problems: list[Problem] = []
    value = doc.value
    for key in value:
        if key not in SWEEP_KEYS:
            problems.append(
                Problem(file, doc.line((key,)), f"unknown key {key!r}; expected one of {', '.join(SWEEP_KEYS)}")
            )
    base = value.get("base")
    if not isinstance(base, str) or not base.strip():
        problems.append(Problem(file, doc.line(("base",)), "expected base: the path of the config to vary"))
    seeds = _seeds(value.get("seeds"), doc, file, problems)
    mechanisms = _mechanisms(value.get("mechanisms"), doc, file, problems)
    combos = _combinations(doc, file, problems)
    if problems:
        raise InputError(problems)
    assert isinstance(base, str)
    keys = tuple(dict.fromkeys(key for combo in combos for key, _, _ in combo))
    points: list[Point] = []
    for combo, seed, mechanism in itertools.product(combos, seeds, mechanisms):
        points.append(
            Point(
                number=len(points),
                values=tuple((key, v) for key, v, _ in combo),
                seed=seed,
                mechanism=mechanism,
                lines=tuple(line for _, _, line in combo),
            )
        )
    return Sweep(path, (path.parent / base).resolve(), keys, tuple(points))


def _combinations(doc: LocatedYaml, file: str, problems: list[Problem]) -> list[list[tuple[str, Any, int | None]]]:
    value = doc.value
    vary, points = value.get("vary"), value.get("points")
    if (vary is None) == (points is None):
        problems.append(Problem(file, doc.line(()), "expected exactly one of vary: (a grid) and points: (a list)"))
        return []
    if vary is not None:
        if not isinstance(vary, dict) or not vary:
            problems.append(
                Problem(file, doc.line(("vary",)), "expected vary: to map config key paths to lists of values")
            )
            return []
        axes = []
        for key, values in vary.items():
            if key_path(str(key)) is None:
                problems.append(
                    Problem(
                        file,
                        doc.line(("vary", key)),
                        f"expected a config key path like diversity[0].weight, got {key!r}",
                    )
                )
                continue
            if not isinstance(values, list) or not values:
                problems.append(Problem(file, doc.line(("vary", key)), f"expected {key}: a non-empty list of values"))
                continue
            axes.append(
                [
                    (str(key), _as_written(doc, ("vary", key, i), v), doc.line(("vary", key, i)))
                    for i, v in enumerate(values)
                ]
            )
        return [list(combo) for combo in itertools.product(*axes)] if axes and len(axes) == len(vary) else []
    if not isinstance(points, list) or not points:
        problems.append(Problem(file, doc.line(("points",)), "expected points: a non-empty list of mappings"))
        return []
    out = []
    for i, point in enumerate(points):
        if not isinstance(point, dict) or not point:
            problems.append(Problem(file, doc.line(("points", i)), "expected a mapping of config key paths to values"))
            continue
        bad = [key for key in point if key_path(str(key)) is None]
        for key in bad:
            problems.append(Problem(file, doc.line(("points", i, key)), f"expected a config key path, got {key!r}"))
        out.append(
            [
                (str(key), _as_written(doc, ("points", i, key), v), doc.line(("points", i, key)))
                for key, v in point.items()
            ]
        )
    return out


def _as_written(doc: LocatedYaml, path: Path_, value: Any) -> Any:
    """`off` as the word a planner wrote, not YAML 1.1's False (a mode is `off`, not a boolean; no
    setting takes a boolean written `off`)."""
    raw = doc.raw.get(path)
    if value is False and raw is not None and raw.strip().lower() == "off":
        return raw.strip()
    return value


def _seeds(value: Any, doc: LocatedYaml, file: str, problems: list[Problem]) -> list[int | None]:
    if value is None:
        return [None]
    line = doc.line(("seeds",))
    if isinstance(value, bool):
        problems.append(Problem(file, line, "expected seeds: an integer, a range like 0..99, or a list of integers"))
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*\.\.\s*(\d+)\s*", value)
        if match is None or int(match.group(1)) > int(match.group(2)):
            problems.append(Problem(file, line, f"expected seeds: a range like 0..99, got {value!r}"))
            return []
        return list(range(int(match.group(1)), int(match.group(2)) + 1))
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return list(dict.fromkeys(value))
    problems.append(Problem(file, line, "expected seeds: an integer, a range like 0..99, or a list of integers"))
    return []


def _mechanisms(value: Any, doc: LocatedYaml, file: str, problems: list[Problem]) -> list[str | None]:
    if value is None:
        return [None]
    if not isinstance(value, list) or not value or any(v not in MECHANISMS for v in value):
        problems.append(
            Problem(file, doc.line(("mechanisms",)), f"expected mechanisms: a list of {', '.join(MECHANISMS)}")
        )
        return []
    return list(dict.fromkeys(value))


# ---- every point's config ----------------------------------------------------------------------


def point_config(sweep: Sweep, point: Point) -> Config:
    """The base config with the point's values, seed and mechanism (ConfigError when they are bad)."""
    pairs: list[tuple[Path_, Any]] = []
    for key, value in point.values:
        path = key_path(key)
        assert path is not None
        pairs.append((path, value))
    if point.seed is not None:
        pairs.append((("solver", "seed"), point.seed))
    if point.mechanism is not None:
        pairs.append((("mechanism",), point.mechanism))
    return load_config(sweep.base, tuple(pairs))


def resolve(sweep: Sweep) -> list[Config]:
    """Every point's config, checked up front; every bad one is a line of the sweep file."""
    file = display_path(sweep.file)
    configs: list[Config] = []
    problems: list[Problem] = []
    seen: set[tuple[int | None, str]] = set()
    for point in sweep.points:
        try:
            configs.append(point_config(sweep, point))
        except ConfigError as error:
            for problem in error.problems:
                if problem.file == display_path(sweep.base) and not point.lines:
                    problems.append(problem)
                    continue
                if not problem.file.startswith("override") and problem.file != display_path(sweep.base):
                    # Another file (a data path the point sets): said as it is, once.
                    problems.append(problem)
                    continue
                line = point.lines[0] if point.lines else None
                words = ", ".join(f"{key} = {value!r}" for key, value in point.values)
                message = f"point {point.number} ({words}): {problem.message}"
                key = (line, problem.message)
                if key not in seen:
                    seen.add(key)
                    problems.append(Problem(file, line, message))
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    return configs


def _shas(sweep: Sweep, configs: list[Config]) -> list[str]:
    """Every point's key; a data file that cannot be read is one line (before anything runs)."""
    shas, problems = [], []
    for config in configs:
        try:
            shas.append(point_sha(config))
        except OSError as error:
            problems.append(
                Problem(display_path(Path(error.filename or sweep.base)), None, f"cannot read: {error.strerror}")
            )
    if problems:
        raise InputError(list(dict.fromkeys(problems)))
    return shas


def point_sha(config: Config) -> str:
    """The SHA-256 of a point's resolved config and the bytes of its data files (and seatplan's version)."""
    data = {key: file_sha256(path) for key, path in config.data.named().items()}
    document = {"version": VERSION, "config": resolved_config(config), "data": data}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


# ---- running one point --------------------------------------------------------------------------

_INSTANCES: dict[str, Any] = {}


def run_point(config: Config, keep: str | None = None) -> dict[str, Any]:
    """Solve one point; its figures (or its error) as one row. The data are read once per process
    and per data files and lottery seed (a worker serves many points)."""
    started = time.perf_counter()
    try:
        # Everything the data loader reads from the config (files, attributes, compact settings,
        # seed…): two points that agree here read the same Instance.
        key = repr(data_inputs(config))
        instance = _INSTANCES.get(key)
        if instance is None:
            instance = _INSTANCES[key] = load_instance(config)
        result = solve(config, instance=instance)
        row = _figures(metrics_of(result))
        if keep is not None and result.solved:
            result.save(keep, overwrite=True)
    except SeatplanError as error:
        row = {"status": "error", "error": " | ".join(error.lines())}
    except Exception as error:  # a failing point is recorded, and the sweep goes on
        row = {"status": "error", "error": f"{type(error).__name__}: {error}"}
    row["seconds"] = round(time.perf_counter() - started, 3)
    return row


def _figures(metrics: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"status": metrics.get("status")}
    for key in ("objective", "bound", "gap"):
        row[key] = metrics.get(key)
    for term in RULES.terms():
        row[f"terms.{term}"] = (metrics.get("terms") or {}).get(term)
    row["first_choice_pct"] = metrics.get("first_choice_pct")
    row["top3_pct"] = metrics.get("top3_pct")
    row["unplaced"] = metrics.get("unassigned")
    row["compacts_honored"] = (metrics.get("compacts") or {}).get("honored")
    rules = metrics.get("diversity") or []
    worst = [r["worst"]["shortfall"] for r in rules if r.get("worst")]
    row["worst_shortfall"] = (max(worst) / 100 if worst else 0.0) if rules else None
    row["diversity_shortfall"] = sum(r.get("shortfall", 0) for r in rules) / 100 if rules else None
    row["blocking_pairs"] = metrics.get("blocking_pairs")
    return row


# ---- the sweep -----------------------------------------------------------------------------------


def run_sweep(
    sweep: Sweep,
    out: Path,
    jobs: int | None = None,
    dask: str | None = None,
    keep_runs: bool = False,
    progress: Callable[[bool], None] | None = None,
) -> pd.DataFrame:
    """Every point not done before, run; points.csv and points.parquet written; the table returned."""
    configs = resolve(sweep)
    shas = _shas(sweep, configs)
    store = out / "points"
    store.mkdir(parents=True, exist_ok=True)
    kept = [out / "runs" / f"point-{point.number}-{sha[:12]}" for point, sha in zip(sweep.points, shas, strict=True)]
    todo = [
        i
        for i, sha in enumerate(shas)
        if not (store / f"{sha}.json").is_file() or (keep_runs and not (kept[i] / "metrics.json").is_file())
    ]
    cores = available_cores()
    workers = max(1, min(jobs or cores, len(todo) or 1))
    # CP-SAT workers per point so that jobs × workers stays within the cores.
    per_point = max(1, cores // workers)
    tasks = [
        (
            replace(configs[i], solver=replace(configs[i].solver, workers=min(configs[i].solver.workers, per_point))),
            str(kept[i]) if keep_runs else None,
        )
        for i in todo
    ]

    lost: dict[int, dict[str, Any]] = {}

    def done(i: int, row: dict[str, Any]) -> None:
        write_text_whole(store / f"{shas[i]}.json", json.dumps(row, default=_plain) + "\n")
        if progress is not None:
            progress(row.get("status") == "error")

    def died(i: int, error: BaseException) -> None:
        # The worker itself failed (killed, out of memory): a row for this run, not cached, so that
        # running the sweep again tries the point again.
        lost[i] = {"status": "error", "error": f"the worker running this point failed: {type(error).__name__}: {error}"}
        if progress is not None:
            progress(True)

    if dask is not None:
        _run_on_dask(dask, todo, tasks, done, died)
    elif workers == 1:
        for i, task in zip(todo, tasks, strict=True):
            done(i, run_point(*task))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            futures: dict[Future[dict[str, Any]], int] = {
                pool.submit(run_point, *task): i for i, task in zip(todo, tasks, strict=True)
            }
            for future in as_completed(futures):
                try:
                    row = future.result()
                except Exception as error:
                    died(futures[future], error)
                    continue
                done(futures[future], row)
    frame = table(sweep, shas, store, lost)
    write_points(frame, out)
    return frame


def write_points(frame: pd.DataFrame, out: Path) -> None:
    """points.csv (its text cells guarded against spreadsheet formulas) and points.parquet."""
    guarded(frame).to_csv(out / "points.csv", index=False)
    frame.to_parquet(out / "points.parquet", index=False)


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A dask.distributed Client of an existing scheduler, or of a LocalCluster started here
    (`local`: two single-threaded worker processes); an unreachable address is an InputError."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError([Problem("--dask", None, "expected dask.distributed: pip install 'seatplan[dask]'")]) from None
    cluster = None
    try:
        if address == "local":
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout="5s")
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        raise InputError([Problem("--dask", None, f"cannot reach the Dask scheduler at {address}: {error}")]) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _run_on_dask(
    address: str, todo: list[int], tasks: list[tuple[Config, str | None]], done: Callable, died: Callable
) -> None:
    """The same points on a dask.distributed scheduler."""
    from dask.distributed import as_completed as dask_completed

    with dask_client(address) as client:
        futures = {client.submit(run_point, *task, pure=False): i for i, task in zip(todo, tasks, strict=True)}
        for future in dask_completed(futures):
            try:
                row = future.result()
            except Exception as error:  # a worker lost (KilledWorker…): not the point's own error
                died(futures[future], error)
                continue
            done(futures[future], row)


def table(sweep: Sweep, shas: list[str], store: Path, lost: dict[int, dict[str, Any]] | None = None) -> pd.DataFrame:
    """points.csv: one row per point, in the sweep's order."""
    rows = []
    for number, (point, sha) in enumerate(zip(sweep.points, shas, strict=True)):
        path = store / f"{sha}.json"
        stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else (lost or {}).get(number, {})
        row: dict[str, Any] = {"point": point.number}
        values = dict(point.values)
        for key in sweep.keys:
            row[key] = values.get(key)
        row["seed"] = point.seed
        row["mechanism"] = point.mechanism
        for figure in FIGURES:
            row[figure] = stored.get(figure)
        rows.append(row)
    columns = ["point", *sweep.keys, "seed", "mechanism", *FIGURES]
    frame = pd.DataFrame([[r.get(c) for c in columns] for r in rows], columns=columns)
    for column in frame.columns:
        kinds = {type(v) for v in frame[column].dropna()}
        if frame[column].dtype == object and len(kinds) > 1 and not kinds <= {int, float}:
            # A key varied over values of several kinds (0 and "auto"): said as text, for Parquet.
            frame[column] = frame[column].map(lambda v: None if v is None else str(v))
    return frame


def write_sweep_about(sweep: Sweep, out: Path, frontier: tuple[str, str] | None) -> None:
    """sweep.json beside points.csv: the sweep file, its base config, its varied keys, the frontier's
    axes — what the sweep's report reads."""
    document = {
        "file": display_path(sweep.file),
        "base": display_path(sweep.base),
        "keys": list(sweep.keys),
        "frontier": list(frontier) if frontier is not None else None,
    }
    write_text_whole(out / "sweep.json", json.dumps(document, indent=2) + "\n")


def pareto(frame: pd.DataFrame, x: str, y: str) -> np.ndarray:
    """Whether each point is Pareto-efficient for (x, y), both smaller-is-better: no other point is
    as good on both and better on one. Points without both figures are not."""
    xs = pd.to_numeric(frame[x], errors="coerce").to_numpy(dtype=float)
    ys = pd.to_numeric(frame[y], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(xs) & np.isfinite(ys)
    efficient = np.zeros(len(frame), dtype=bool)
    for i in np.flatnonzero(ok):
        dominated = ok & (xs <= xs[i]) & (ys <= ys[i]) & ((xs < xs[i]) | (ys < ys[i]))
        efficient[i] = not dominated.any()
    return efficient


def draw_frontier(frame: pd.DataFrame, x: str, y: str, path: Path) -> list[Path]:
    """The trade-off curve: every point, the efficient ones joined; PNG and SVG next to points.csv."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    xs = pd.to_numeric(frame[x], errors="coerce")
    ys = pd.to_numeric(frame[y], errors="coerce")
    efficient = frame["frontier"].to_numpy(dtype=bool)
    figure, axes = pyplot.subplots(figsize=(7, 4.5), dpi=120)
    axes.scatter(xs[~efficient], ys[~efficient], color="#9aa5b1", label="other points", zorder=2)
    order = np.argsort(xs[efficient].to_numpy())
    axes.plot(
        xs[efficient].to_numpy()[order],
        ys[efficient].to_numpy()[order],
        color="#1f5fa8",
        marker="o",
        label="efficient (no point better on both)",
        zorder=3,
    )
    # One label per place: points with the same two figures share it.
    places: dict[tuple[float, float], list[str]] = {}
    for point, a, b in zip(frame["point"][efficient], xs[efficient], ys[efficient], strict=True):
        places.setdefault((float(a), float(b)), []).append(str(point))
    for (a, b), points in places.items():
        label = f"point{'s' if len(points) > 1 else ''} {', '.join(points)}"
        axes.annotate(label, (a, b), textcoords="offset points", xytext=(4, 4), fontsize=8)
    axes.set_xlabel(f"{x} (smaller is better)")
    axes.set_ylabel(f"{y} (smaller is better)")
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    written = []
    for suffix in ("png", "svg"):
        target = path.with_suffix(f".{suffix}")
        figure.savefig(target)
        written.append(target)
    pyplot.close(figure)
    return written


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if math.isnan(value) else float(value)
    return str(value)


def failed(frame: pd.DataFrame) -> Iterable[str]:
    return (
        f"point {p}: {e}"
        for p, s, e in zip(frame["point"], frame["status"], frame["error"], strict=True)
        if s == "error"
    )
