"""`seatplan compare`: the metrics of several runs side by side."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seatplan.models.data import load_inputs
from seatplan.models.errors import InputError, Problem
from seatplan.models.rules import RULES
from seatplan.models.tables import guard_text, unguard_text
from seatplan.solver.result import Result
from seatplan.solver.solve import solve

#: (label, key in metrics.json) of the rows before and after the objective's terms. Term rows are
#: indented under the objective in tables; in CSV they read `term: rank`, and in JSON they are
#: nested under "terms" (the term `unassigned` is a weighted cost, the row `unassigned students` a
#: count: they must not share a name).
HEAD_ROWS = (
    ("mechanism", "mechanism"),
    ("status", "status"),
    ("backend", "backend"),
    ("objective", "objective"),
)
TAIL_ROWS = (
    ("bound", "bound"),
    ("gap %", "gap_pct"),
    ("students", "students"),
    ("first choice %", "first_choice_pct"),
    ("top three %", "top3_pct"),
    ("mean position", "mean_position"),
    ("unassigned students", "unassigned"),
    ("compacts honored", "compacts_honored"),
    ("worst diversity shortfall", "worst_shortfall"),
    ("mean distance km", "mean_distance_km"),
    ("blocking pairs", "blocking_pairs"),
    ("students with justified envy", "students_with_justified_envy"),
    ("reserved seats filled by members", "reserved_filled"),
    ("split families", "split_families"),
    ("better off than the first", "better"),
    ("worse off than the first", "worse"),
    ("same as the first", "same"),
)


def rows() -> tuple[tuple[str, str], ...]:
    """Every row of the comparison, with one per objective term of the registry."""
    return (*HEAD_ROWS, *((f"  {name}", f"terms.{name}") for name in RULES.terms()), *TAIL_ROWS)


#: A student's outcome as a number, smaller is better: its list position; 0 for a place through its
#: compact at a school it did not list (its family's own choice); UNPLACED when it has no school.
UNPLACED = 10**9


def collect(
    sources: Sequence[Path | Result], time_limit: float | None = None, labels: Sequence[str] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(label, metrics) for each run folder (read), config (solved here, nothing written) or Result.

    A label is the one given, else the run folder's name, the config's stem or the Result's name, or
    the path as given when two would otherwise share a name (two `config.yaml` in different folders).
    """
    if labels is None:
        labels = default_labels(sources)
    columns = []
    for label, source in zip(labels, sources, strict=True):
        if isinstance(source, Result):
            columns.append((label, _metrics_of(source)))
        elif source.is_dir():
            metrics_file = source / "metrics.json"
            if not metrics_file.exists():
                raise InputError([Problem(str(source), None, "expected a run folder with metrics.json")])
            try:
                metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise InputError([Problem(str(metrics_file), error.lineno, f"malformed JSON: {error.msg}")]) from None
            if not isinstance(metrics, dict):
                raise InputError([Problem(str(metrics_file), 1, "expected a JSON object of metrics")])
            metrics["_outcomes"] = _read_outcomes(source / "assignment.csv")
            columns.append((label, metrics))
        else:
            columns.append((label, _solve(source, time_limit)))
    _compare_students(columns)
    return columns


