"""The report's charts, drawn with plotly from the tables' public values (a suppressed or hidden
value is NaN and is not drawn). Interactive in the browser: hover a mark for its numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

if TYPE_CHECKING:
    from seatplan.solver.report.district import District
    from seatplan.solver.runfolder import RunFolder

#: One colour per run, the same run the same colour in every chart (Okabe–Ito: a colour-blind reader
#: can tell them apart). Other things are drawn in colours no run uses.
RUNS = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#F0E442", "#000000")
SECTORS = ("#7B5EA7", "#7F8C8D", "#3B8686", "#B07AA1")
UNDER = "#CC79A7"  # under-selected schools, seats taken by compacts
OTHER = "#A7AFB8"  # everything else: over-selected schools, seats left
OUTSIDE = "#D55E00"  # a unit outside its band
BAND = "#8C8C8C"


def run_colour(runs: list[str], run: str) -> str:
    """A run's colour: by its place among all the report's runs (not among a chart's)."""
    return RUNS[runs.index(run) % len(RUNS)]


FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _layout(figure: go.Figure, height: int = 420, **extra: object) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        font={"family": FONT, "size": 13},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        hoverlabel={"font": {"family": FONT}},
        **extra,
    )
    return figure


def grouped_bars(
    frame: pd.DataFrame, x: str, series: list[tuple[str, str]], y_title: str, runs: list[str]
) -> go.Figure:
    """One bar per row and series (a run, in its colour), side by side."""
    figure = go.Figure()
    for name, column in series:
        figure.add_bar(
            x=frame[x],
            y=frame[column],
            name=name,
            marker_color=run_colour(runs, name),
            hovertemplate=f"<b>%{{x}}</b><br>{name}: %{{y:.1f}}%<extra></extra>",
        )
    figure.update_yaxes(title=y_title, ticksuffix="%", rangemode="tozero")
    return _layout(figure, barmode="group", showlegend=True)


def demand_against_seats(frame: pd.DataFrame, below: int) -> go.Figure:
    """Each school's first-choice demand as a share of its seats, schools in order: above 100%, more
    students listed it first than it has seats. A demand too small to show (suppressed) is a grey
    stub at the foot of the chart."""
    seats = frame["seats"].astype(float)
    demand = frame["first-choice demand"].astype(float)
    ratio = 100 * demand / seats.clip(lower=1)
    order = ratio.fillna(-1).sort_values(ascending=False, kind="stable").index
    frame, ratio = frame.loc[order], ratio.loc[order]
    names = (frame["school"] + " · " + frame["name"]).tolist()
    under = (frame["under-selected"] == "yes").to_numpy()
    hidden = ratio.isna().to_numpy()
    figure = go.Figure()
    for label, mask, colour in (
        ("over- or fully selected", ~under & ~hidden, OTHER),
        ("under-selected", under & ~hidden, UNDER),
    ):
        figure.add_bar(
            x=np.array(names)[mask],
            y=ratio[mask],
            name=label,
            marker_color=colour,
            customdata=np.stack([seats.loc[order][mask], frame["first-choice demand"][mask]], axis=-1),
            hovertemplate="<b>%{x}</b><br>listed first by %{customdata[1]:,} for %{customdata[0]:,} seats "
            "(%{y:.0f}%)<extra></extra>",
        )
    if hidden.any():
        figure.add_bar(
            x=np.array(names)[hidden],
            y=np.full(int(hidden.sum()), 2.0),
            name=f"listed first by fewer than {below}",
            marker_color="#D9DDE1",
            hovertemplate=f"<b>%{{x}}</b><br>listed first by fewer than {below}<extra></extra>",
        )
    figure.add_hline(y=100, line_dash="dot", line_color="#555", annotation_text="as many first choices as seats")
    figure.update_xaxes(
        title="schools, most wanted first", showticklabels=len(frame) <= 60, categoryorder="array", categoryarray=names
    )
    figure.update_yaxes(title="students who listed it first, per 100 seats", ticksuffix="%", rangemode="tozero")
    return _layout(figure, height=460, barmode="overlay")


#: Beyond this many units a band is drawn as a histogram of their shares, not a dot per unit.
MOST_DOTS = 60


