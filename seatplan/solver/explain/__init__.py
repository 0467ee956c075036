"""Why: explanations for families, cutoffs, the price of every rule, infeasibility in the
planner's words. Everything here reads run folders (or a config, for infeasibility) and writes files;
the CLI only parses and prints."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seatplan.models.errors import InputError, Problem
from seatplan.models.school_order import order_key
from seatplan.models.tables import guard_text, guarded, read_table
from seatplan.solver.explain.cutoffs import cutoff_table, cutoffs, fills_in_order
from seatplan.solver.explain.reasons import COST_TIME_LIMIT, Explainer, Explanation, ordinal, student_index
from seatplan.solver.runfolder import RunFolder, read_run

__all__ = ["COST_TIME_LIMIT", "Explainer", "Explanation", "cutoff_table", "explain_all", "explain_student"]

#: The columns of explanations.csv: one row per reason (one row for a student without any).
COLUMNS = (
    "student_id",
    "school_id",
    "position",
    "reason_school_id",
    "reason_position",
    "kind",
    "cutoff_priority",
    "cutoff_lottery",
    "student_priority",
    "student_lottery",
    "cost",
    "cost_is_bound",
    "rule",
    "text",
)


def explain_student(run: RunFolder | Path, student_id: str, time_limit: float = COST_TIME_LIMIT) -> Explanation:
    """One student's explanation (costs re-solved for an optimised run)."""
    folder = run if isinstance(run, RunFolder) else read_run(Path(run))
    return Explainer(folder, costs=True, time_limit=time_limit).explain(student_index(folder, student_id))


def read_student_list(path: Path, run: RunFolder) -> list[int]:
    """A file of student ids (a student_id column, or one id per line) as student indexes."""
    problems: list[Problem] = []
    table = read_table(path, str(path), problems)
    if table is None:
        raise InputError(problems)
    frame = table.frame
    header = "student_id" in table.columns
    column = "student_id" if header else table.columns[0]
    ids = frame[column].astype(str).str.strip().tolist()
    lines = frame["_line"].tolist()
    if not header:
        # No student_id column: the first line was an id too.
        ids, lines = [str(column).strip(), *ids], [1, *lines]
    found = pd.Index(run.instance.student_ids).get_indexer(pd.Index(ids))
    bad = [
        Problem(table.file, int(line), f"expected a student_id of the run, got {sid!r}")
        for line, sid, at in zip(lines, ids, found, strict=True)
        if at < 0 and sid
    ]
    if bad:
        raise InputError(bad)
    return sorted({int(at) for at, sid in zip(found, ids, strict=True) if sid})


def explain_all(run: RunFolder, with_costs: list[int] | None = None, time_limit: float = COST_TIME_LIMIT) -> str:
    """explanations.csv for every student: cutoffs (and rules) for all, computed at once; costs only
    for the students `with_costs` (re-solves)."""
    if with_costs and run.config.is_mechanism:
        raise InputError(
            [
                Problem(
                    f"{run.where}/metrics.json",
                    None,
                    "expected an optimised run for costs (--students), got one "
                    f"made by a mechanism ({run.config.mechanism}) "
                    f"(its reasons are {'cutoffs' if run.config.is_stable_mechanism else 'its rounds'})",
                )
            ]
        )
    rows = _all_rows(run)
    if with_costs:
        explainer = Explainer(run, costs=True, time_limit=time_limit)
        chosen = set(with_costs)
        rows = [row for row in rows if row["_student"] not in chosen]
        for student in with_costs:
            rows += _rows_of(explainer.explain(student))
        rows.sort(key=lambda row: (row["_student"], row["reason_position"] or 0))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in COLUMNS})
    return out.getvalue()


def _rows_of(explanation: Explanation) -> list[dict[str, Any]]:
    document = explanation.to_json()
    base = {
        "_student": explanation.student,
        "student_id": document["student_id"],
        "school_id": document["school_id"],
        "position": document["position"],
    }
    if not document["reasons"]:
        return [{**base, "reason_position": None, "text": explanation.headline()}]
    return [
        {
            **base,
            "reason_school_id": reason["school_id"],
            "reason_position": reason["position"],
            "kind": reason["kind"],
            "cutoff_priority": (reason["cutoff"] or {}).get("priority"),
            "cutoff_lottery": (reason["cutoff"] or {}).get("lottery"),
            "student_priority": (reason["student_key"] or {}).get("priority"),
            "student_lottery": (reason["student_key"] or {}).get("lottery"),
            "cost": reason["cost"],
            "cost_is_bound": str(reason["cost_is_bound"]).lower(),
            "rule": reason["rule"],
            "text": reason["text"],
        }
        for reason in document["reasons"]
    ]