def _read_outcomes(path: Path) -> dict[str, int]:
    """Each student's outcome from an assignment.csv (empty when the file is missing)."""
    if not path.exists():
        return {}
    outcomes = {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            # seatplan's own file: an id a spreadsheet would take for a formula is guarded.
            student = unguard_text(row["student_id"].strip())
            position = (row.get("position") or "").strip()
            school = (row.get("school_id") or "").strip()
            if position.isascii() and position.isdigit() and len(position) <= 18:
                outcomes[student] = int(position)
            elif school:
                outcomes[student] = 0 if (row.get("compact_id") or "").strip() else UNPLACED - 1
            else:
                outcomes[student] = UNPLACED
    return outcomes


def _compare_students(columns: list[tuple[str, dict[str, Any]]]) -> None:
    """Students better off, worse off and the same as in the first column, by their own lists."""
    if not columns:
        return
    first = columns[0][1].get("_outcomes") or {}
    for _, metrics in columns[1:]:
        mine = metrics.get("_outcomes") or {}
        shared = [sid for sid in first if sid in mine]
        if not shared:
            continue
        metrics["better"] = sum(1 for sid in shared if mine[sid] < first[sid])
        metrics["worse"] = sum(1 for sid in shared if mine[sid] > first[sid])
        metrics["same"] = sum(1 for sid in shared if mine[sid] == first[sid])


def default_labels(sources: Sequence[Path | Result]) -> list[str]:
    names = [_name(source) for source in sources]
    return [
        name if names.count(name) == 1 else (f"{name} ({number + 1})" if isinstance(source, Result) else str(source))
        for number, (name, source) in enumerate(zip(names, sources, strict=True))
    ]


def _name(source: Path | Result) -> str:
    if isinstance(source, Result):
        return source.config.name
    return source.name if source.is_dir() else source.stem


def _solve(config_path: Path, time_limit: float | None) -> dict[str, Any]:
    config, instance = load_inputs(config_path)
    return _metrics_of(solve(config, instance=instance, time_limit=time_limit))


def _metrics_of(result: Result) -> dict[str, Any]:
    """A solved result's metrics with each student's outcome; only the status for an unsolved one."""
    instance = result.instance
    if not result.solved:
        return {"status": str(result.status), "backend": result.backend}
    assert result.placement is not None and result.evaluation is not None
    metrics = dict(result.metrics)
    placed = result.placement.school >= 0
    positions = result.evaluation.positions
    outcome = np.where(placed, positions, UNPLACED)
    outcome = np.where(placed & (positions == 0), np.where(result.evaluation.through_compact, 0, UNPLACED - 1), outcome)
    metrics["_outcomes"] = dict(zip(instance.student_ids.tolist(), outcome.tolist(), strict=True))
    return metrics


def _value(metrics: dict[str, Any], key: str) -> Any:
    if key == "gap_pct":
        gap = metrics.get("gap")
        return None if gap is None else round(100 * gap, 4)
    if key == "compacts_honored":
        compacts = metrics.get("compacts") or {}
        return f"{compacts.get('honored', 0)}/{compacts.get('total', 0)}" if compacts else None
    if key == "reserved_filled":
        if "reserved_seats" not in metrics:
            return None
        return f"{metrics.get('reserved_seats_filled_by_members', 0)}/{metrics['reserved_seats']}"
    if key == "worst_shortfall":
        rules = metrics.get("diversity") or []
        worst = [
            (r["worst"]["shortfall"], f"{r['attribute']}={r['category']} at {r['worst']['unit']}")
            for r in rules
            if r.get("worst")
        ]
        if not rules:
            return None
        if not worst:
            return 0
        amount, where = max(worst)
        return f"{amount / 100:g} ({where})"
    value: Any = metrics
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


#: Rows shown only when some run has them (a district without reserves needs no reserve row).
OPTIONAL_ROWS = frozenset({"reserved_filled"})


def shown_rows(columns: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """The rows the comparison shows: every row, but an optional one only when some run has it."""
    return [
        (label, key)
        for label, key in rows()
        if key not in OPTIONAL_ROWS or any(_value(m, key) is not None for _, m in columns)
    ]


def table_rows(columns: list[tuple[str, dict[str, Any]]]) -> list[list[Any]]:
    return [[label, *(_value(m, key) for _, m in columns)] for label, key in shown_rows(columns)]


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render(columns: list[tuple[str, dict[str, Any]]], fmt: str) -> str:
    """The comparison as a table, CSV, JSON or Markdown."""
    names = [label for label, _ in columns]
    table = table_rows(columns)
    keys = [key for _, key in shown_rows(columns)]
    if fmt == "json":
        document: dict[str, dict[str, Any]] = {}
        for i, label in enumerate(names):
            column: dict[str, Any] = {}
            for row, key in zip(table, keys, strict=True):
                if key.startswith("terms."):
                    column.setdefault("terms", {})[key.removeprefix("terms.")] = row[i + 1]
                else:
                    column[row[0].strip()] = row[i + 1]
            document[label] = column
        return json.dumps(document, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["metric", *map(guard_text, names)])
        for row, key in zip(table, keys, strict=True):
            metric = f"term: {row[0].strip()}" if key.startswith("terms.") else row[0].strip()
            writer.writerow([metric, *(_csv_cell(v) for v in row[1:])])
        return out.getvalue().rstrip("\n")
    text_rows = [[row[0], *(_text(v) for v in row[1:])] for row in table]
    if fmt == "markdown":
        lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        lines += ["| " + " | ".join(r) + " |" for r in text_rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [["", *names], *text_rows]) for i in range(len(names) + 1)]
    header = "".ljust(widths[0]) + "  " + "  ".join(n.rjust(w) for n, w in zip(names, widths[1:], strict=True))
    body = [
        r[0].ljust(widths[0]) + "  " + "  ".join(v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True))
        for r in text_rows
    ]
    return "\n".join([header, *body])


def _csv_cell(value: Any) -> Any:
    """A CSV cell: empty for none, text guarded against spreadsheet formulas, numbers as they are."""
    if value is None:
        return ""
    return guard_text(value) if isinstance(value, str) else value


#: For other commands that show the same figures (explain --rules).
metrics_of = _metrics_of
value_of = _value