def band_dots(frame: pd.DataFrame, unit: str, runs: list[str], band: tuple[int, int]) -> go.Figure:
    """A dot per unit (and run) at its share, the band shaded behind; dots outside it ringed. With
    many units, how many units have each share instead."""
    if len(frame) > MOST_DOTS:
        return band_histogram(frame, runs, band)
    lo, hi = band
    height = max(320, 24 * len(frame) + 120)
    figure = go.Figure()
    figure.add_vrect(x0=lo, x1=hi, fillcolor=BAND, opacity=0.18, line_width=0)
    shares = pd.concat([frame[f"{run} · share %"] for run in runs]).dropna()
    low = max(0.0, min(lo, float(shares.min()) if len(shares) else lo) - 5)
    high = min(100.0, max(hi, float(shares.max()) if len(shares) else hi) + 5)
    for run in runs:
        share = frame[f"{run} · share %"]
        outside = frame[f"{run} · outside"] == "yes"
        short = frame[f"{run} · short by (students)"]
        figure.add_scatter(
            x=share,
            y=frame[unit],
            mode="markers",
            name=run,
            marker={
                "size": 11,
                "color": run_colour(runs, run),
                "line": {"width": np.where(outside, 3, 0), "color": OUTSIDE},
            },
            customdata=np.stack([short.fillna(-1).to_numpy()], axis=-1),
            hovertemplate=f"<b>%{{y}}</b> ({run})<br>share %{{x:.1f}}%<br>short by %{{customdata[0]:.2f}} students"
            f"<extra></extra>",
        )
    figure.update_xaxes(
        title=f"% of its students in the group (the band: {lo}–{hi}%)", ticksuffix="%", range=[low, high]
    )
    figure.update_yaxes(autorange="reversed", type="category")
    return _layout(figure, height=height, showlegend=len(runs) > 1)


def band_histogram(frame: pd.DataFrame, runs: list[str], band: tuple[int, int]) -> go.Figure:
    """How many units have each share of the group (in 2-point bins), the band shaded behind."""
    lo, hi = band
    figure = go.Figure()
    figure.add_vrect(x0=lo, x1=hi, fillcolor=BAND, opacity=0.18, line_width=0)
    for run in runs:
        outside = int((frame[f"{run} · outside"] == "yes").sum())
        figure.add_histogram(
            x=frame[f"{run} · share %"],
            xbins={"start": 0, "end": 100, "size": 2},
            name=f"{run} ({outside:,} outside the band)",
            marker_color=run_colour(runs, run),
            opacity=0.75,
            hovertemplate="share %{x}: %{y:,} units<extra></extra>",
        )
    figure.update_xaxes(title=f"% of its students in the group (the band: {lo}–{hi}%)", ticksuffix="%", range=[0, 100])
    figure.update_yaxes(title="units with that share")
    return _layout(figure, barmode="overlay")


def sector_bars(frame: pd.DataFrame, category: str, runs: list[str]) -> go.Figure:
    """The group's share in each sector, for the district and for each cluster's students; one
    panel per run."""
    # Imported here: plotly's subplots are slow to import, and a solve draws no chart.
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=len(runs), cols=1, subplot_titles=runs if len(runs) > 1 else None, vertical_spacing=0.12
    )
    sectors = list(dict.fromkeys(frame["sector"]))
    for row, run in enumerate(runs, start=1):
        for number, sector in enumerate(sectors):
            part = frame[frame["sector"] == sector]
            figure.add_bar(
                x=part["students of"],
                y=part[f"{run} · {category} %"],
                name=f"{sector} schools",
                legendgroup=sector,
                showlegend=row == 1,
                marker_color=SECTORS[number % len(SECTORS)],
                customdata=np.stack([part[f"{run} · {category} gap (points)"].fillna(0).to_numpy()], axis=-1),
                hovertemplate=f"<b>%{{x}}</b>, {sector} schools<br>{category}: %{{y:.1f}}%<br>"
                f"gap %{{customdata[0]:+.1f}} points<extra></extra>",
                row=row,
                col=1,
            )
        figure.update_yaxes(title_text=f"% {category}", ticksuffix="%", row=row, col=1)
    return _layout(figure, height=340 * len(runs) + 60, barmode="group")


#: Schools shown in the compacts chart: those whose seats compacts take the most.
MOST_BARS = 40


def compact_seats(frame: pd.DataFrame, run: str) -> go.Figure:
    """For each school compacts applied to (the MOST_BARS whose seats compacts take the most): seats
    taken by honored compacts, and seats left. Where the compacts' students are too few to show,
    the school's seats are drawn whole, in grey."""
    labelled = frame.assign(label=frame["school"] + " · " + frame["school name"])
    per_school = labelled.groupby("label", sort=False).agg(
        seats=("school's seats", "first"),
        cap=("compact cap (seats)", "first"),
        taken=(f"{run} · students at the school through its compacts", "first"),
        left=(f"{run} · seats left for other families", "first"),
    )
    if len(per_school) > MOST_BARS:
        share = (per_school["taken"] / per_school["seats"].clip(lower=1)).fillna(0)
        per_school = per_school.loc[share.sort_values(ascending=False, kind="stable").index[:MOST_BARS]]
    hidden = per_school["taken"].isna()
    figure = go.Figure()
    for name, values, color in (
        ("taken by honored compacts", per_school["taken"].where(~hidden), UNDER),
        ("left for other families", per_school["left"].where(~hidden), OTHER),
        ("seats (compacts' part too small to show)", per_school["seats"].where(hidden), "#D9DDE1"),
    ):
        if values.isna().all():
            continue
        figure.add_bar(
            y=per_school.index,
            x=values,
            orientation="h",
            name=name,
            marker_color=color,
            hovertemplate=f"<b>%{{y}}</b><br>{name}: %{{x:,}}<extra></extra>",
        )
    figure.add_scatter(
        y=per_school.index,
        x=per_school["cap"],
        mode="markers",
        name="the cap: the most compacts may take",
        marker={"symbol": "line-ns", "size": 22, "line": {"width": 3, "color": "#333"}},
        hovertemplate="<b>%{y}</b><br>compacts may take at most %{x:,} seats<extra></extra>",
    )
    figure.update_xaxes(title="seats")
    figure.update_yaxes(type="category", autorange="reversed")
    return _layout(figure, height=max(300, 36 * len(per_school) + 160), barmode="stack")


