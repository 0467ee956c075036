"""The report of a sweep folder: the sweep at a glance, its trade-off curve (when the sweep was run
with --frontier) and every point, as one self-contained page — the same templates, styles, scripts
and plotly.js inline as the plan's report; nothing fetched at view time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from seatplan.models.errors import InputError, Problem
from seatplan.models.tables import unguarded
from seatplan.solver.metrics import VERSION
from seatplan.solver.report import render
from seatplan.solver.report.sections import Chart, Section
from seatplan.solver.report.tables import Column, Suppression, Table

#: What `seatplan sweep` writes beside points.csv: the sweep file, its varied keys, the frontier's axes.
SWEEP_JSON = "sweep.json"


def is_sweep_folder(folder: Path) -> bool:
    return (folder / "points.csv").is_file() and (folder / SWEEP_JSON).is_file()


def sweep_report_html(folder: Path, title: str | None = None) -> str:
    """The page of a sweep folder."""
    try:
        about = json.loads((folder / SWEEP_JSON).read_text(encoding="utf-8"))
        frame = unguarded(pd.read_csv(folder / "points.csv", keep_default_na=False, na_values=[""]))
    except (OSError, ValueError) as error:
        message = f"expected a sweep folder written by seatplan sweep ({error})"
        raise InputError([Problem(str(folder), None, message)]) from None
    keys = [str(key) for key in about.get("keys", [])]
    axes = about.get("frontier")
    parts = [_glance(frame, about, keys)]
    if axes and "frontier" in frame.columns:
        parts.append(_tradeoff(frame, keys, str(axes[0]), str(axes[1])))
    parts.append(_points(frame, keys))
    name = Path(str(about.get("file", folder.name))).stem
    return render.page(
        title=title or f"seatplan — sweep {name}",
        subtitle=f"{len(frame):,} points of {about.get('file', '')}",
        sections=parts,
        suppression=Suppression(0),
        footer=f"Made by seatplan {VERSION} from {folder / 'points.csv'}.",
    )


def _glance(frame: pd.DataFrame, about: dict[str, Any], keys: list[str]) -> Section:
    statuses = frame["status"].fillna("—").value_counts()
    rows = [{"status": str(status), "points": int(count)} for status, count in statuses.items()]
    section = Section(
        "glance",
        "The sweep at a glance",
        f"The base config {about.get('base', '')} solved under {len(frame):,} settings"
        + (f", varying {', '.join(keys)}" if keys else "")
        + ". A point's status says what was proven: optimal (no better plan exists), feasible (stopped by its "
        "time limit, with its gap), infeasible (its hard rules cannot all hold), error (see its row).",
    )
    section.add(
        Table(
            "statuses",
            "Points by status",
            (Column("status", "text"), Column("points", "number", decimals=0)),
            tuple(rows),
        )
    )
    return section


def _tradeoff(frame: pd.DataFrame, keys: list[str], x: str, y: str) -> Section:
    xs = pd.to_numeric(frame[x], errors="coerce")
    ys = pd.to_numeric(frame[y], errors="coerce")
    efficient = frame["frontier"].astype(str).str.lower().isin(["true", "1"])
    labels = [
        f"point {point}<br>" + "<br>".join(f"{key} = {row[key]}" for key in keys) + f"<br>status {row['status']}"
        for point, (_, row) in zip(frame["point"], frame.iterrows(), strict=True)
    ]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=xs[~efficient],
            y=ys[~efficient],
            mode="markers",
            name="other points",
            marker={"color": "#9aa5b1", "size": 9},
            text=[labels[i] for i in frame.index[~efficient]],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    order = xs[efficient].sort_values().index
    figure.add_trace(
        go.Scatter(
            x=xs[order],
            y=ys[order],
            mode="lines+markers",
            name="efficient: no point better on both",
            marker={"color": "#1f5fa8", "size": 10},
            line={"color": "#1f5fa8"},
            text=[labels[i] for i in order],
            hovertemplate="%{text}<extra></extra>",
        )
    )
    figure.update_layout(
        xaxis_title=f"{x} (smaller is better)",
        yaxis_title=f"{y} (smaller is better)",
        margin={"l": 60, "r": 20, "t": 20, "b": 50},
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    section = Section(
        "tradeoff",
        "The trade-off",
        f"Every point by {x} and {y}, both smaller-is-better. The efficient points — no other point is as good "
        f"on both and better on one — are joined: moving along the curve buys one with the other. Hover over a "
        f"point for its settings.",
    )
    section.add(
        Chart("frontier", f"{y} against {x}", figure, f"{int(efficient.sum())} efficient points of {len(frame)}.")
    )
    return section


def _points(frame: pd.DataFrame, keys: list[str]) -> Section:
    columns = [Column("point", "number", decimals=0)]
    columns += [Column(key, "text") for key in keys]
    for name in ("seed", "mechanism", "status"):
        if name in frame.columns and frame[name].notna().any():
            columns.append(Column(name, "text"))
    for name in (
        "objective",
        "bound",
        "gap",
        "first_choice_pct",
        "top3_pct",
        "unplaced",
        "compacts_honored",
        "diversity_shortfall",
        "worst_shortfall",
        "blocking_pairs",
        "seconds",
    ):
        if name in frame.columns:
            columns.append(Column(name, "number", decimals=4 if name == "gap" else 2))
    if "frontier" in frame.columns:
        columns.append(Column("frontier", "flag"))
    if "error" in frame.columns and frame["error"].notna().any():
        columns.append(Column("error", "text"))
    rows = []
    for _, row in frame.iterrows():
        rows.append(
            {
                column.key: (
                    None
                    if pd.isna(row[column.name])
                    else (str(row[column.name]).lower() in ("true", "1") if column.kind == "flag" else row[column.name])
                )
                for column in columns
            }
        )
    section = Section(
        "points",
        "Every point",
        "One row per point, as in points.csv (sortable: click a column's header). The terms of each objective "
        "are in points.csv.",
    )
    section.add(Table("points", "Points", tuple(columns), tuple(rows)))
    return section