def _all_rows(run: RunFolder) -> list[dict[str, Any]]:
    """Every student's reasons at once (vectorised): the same reasons `Explainer` gives, without
    costs, for a district of 10,000 students in a second or two."""
    instance, config = run.instance, run.config
    explainer = Explainer(run, costs=False)
    table = cutoffs(run)
    # Every school each student listed: the ones it is eligible at, and the others where they stood.
    listed_ineligible = instance.ineligible_position > 0
    student = np.concatenate([instance.pref_student(), instance.ineligible_student[listed_ineligible]])
    school = np.concatenate([instance.pref_school, instance.ineligible_school[listed_ineligible]])
    position = np.concatenate([instance.pref_position(), instance.ineligible_position[listed_ineligible]])
    eligible = np.arange(len(student)) < len(instance.pref_school)
    placed = run.school >= 0
    own = np.where(placed, run.position, np.iinfo(np.int64).max)
    off_list = placed & (run.position == 0)
    own = np.where(off_list & run.through_compact, np.iinfo(np.int64).max, np.where(off_list, 0, own))
    above = position < own[student]
    student, school, position, eligible = student[above], school[above], position[above], eligible[above]
    grade = instance.grade[student]
    no_seats = instance.capacity[school, grade] == 0
    compact = run.through_compact[student]
    key = order_key(instance, config, student, school)
    last = table.last[school, grade]
    last_key = order_key(instance, config, np.maximum(last, 0), school)
    # With reserves each block of seats has its own cutoff: those reasons are the Explainer's own.
    by_cutoff = fills_in_order(run) & table.full[school, grade] & (last >= 0) & (key > last_key)
    by_cutoff &= eligible & (not instance.has_reserves)
    feeder = config.clusters.feeder_priority
    priority = instance.priority(student, school, feeder)
    last_priority = instance.priority(np.maximum(last, 0), school, feeder)
    ids, sids = instance.student_ids, instance.school_ids
    rows: list[dict[str, Any]] = []
    for i in range(len(student)):
        s, j, p = int(student[i]), int(school[i]), int(position[i])
        row: dict[str, Any] = {
            "_student": s,
            "reason_school_id": str(sids[j]),
            "reason_position": p,
            "cost_is_bound": "false",
        }
        if by_cutoff[i] and not no_seats[i] and not compact[i]:
            cutoff = {"priority": int(last_priority[i]), "lottery": instance.lottery_of(int(last[i]), j)}
            mine = {"priority": int(priority[i]), "lottery": instance.lottery_of(s, j)}
            reason = explainer.cutoff_reason(s, j, p, cutoff, mine, int(last[i]))
        else:
            reason = explainer.reason(s, j, p, with_costs=False)
        row.update(
            kind=reason.kind,
            cutoff_priority=None if reason.cutoff is None else reason.cutoff["priority"],
            cutoff_lottery=None if reason.cutoff is None else reason.cutoff["lottery"],
            student_priority=None if reason.student_key is None else reason.student_key["priority"],
            student_lottery=None if reason.student_key is None else reason.student_key["lottery"],
            cost=reason.cost,
            rule=reason.rule,
            text=reason.text,
        )
        rows.append(row)
    with_reasons = set(student.tolist())
    for s in range(instance.n_students):
        if s not in with_reasons:
            rows.append({"_student": s, "reason_position": None, "text": Explanation(run, s, []).headline()})
    positions = run.position
    for row in rows:
        s = row["_student"]
        row["student_id"] = str(ids[s])
        row["school_id"] = None if run.school[s] < 0 else str(sids[run.school[s]])
        row["position"] = int(positions[s]) if run.school[s] >= 0 and positions[s] > 0 else None
    rows.sort(key=lambda row: (row["_student"], row["reason_position"] or 0))
    return rows


def _cell(value: Any) -> Any:
    """An explanations.csv cell: empty for none, text guarded against spreadsheet formulas."""
    if value is None:
        return ""
    return guard_text(value) if isinstance(value, str) else value


def render_table(frame: pd.DataFrame, fmt: str) -> str:
    """A table as text, CSV (text cells guarded against spreadsheet formulas), JSON (a list of
    rows) or Markdown."""
    if fmt == "csv":
        return guarded(frame).to_csv(index=False).rstrip("\n")
    if fmt == "json":
        records = [
            {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
            for r in frame.to_dict(orient="records")
        ]
        return json.dumps(records, indent=2, ensure_ascii=False, default=_plain)
    text = frame.astype(object).where(frame.notna(), "—").astype(str)
    headers = [str(c) for c in frame.columns]
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in text.to_numpy().tolist()]
        return "\n".join(lines)
    widths = [max([len(h), *(len(v) for v in text[c])]) for h, c in zip(headers, frame.columns, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in text.to_numpy().tolist()
    ]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def ordinal_choice(position: int) -> str:
    return "first choice" if position == 1 else f"{ordinal(position)} choice"