#: The fewest homes a map square shows, whatever the suppression.
MAP_FLOOR = 5


def district_map(district: District, run: RunFolder, below: int, bins: int = 28) -> go.Figure:
    """Homes counted in a grid of squares (a square with fewer than `below` students left blank),
    schools on top, sized by seats, coloured by fill (or a group's share, by the buttons)."""
    instance = district.instance
    homes = np.isfinite(instance.student_lat) & np.isfinite(instance.student_lon)
    lat, lon = instance.student_lat[homes], instance.student_lon[homes]
    all_lat = np.concatenate([lat, instance.school_lat])
    all_lon = np.concatenate([lon, instance.school_lon])
    lat_edges = np.linspace(all_lat.min(), all_lat.max() + 1e-9, bins + 1)
    lon_edges = np.linspace(all_lon.min(), all_lon.max() + 1e-9, bins + 1)
    counts, _, _ = np.histogram2d(lat, lon, bins=[lat_edges, lon_edges])
    # Small squares (and empty ones) are not drawn; never fewer than MAP_FLOOR homes, even with
    # suppression off: the map must not point at a home.
    counts[counts < max(below, MAP_FLOOR)] = np.nan
    figure = go.Figure()
    figure.add_heatmap(
        z=counts,
        x=(lon_edges[:-1] + lon_edges[1:]) / 2,
        y=(lat_edges[:-1] + lat_edges[1:]) / 2,
        colorscale=[[0.0, "#e4e7eb"], [1.0, "#5b6470"]],
        zmin=0,
        opacity=0.8,
        showscale=False,
        hovertemplate="%{z:,} students live here<extra></extra>",
        name="homes",
    )
    placed = np.bincount(run.school[run.placed], minlength=instance.n_schools)
    seats = instance.total_capacity
    fill = 100 * placed / np.maximum(seats, 1)
    colourings = [("fill %", fill)]
    for category in district.categories:
        members = run.placed & district.members(category)
        k = np.bincount(run.school[members], minlength=instance.n_schools)
        share = np.where(placed > 0, 100 * k / np.maximum(placed, 1), np.nan)
        share[(k > 0) & (k < below)] = np.nan  # a share from a suppressed count is hidden
        share[(placed > 0) & (placed < below)] = np.nan
        colourings.append((f"{category.label} %", share))
    size = 8 + 22 * np.sqrt(seats / max(seats.max(), 1))
    names = np.char.add(np.char.add(instance.school_ids.astype(str), " · "), instance.school_names.astype(str))
    figure.add_scatter(
        x=instance.school_lon,
        y=instance.school_lat,
        mode="markers",
        name="schools",
        text=names,
        customdata=np.stack([seats, fill], axis=-1),
        marker={
            "size": size,
            "color": colourings[0][1],
            "colorscale": "RdYlBu",
            "cmin": 0,
            "cmax": 100,
            "colorbar": {"title": {"text": colourings[0][0]}, "ticksuffix": "%"},
            "line": {"width": 1, "color": "white"},
            "opacity": 0.9,
        },
        hovertemplate="<b>%{text}</b><br>seats %{customdata[0]:,}<br>fill %{customdata[1]:.0f}%<extra></extra>",
    )
    buttons = [
        {
            "label": label,
            "method": "restyle",
            "args": [{"marker.color": [values.tolist()], "marker.colorbar.title.text": label}, [1]],
        }
        for label, values in colourings
    ]
    figure.update_xaxes(title="longitude", showgrid=False)
    figure.update_yaxes(
        title="latitude", showgrid=False, scaleanchor="x", scaleratio=1 / np.cos(np.radians(float(np.mean(all_lat))))
    )
    return _layout(
        figure,
        height=620,
        showlegend=False,
        updatemenus=[
            {"buttons": buttons, "direction": "right", "x": 0, "y": 1.08, "xanchor": "left", "type": "buttons"}
        ]
        if len(buttons) > 1
        else [],
    )
