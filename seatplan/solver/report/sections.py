"""The report's sections, each computed once from the runs: tables (raw numbers, suppressed when
shown) and the charts drawn from their public values.

Every number comes from the run folder's own files: assignment.csv (who is where), the data its
config.yaml names (students' grades, categories, homes; schools' seats, clusters, sectors), and
metrics.json for what only the solve knows (status, bound, objective, blocking pairs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from seatplan.models.rules import RULES
from seatplan.models.rules.compacts import compact_sizes, share_limit
from seatplan.models.rules.diversity import band, rule_shortfalls, unit_counts, units
from seatplan.models.tables import unguarded
from seatplan.solver.report import charts
from seatplan.solver.report.district import UNPLACED, District
from seatplan.solver.report.tables import Column, Suppression, Table, TableBuilder, pct
from seatplan.solver.runfolder import RunFolder, Sectioned, read_sectioned


@dataclass
class Chart:
    key: str
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass
class Section:
    """One part of the report: what it shows in plain words, then its charts and tables in order."""

    key: str
    title: str
    intro: str
    items: list[Chart | Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, item: Chart | Table) -> None:
        self.items.append(item)

    @property
    def tables(self) -> list[Table]:
        return [item for item in self.items if isinstance(item, Table)]

    @property
    def charts(self) -> list[Chart]:
        return [item for item in self.items if isinstance(item, Chart)]


def _series(runs: Any, column: str) -> list[tuple[str, str]]:
    """(run label, its column) for a chart with one series per run."""
    return [(run.label, f"{run.label} · {column}") for run in runs]


def natural(names: tuple[str, ...]) -> list[tuple[int, str]]:
    """(index, name) in the order a reader expects: C2 before C10."""

    def key(item: tuple[int, str]) -> list[tuple[int, object]]:
        # A run of digits compares as a number (a run longer than any count compares as the largest).
        return [
            (0, int(part) if len(part) <= 18 else 10**18) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", item[1])
        ]

    return sorted(enumerate(names), key=key)


def ordinal(position: int) -> str:
    suffix = "th" if 10 <= position % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(position % 10, "th")
    return f"{position}{suffix} choice"


# ---- 2. choices ------------------------------------------------------------------------------------


def choices(district: District, suppression: Suppression) -> Section:
    section = Section(
        "choices",
        "Choices",
        "Which of their choices students got: the share of all students placed at their 1st, 2nd, … "
        "choice, at their compact's school (which they may not have listed), or left without a school; "
        "then the same for each grade and for each group a diversity rule names, against everyone's.",
    )
    longest = max(int(run.position.max(initial=0)) for run in district.runs)
    labels = [ordinal(p) for p in range(1, longest + 1)] + ["compact's school (not listed)", "no school"]
    table = TableBuilder(
        "choices",
        "Students by the choice they got",
        note="A compact member placed at its compact's school is counted at that school's place on its own list "
        "when it listed it, and as \u201ccompact's school (not listed)\u201d when it did not.",
    )
    table.columns.append(Column("choice", "text"))
    for run in district.runs:
        table.columns += [
            Column("students", "count", group=run.label),
            Column("share", "pct", ("students",), group=run.label),
        ]
    n = district.instance.n_students
    counts = {run.label: _choice_counts(run, longest) for run in district.runs}
    for index, label in enumerate(labels):
        row: dict[str, Any] = {"choice": label}
        for run in district.runs:
            count = int(counts[run.label][index])
            row[f"{run.label} · students"] = count
            row[f"{run.label} · share"] = pct(count, n)
        table.row(row)
    built = table.build()
    section.add(
        Chart(
            "choices-chart",
            "Share of students at each choice",
            charts.grouped_bars(
                suppression.frame(built),
                "choice",
                [(run.label, f"{run.label} · share") for run in district.runs],
                "% of all students",
                [run.label for run in district.runs],
            ),
            "Each bar is the share of all students; taller bars on the left mean more students got an early choice.",
        )
    )
    section.add(built)
    groups = _choices_by_group(district)
    public = suppression.frame(groups)
    section.add(
        Chart(
            "choices-groups-chart",
            "First choice, by group",
            charts.grouped_bars(
                public,
                "group",
                [(run.label, f"{run.label} · 1st choice %") for run in district.runs],
                "% at their 1st choice",
                [run.label for run in district.runs],
            ),
            "Compare each group's bar with \u201call students\u201d: a lower bar means the group got its first "
            "choice less often.",
        )
    )
    section.add(groups)
    return section


def _choice_counts(run: RunFolder, longest: int) -> np.ndarray:
    """Students at positions 1..longest, then at an unlisted compact school, then unplaced."""
    listed = np.bincount(run.position[run.placed & (run.position > 0)], minlength=longest + 1)[1:]
    unlisted = int((run.placed & (run.position == 0)).sum())
    return np.concatenate([listed, [unlisted, int((~run.placed).sum())]])


def _choices_by_group(district: District) -> Table:
    table = TableBuilder("choices_by_group", "Choices by grade and group")
    table.columns.append(Column("group", "text"))
    for run in district.runs:
        g = run.label
        table.columns += [
            Column("students", "count", group=g),
            Column("at 1st choice", "count", group=g),
            Column("1st choice %", "pct", ("students", "at 1st choice"), group=g),
            Column("in top three", "count", group=g),
            Column("top three %", "pct", ("students", "in top three"), group=g),
            Column("no school", "count", group=g),
            Column("no school %", "pct", ("students", "no school"), group=g),
        ]
    instance = district.instance
    groups: list[tuple[str, np.ndarray]] = [("all students", np.ones(instance.n_students, dtype=bool))]
    if instance.has_grades:
        groups += [
            (f"grade {grade}", instance.grade == g)
            for g, grade in enumerate(instance.grades)
            if (instance.grade == g).any()
        ]
    groups += [(category.label, district.members(category)) for category in district.categories]
    for label, members in groups:
        row: dict[str, Any] = {"group": label}
        for run in district.runs:
            g = run.label
            size = int(members.sum())
            first = int((members & (run.position == 1)).sum())
            top = int((members & (run.position >= 1) & (run.position <= 3)).sum())
            none = int((members & ~run.placed).sum())
            row.update(
                {
                    f"{g} · students": size,
                    f"{g} · at 1st choice": first,
                    f"{g} · 1st choice %": pct(first, size),
                    f"{g} · in top three": top,
                    f"{g} · top three %": pct(top, size),
                    f"{g} · no school": none,
                    f"{g} · no school %": pct(none, size),
                }
            )
        table.row(row)
    return table.build()


# ---- 3. schools ------------------------------------------------------------------------------------


def schools(district: District, suppression: Suppression) -> Section:
    section = Section(
        "schools",
        "Schools",
        "Each school's seats against its demand (students who listed it first), how full the plan makes it, "
        "how many of its students came through a parent compact, and the share of each group among its students. "
        "Under-selected schools (fewer first choices than seats, or so marked) are where compacts may go.",
    )
    instance = district.instance
    table = TableBuilder("schools", "Schools")
    table.columns += [
        Column("school", "text"),
        Column("name", "text"),
        Column("cluster", "text"),
        Column("sector", "text"),
        Column("seats", "number", decimals=0),
        Column("first-choice demand", "count"),
        Column("under-selected", "flag"),
    ]
    for run in district.runs:
        g = run.label
        table.columns += [
            Column("placed", "count", group=g),
            Column("fill %", "pct", ("placed",), group=g),
            Column("through compacts", "count", group=g),
        ]
        for category in district.categories:
            table.columns += [
                Column(category.label, "count", group=g),
                Column(f"{category.label} %", "pct", ("placed", category.label), group=g),
            ]
    seats = instance.total_capacity
    per_run = {run.label: _school_counts(district, run) for run in district.runs}
    for j in range(instance.n_schools):
        row: dict[str, Any] = {
            "school": str(instance.school_ids[j]),
            "name": str(instance.school_names[j]),
            "cluster": instance.clusters[instance.school_cluster[j]] if instance.school_cluster[j] >= 0 else "citywide",
            "sector": instance.sectors[instance.school_sector[j]] if instance.school_sector[j] >= 0 else "",
            "seats": int(seats[j]),
            "first-choice demand": int(instance.first_choices[j]),
            "under-selected": bool(instance.under_selected[j]),
        }
        for run in district.runs:
            g, counts = run.label, per_run[run.label]
            placed = int(counts["placed"][j])
            row[f"{g} · placed"] = placed
            row[f"{g} · fill %"] = pct(placed, seats[j])
            row[f"{g} · through compacts"] = int(counts["compact"][j])
            for category in district.categories:
                k = int(counts[category.label][j])
                row[f"{g} · {category.label}"] = k
                row[f"{g} · {category.label} %"] = pct(k, placed)
        table.row(row)
    built = table.build()
    section.add(
        Chart(
            "schools-demand-chart",
            "Demand against seats",
            charts.demand_against_seats(suppression.frame(built), suppression.below),
            "Each bar is a school: the students who listed it first, per 100 of its seats, most wanted first. "
            "Above the dotted line more students want it than it can take (over-selected); below, fewer "
            "(under-selected, in pink: where compacts may go). Hover a bar for the school and its numbers.",
        )
    )
    section.add(built)
    return section


def _school_counts(district: District, run: RunFolder) -> dict[str, np.ndarray]:
    n = district.instance.n_schools
    placed = run.placed
    out = {
        "placed": np.bincount(run.school[placed], minlength=n),
        "compact": np.bincount(run.school[placed & run.through_compact], minlength=n),
    }
    for category in district.categories:
        members = placed & district.members(category)
        out[category.label] = np.bincount(run.school[members], minlength=n)
    return out


# ---- 4. diversity ----------------------------------------------------------------------------------


def diversity(district: District, suppression: Suppression) -> Section:
    section = Section(
        "diversity",
        "Diversity bands",
        "For each band a rule sets, each school's (or cluster's, or sector's) share of the group, against the band. "
        "A unit outside its band is marked, with how many students it is short: the students of the group it would "
        "need to gain (or lose) to be inside.",
    )
    for number, (rule, instance) in enumerate(district.rules):
        lo, hi = band(instance, rule)
        info = units(instance, rule.scope)
        with_schools = np.zeros(len(info.names), dtype=bool)
        with_schools[info.of_school[info.of_school >= 0]] = True
        title = f"Rule {number + 1}: {rule.attribute} = {rule.category} by {rule.scope}, band {lo}–{hi}% ({rule.mode})"
        table = TableBuilder(f"diversity_{number + 1}", title)
        table.columns.append(Column(rule.scope, "text"))
        for run in district.runs:
            g = run.label
            table.columns += [
                Column("placed", "count", group=g),
                Column("in group", "count", group=g),
                Column("share %", "pct", ("placed", "in group"), group=g),
                Column("short by (students)", "number", ("placed", "in group"), decimals=2, group=g),
                Column("outside", "text", group=g),
            ]
        per_run = {}
        for run in district.runs:
            n, k = unit_counts(instance, rule, run.school)
            per_run[run.label] = (n, k, rule_shortfalls(instance, rule, run.school))
        for u in np.flatnonzero(with_schools):
            row: dict[str, Any] = {rule.scope: info.names[u]}
            for run in district.runs:
                n, k, short = per_run[run.label]
                row.update(
                    {
                        f"{run.label} · placed": int(n[u]),
                        f"{run.label} · in group": int(k[u]),
                        f"{run.label} · share %": pct(k[u], n[u]),
                        f"{run.label} · short by (students)": short[u] / 100,
                        f"{run.label} · outside": "yes" if short[u] > 0 else "no",
                    }
                )
            table.row(row)
        built = table.build()
        section.add(
            Chart(
                f"diversity-{number + 1}-chart",
                title,
                charts.band_dots(suppression.frame(built), rule.scope, [run.label for run in district.runs], (lo, hi)),
                _band_caption(len(built.rows)),
            )
        )
        section.add(built)
    if not section.tables:
        section.notes.append("No diversity rule is set in this run's config.")
    return section


def _band_caption(units: int) -> str:
    if units > charts.MOST_DOTS:
        return (
            f"With {units:,} units, each bar counts the units whose share falls in it (2-point steps); the "
            f"shaded strip is the band. The table lists every unit."
        )
    return "Each dot is a unit's share of the group; the shaded strip is the band. Red-ringed dots are outside it."


# ---- 5. clusters and sectors ---------------------------------------------------------------------------


def accountability(district: District, suppression: Suppression) -> Section:
    section = Section(
        "accountability",
        "Clusters and sectors — accountability",
        "Each cluster (a high school and its feeders) is held to account for its mix of students: its seats, "
        "the students who live in it, the share of them placed inside it, and each group's share among its "
        "students against the district's. Then the sectors (e.g. district and charter schools), district-wide "
        "and among the students of each cluster: if one sector takes a smaller share of a group than the other, "
        "the difference in points is its \u201ccreaming gap\u201d, and the students it amounts to are those the "
        "sector would have to take to close it.",
    )
    section.add(_clusters_table(district))
    sectors = _sectors_table(district)
    if sectors is not None:
        public = suppression.frame(sectors)
        for category in district.categories:
            section.add(
                Chart(
                    f"sectors-{category.attribute}-{category.category}-chart",
                    f"Share of {category.label} by sector",
                    charts.sector_bars(public, category.label, [run.label for run in district.runs]),
                    "Bars side by side are the sectors, for the whole district and for the students of each cluster. "
                    "A sector far below the other takes fewer of this group than its share.",
                )
            )
        section.add(sectors)
    else:
        section.notes.append("The schools have no sector column: there is no sector to compare.")
    if not district.instance.clusters:
        section.notes.append("The schools have no cluster column: there is no cluster to hold to account.")
    return section


def _clusters_table(district: District) -> Table:
    instance = district.instance
    table = TableBuilder("clusters", "Clusters")
    table.columns += [
        Column("cluster", "text"),
        Column("schools", "number", decimals=0),
        Column("seats", "number", decimals=0),
        Column("home students", "count"),
    ]
    for run in district.runs:
        g = run.label
        table.columns += [
            Column("students at its schools", "count", group=g),
            Column("home students placed inside", "count", group=g),
            Column("inside %", "pct", ("home students", "home students placed inside"), group=g),
        ]
        for category in district.categories:
            table.columns += [
                Column(category.label, "count", group=g),
                Column(f"{category.label} %", "pct", ("students at its schools", category.label), group=g),
                Column(
                    f"{category.label} vs district (points)",
                    "points",
                    ("students at its schools", category.label),
                    group=g,
                ),
            ]
    seats = instance.total_capacity
    for c, cluster in natural(instance.clusters):
        at = instance.school_cluster == c
        home = instance.home_cluster == c
        row: dict[str, Any] = {
            "cluster": cluster,
            "schools": int(at.sum()),
            "seats": int(seats[at].sum()),
            "home students": int(home.sum()),
        }
        for run in district.runs:
            g = run.label
            in_cluster = run.placed & (instance.school_cluster[np.maximum(run.school, 0)] == c)
            placed = int(in_cluster.sum())
            inside = int((home & in_cluster).sum())
            row.update({f"{g} · students at its schools": placed, f"{g} · home students placed inside": inside})
            row[f"{g} · inside %"] = pct(inside, int(home.sum()))
            for category in district.categories:
                members = district.members(category)
                k = int((in_cluster & members).sum())
                share = pct(k, placed)
                overall = pct(int((run.placed & members).sum()), int(run.placed.sum()))
                row[f"{g} · {category.label}"] = k
                row[f"{g} · {category.label} %"] = share
                row[f"{g} · {category.label} vs district (points)"] = (
                    None if share is None or overall is None else share - overall
                )
        table.row(row)
    table.note = "A cluster's students are those placed at its schools; its home students are those who live in it."
    return table.build()


def _sectors_table(district: District) -> Table | None:
    instance = district.instance
    if not instance.sectors:
        return None
    placed_seats = np.bincount(
        instance.school_sector[instance.school_sector >= 0],
        weights=instance.total_capacity[instance.school_sector >= 0],
        minlength=len(instance.sectors),
    )
    reference = int(np.argmax(placed_seats))
    table = TableBuilder("sectors", f"Sectors, against the {instance.sectors[reference]} sector")
    table.columns += [Column("students of", "text"), Column("sector", "text")]
    for run in district.runs:
        g = run.label
        table.columns.append(Column("placed", "count", group=g))
        for category in district.categories:
            table.columns += [
                Column(category.label, "count", group=g),
                Column(f"{category.label} %", "pct", ("placed", category.label), group=g),
                Column(f"{category.label} gap (points)", "points", ("placed", category.label), group=g),
                Column(
                    f"{category.label}: students to close the gap",
                    "number",
                    ("placed", category.label),
                    decimals=0,
                    group=g,
                ),
            ]
    areas = [("the whole district", np.ones(instance.n_students, dtype=bool))]
    areas += [(f"cluster {cluster}", instance.home_cluster == c) for c, cluster in natural(instance.clusters)]
    for area, lives in areas:
        for s, sector in enumerate(instance.sectors):
            row: dict[str, Any] = {"students of": area, "sector": sector}
            for run in district.runs:
                g = run.label
                school_sector = instance.school_sector[np.maximum(run.school, 0)]
                here = lives & run.placed & (school_sector == s)
                there = lives & run.placed & (school_sector == reference)
                row[f"{g} · placed"] = int(here.sum())
                for category in district.categories:
                    members = district.members(category)
                    k = int((here & members).sum())
                    share = pct(k, int(here.sum()))
                    reference_share = pct(int((there & members).sum()), int(there.sum()))
                    gap = (
                        None if share is None or reference_share is None or s == reference else share - reference_share
                    )
                    row[f"{g} · {category.label}"] = k
                    row[f"{g} · {category.label} %"] = share
                    row[f"{g} · {category.label} gap (points)"] = gap
                    row[f"{g} · {category.label}: students to close the gap"] = (
                        None if gap is None else round(-gap * int(here.sum()) / 100)
                    )
            table.row(row)
    table.note = (
        f"Students are counted by where they live (\u201cstudents of cluster C2\u201d are those whose home cluster is "
        f"C2, wherever their school is), so a citywide charter school is held to account in every cluster it draws "
        f"from. A sector's gap is its share of the group minus the {instance.sectors[reference]} sector's (the one "
        f"with the most seats), in points: below zero, the sector takes fewer of the group. The students to close "
        f"it are those of the group the sector would have to add at its size to match (negative: it takes more "
        f"than its share)."
    )
    return table.build()


# ---- 6. compacts ---------------------------------------------------------------------------------------


def compacts(district: District, suppression: Suppression) -> Section:
    section = Section(
        "compacts",
        "Parent compacts — transparency",
        "Every parent compact: the families who applied together to one school, whether the plan honored it "
        "(all placed there, or none), how much of the school it takes against the cap, and how many of the "
        "school's seats are left for families outside compacts.",
    )
    instance = district.instance
    if not instance.n_compacts:
        section.notes.append("There is no parent compact in this run's data.")
        return section
    config = district.runs[0].config
    cap = share_limit(instance, config)
    sizes = compact_sizes(instance)
    seats = instance.total_capacity
    table = TableBuilder("compacts", "Parent compacts")
    table.columns += [
        Column("compact", "text"),
        Column("school", "text"),
        Column("school name", "text"),
        Column("families", "number", decimals=0),
        Column("students", "count"),
        Column("school's seats", "number", decimals=0),
        Column("compact cap (seats)", "number", decimals=0),
        Column("% of the school's seats", "pct", ("students",)),
        Column("% of the compact cap", "pct", ("students",)),
    ]
    for run in district.runs:
        g = run.label
        table.columns += [
            Column("honored", "text", group=g),
            Column("students at the school through its compacts", "count", group=g),
            Column(
                "seats left for other families",
                "number",
                ("students at the school through its compacts",),
                decimals=0,
                group=g,
            ),
        ]
    for c in range(instance.n_compacts):
        j = int(instance.compact_school[c])
        row: dict[str, Any] = {
            "compact": str(instance.compact_ids[c]),
            "school": str(instance.school_ids[j]),
            "school name": str(instance.school_names[j]),
            "families": int(instance.compact_family_count[c]),
            "students": int(sizes[c]),
            "school's seats": int(seats[j]),
            "compact cap (seats)": int(cap[j]),
            "% of the school's seats": pct(sizes[c], seats[j]),
            "% of the compact cap": pct(sizes[c], cap[j]),
        }
        for run in district.runs:
            members = instance.compact_of_student == c
            honored = bool(members.any() and run.through_compact[members].all())
            through = int((run.through_compact & (run.school == j)).sum())
            row[f"{run.label} · honored"] = "yes" if honored else "no"
            row[f"{run.label} · students at the school through its compacts"] = through
            row[f"{run.label} · seats left for other families"] = int(seats[j]) - through
        table.row(row)
    built = table.build()
    cap_text = f"{float(config.compacts.max_share):g}%"
    public = suppression.frame(built)
    schools_with = len(np.unique(instance.compact_school))
    shown = (
        f" Shown: the {charts.MOST_BARS} schools (of {schools_with:,}) where compacts take the largest share."
        if schools_with > charts.MOST_BARS
        else ""
    )
    for number, run in enumerate(district.runs):
        section.add(
            Chart(
                f"compacts-chart-{number + 1}",
                f"Seats taken by compacts at their schools — {run.label}"
                if district.several
                else "Seats taken by compacts at their schools",
                charts.compact_seats(public, run.label),
                f"Each bar is a school that compacts applied to: the part taken by honored compacts, the rest left "
                f"for other families; the black tick is the cap, {cap_text} of the school's seats.{shown}"
                + (
                    f" {MECHANISMS[run.config.mechanism].split(' (')[0].capitalize()} does not apply compacts: "
                    f"none is honored."
                    if run.config.is_mechanism
                    else ""
                ),
            )
        )
    section.add(built)
    return section


# ---- 7. map --------------------------------------------------------------------------------------------


def map_section(district: District, suppression: Suppression) -> Section:
    section = Section(
        "map",
        "Map",
        "Schools where they are, sized by seats and coloured by how full the plan makes them (or by a group's "
        "share: use the buttons); the shading shows where students live, counted in squares of the city — never "
        "a single home.",
    )
    instance = district.instance
    has_schools = np.isfinite(instance.school_lat).all() and np.isfinite(instance.school_lon).all()
    homes = np.isfinite(instance.student_lat) & np.isfinite(instance.student_lon)
    if not has_schools or not homes.any():
        section.notes.append("The data have no coordinates (lat, lon) for schools and students: there is no map.")
        return section
    run = district.runs[0]
    figure = charts.district_map(district, run, suppression.below)
    section.add(
        Chart(
            "map-chart",
            f"Schools and where students live ({run.label})",
            figure,
            f"Squares with fewer than {max(suppression.below, charts.MAP_FLOOR)} students are left blank, so no "
            f"square points at a home. Hover a school for its numbers.",
        )
    )
    return section


# ---- 8. comparison -----------------------------------------------------------------------------------

CHANGES = (
    "now placed (had no school)",
    "better by 3 or more",
    "better by 2",
    "better by 1",
    "same",
    "worse by 1",
    "worse by 2",
    "worse by 3 or more",
    "now without a school",
)


def comparison(district: District, suppression: Suppression) -> Section:
    first = district.runs[0]
    section = Section(
        "comparison",
        f"Compared with {first.label}",
        f"Every student's place in each run against {first.label}, by their own list: better off means an earlier "
        f"choice (a compact school they did not list counts as their family's first choice). Then the rules' "
        f"figures side by side.",
    )
    table = TableBuilder("comparison", f"Students better and worse off than in {first.label}")
    table.columns.append(Column("change", "text"))
    others = district.runs[1:]
    for run in others:
        table.columns += [
            Column("students", "count", group=run.label),
            Column("share", "pct", ("students",), group=run.label),
        ]
    reference = district.outcome(first)
    counts = {run.label: _changes(reference, district.outcome(run)) for run in others}
    for index, label in enumerate(CHANGES):
        row: dict[str, Any] = {"change": label}
        for run in others:
            count = int(counts[run.label][index])
            row[f"{run.label} · students"] = count
            row[f"{run.label} · share"] = pct(count, district.instance.n_students)
        table.row(row)
    built = table.build()
    section.add(
        Chart(
            "comparison-chart",
            f"Change of choice against {first.label}",
            charts.grouped_bars(
                suppression.frame(built),
                "change",
                [(run.label, f"{run.label} · share") for run in others],
                "% of all students",
                [run.label for run in district.runs],
            ),
            "Bars left of \u201csame\u201d are students better off, right of it worse off.",
        )
    )
    section.add(built)
    section.add(_figures_side_by_side(district))
    return section


def _changes(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Students in each CHANGES bin (positive steps: an earlier choice in `other`)."""
    was_unplaced, now_unplaced = reference == UNPLACED, other == UNPLACED
    both = ~was_unplaced & ~now_unplaced
    steps = np.where(both, reference - other, 0)
    return np.array(
        [
            (was_unplaced & ~now_unplaced).sum(),
            (both & (steps >= 3)).sum(),
            (both & (steps == 2)).sum(),
            (both & (steps == 1)).sum(),
            ((both & (steps == 0)) | (was_unplaced & now_unplaced)).sum(),
            (both & (steps == -1)).sum(),
            (both & (steps == -2)).sum(),
            (both & (steps <= -3)).sum(),
            (~was_unplaced & now_unplaced).sum(),
        ],
        dtype=np.int64,
    )


def _figures_side_by_side(district: District) -> Table:
    table = TableBuilder("figures", "The rules' figures, side by side")
    table.columns.append(Column("figure", "text"))
    table.columns += [Column("value", "number", decimals=2, group=run.label) for run in district.runs]
    rows: list[tuple[str, list[Any]]] = [
        ("objective", [run.metrics.get("objective") for run in district.runs]),
        ("compacts honored", [float((run.metrics.get("compacts") or {}).get("honored", 0)) for run in district.runs]),
        ("blocking pairs (justified envy)", [_number(run.metrics.get("blocking_pairs")) for run in district.runs]),
        ("split families", [_number(run.metrics.get("split_families")) for run in district.runs]),
    ]
    for number, (rule, instance) in enumerate(district.rules):
        shortfalls = [float(rule_shortfalls(instance, rule, run.school).sum()) / 100 for run in district.runs]
        rows.append(
            (f"students short of band {number + 1} ({rule.attribute} = {rule.category} by {rule.scope})", shortfalls)
        )
    for label, values in rows:
        row: dict[str, Any] = {"figure": label}
        row.update({f"{run.label} · value": value for run, value in zip(district.runs, values, strict=True)})
        table.row(row)
    return table.build()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# ---- 1. headline and 9. methods -----------------------------------------------------------------------


@dataclass
class Summary:
    """A run's headline, in plain words."""

    label: str
    name: str
    mechanism: str
    status: str
    proof: str
    objective: str
    bound: str
    students: str
    placed: str
    unplaced: str
    first_choice: str
    top_three: str
    compacts: str
    envy: str
    compared: str  # against the first run, for the others
    rules: list[str]
    measured: list[str]  # rules a mechanism does not apply, only measured on its result
    version: str
    data: list[tuple[str, str, str]]  # (key, file, sha256)
    command: str
    changed: list[str]


def summary(district: District, run: RunFolder, suppression: Suppression) -> Summary:
    metrics = run.metrics
    n = run.instance.n_students
    placed = int(run.placed.sum())
    count = Column("n", "count")
    compacts_figure = metrics.get("compacts") or {}
    return Summary(
        label=run.label,
        name=str(metrics.get("name", run.label)),
        mechanism=MECHANISMS.get(str(metrics.get("mechanism")), str(metrics.get("mechanism"))),
        status=str(metrics.get("status")),
        proof=proof_words(metrics),
        objective=_money(metrics.get("objective")),
        bound=_money(metrics.get("bound")),
        students=f"{n:,}",
        placed=suppression.cell(count, {"n": placed}, [count]).text,
        unplaced=suppression.cell(count, {"n": n - placed}, [count]).text,
        first_choice=f"{100 * (run.position == 1).sum() / max(n, 1):.1f}%",
        top_three=f"{100 * ((run.position >= 1) & (run.position <= 3)).sum() / max(n, 1):.1f}%",
        compacts=f"{compacts_figure.get('honored', 0)} of {compacts_figure.get('total', 0)} honored",
        envy=_envy_words(metrics),
        compared=_compared_words(district, run, suppression),
        rules=_rules_in_force(run),
        measured=_rules_measured(run),
        version=str(metrics.get("seatplan_version")),
        data=[
            (key, str(path), run.config.data_sha256.get(key, "not recorded"))
            for key, path in run.config.data.named().items()
        ],
        command=str(metrics.get("command") or "not recorded (a run written before seatplan recorded its command)"),
        changed=list(run.changed),
    )


def _envy_words(metrics: dict[str, Any]) -> str:
    pairs = metrics.get("blocking_pairs")
    if not isinstance(pairs, int):
        return "not recorded"
    if pairs == 0:
        return "none: no family prefers a school that, by its own priorities, should have taken their child"
    return (
        f"{pairs:,} cases where a family prefers a school that, by its own priorities, should have taken their "
        f"child before a student it holds (or has a free seat)"
    )


def _compared_words(district: District, run: RunFolder, suppression: Suppression) -> str:
    """Against the first run: how many students are better off, worse off, the same."""
    first = district.runs[0]
    if run is first:
        return ""
    counts = _changes(district.outcome(first), district.outcome(run))
    better, same, worse = int(counts[:4].sum()), int(counts[4]), int(counts[5:].sum())
    count = Column("n", "count")

    def shown(value: int) -> str:
        return suppression.cell(count, {"n": value}, [count]).text

    return f"{shown(better)} students better off, {shown(worse)} worse off, {shown(same)} the same"


MECHANISMS = {
    "optimize": "optimised by seatplan",
    "deferred_acceptance": "deferred acceptance (the district's usual lottery)",
    "school_proposing": "schools proposing (the school-optimal stable matching)",
    "immediate_acceptance": "immediate acceptance (the Boston mechanism)",
    "top_trading_cycles": "top trading cycles",
}

#: How each mechanism places students, in a board member's words.
HOW = {
    "deferred_acceptance": (
        "Deferred acceptance: students propose to schools in the order of their lists; each school keeps the students "
        "it ranks highest (by priority, then lottery) up to its seats."
    ),
    "school_proposing": (
        "Schools proposing: each school offers its seats to the students it ranks highest (by priority, then lottery) "
        "who listed it; each student keeps the best offer by its own list, until no school has anyone left to ask."
    ),
    "immediate_acceptance": (
        "Immediate acceptance (the Boston mechanism): in round k every student still unplaced applies to the k-th "
        "school on its list, which accepts its applicants in its own order (priority, then lottery) while seats "
        "remain; acceptances are final."
    ),
    "top_trading_cycles": (
        "Top trading cycles: every student points to the best school on its list with a seat left, every school to "
        "the applicant it ranks highest (priority, then lottery); students in a cycle get the seat they point to, and "
        "it repeats with the seats left."
    ),
}


def proof_words(metrics: dict[str, Any]) -> str:
    """What the status proves, for a board member."""
    status = metrics.get("status")
    if status == "optimal":
        return "optimal: no assignment costs less (proven)"
    if status == "feasible":
        gap = metrics.get("gap")
        bound = metrics.get("bound")
        if isinstance(gap, int | float) and bound is not None:
            return f"feasible: at most {gap:.2%} from the best possible (proven lower bound {bound:,.2f})"
        return "feasible: the best found in the time given; how far from the best is not known"
    if status == "stable":
        who = "schools proposing" if metrics.get("mechanism") == "school_proposing" else "deferred acceptance"
        return (
            f"stable: {who}'s assignment — no family has justified envy; compacts, bands, clusters "
            "and families are not applied"
        )
    if status == "assigned":
        who = MECHANISMS.get(str(metrics.get("mechanism")), "a mechanism")
        return (
            f"assigned: {who}'s assignment — not stable (a family may have justified envy); compacts, "
            "bands, clusters and families are not applied"
        )
    return str(status)


#: The rules a mechanism applies itself (the others are measured on its result).
APPLIED_BY_MECHANISMS = ("capacity", "reserves")


def _eligibility(run: RunFolder) -> list[str]:
    count = len(run.instance.ineligible_student)
    if not count:
        return []
    return [
        f"Eligibility: no student is placed at a school where it is not eligible ({count:,} such pairs in "
        "priorities.csv); such a school is skipped on the family's list."
    ]


def _rules_in_force(run: RunFolder) -> list[str]:
    if not run.config.is_mechanism:
        return [*RULES.describe(run.config, run.instance), *_eligibility(run)]
    how = HOW[run.config.mechanism]
    applied = [line for name in APPLIED_BY_MECHANISMS for line in RULES.named(name).describe(run.config, run.instance)]
    return [how, *applied, *_eligibility(run)]


def _rules_measured(run: RunFolder) -> list[str]:
    """Under a mechanism (deferred acceptance, schools proposing), the config's other rules: measured on
    its result, not applied."""
    if not run.config.is_mechanism:
        return []
    return [
        line
        for rule in RULES
        if rule.name not in ("placement", *APPLIED_BY_MECHANISMS)
        for line in rule.describe(run.config, run.instance)
    ]


def _money(value: Any) -> str:
    return f"{value:,.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else "—"


def headline_table(summaries: list[Summary]) -> Table:
    """The headline as a table (for the workbook): one column per run."""
    table = TableBuilder("headline", "Headline", note="")
    table.columns.append(Column("measure", "text"))
    table.columns += [Column(summary.label, "text") for summary in summaries]
    fields_shown = [
        ("name", "name"),
        ("mechanism", "mechanism"),
        ("status", "proof"),
        ("objective", "objective"),
        ("bound", "bound"),
        ("students", "students"),
        ("placed", "placed"),
        ("without a school", "unplaced"),
        ("at their 1st choice", "first_choice"),
        ("in their top three", "top_three"),
        ("parent compacts", "compacts"),
        ("seatplan version", "version"),
    ]
    for label, attribute in fields_shown:
        row = {"measure": label}
        row.update({summary.label: getattr(summary, attribute) for summary in summaries})
        table.row(row)
    return table.build()


# ---- 8. classrooms and rosters (runs that have been sectioned) ------------------------------------


def sectioned_runs(district: District) -> list[tuple[RunFolder, Sectioned]]:
    """The runs with a classroom stage (classrooms.csv), read back and checked."""
    return [(run, read_sectioned(run)) for run in district.runs if (run.path / "classrooms.csv").exists()]


def classrooms(district: District, sectioned: list[tuple[RunFolder, Sectioned]]) -> Section:
    section = Section(
        "classrooms",
        "Classrooms — compacts inside each school",
        "The classroom stage places every student a run places at a school in one of its classrooms: the students "
        "of a parent compact share one classroom and take at most their share of its seats; no child of a family "
        "that said no to compact classrooms is in one; among classrooms alike, the categories are spread evenly "
        "and classes kept even in size.",
    )
    for run, done in sectioned:
        document = done.document
        figures = document.get("summary", {})
        where = "school and grade" if district.instance.has_grades else "school"
        prefix = f"{run.label}: " if district.several else ""
        section.notes.append(
            f"{prefix}{figures.get('classrooms', 0):,} classrooms for {figures.get('students', 0):,} students in "
            f"{figures.get('cohorts', 0):,} {where.replace('school', 'schools').replace('grade', 'grades')}; "
            f"{figures.get('compact_classrooms', 0):,} hold a compact. "
            f"{figures.get('families_yes_met', 0):,} of the {figures.get('families_yes_where_compact', 0):,} "
            f"families that asked for a compact classroom at a {where} with one are in it; "
            f"{figures.get('children_no_in_compact_classroom', 0):,} of the {figures.get('children_no', 0):,} children "
            f"of families that said no are in a compact classroom (a hard rule: always none). Status: "
            f"{document.get('status', 'unknown')}"
            + (" — proven: no sectioning costs less." if document.get("status") == "optimal" else ".")
        )
        section.add(_compact_classrooms_table(district, run, done))
        section.add(_cohorts_table(district, run, done))
    return section


def _compact_classrooms_table(district: District, run: RunFolder, done: Sectioned) -> Table:
    suffix = f"-{run.label}" if district.several else ""
    table = TableBuilder(
        f"compact-classrooms{suffix}",
        f"Classrooms that hold a parent compact{f' — {run.label}' if district.several else ''}",
    )
    table.columns += [
        Column("school", "text"),
        *([Column("grade", "text")] if district.instance.has_grades else []),
        Column("classroom", "text"),
        Column("seats", "number", decimals=0),
        Column("compact", "text"),
        Column("families", "number", decimals=0),
        Column("students", "number", decimals=0),
        Column("% of the seats", "pct"),
        Column("seats for others", "number", decimals=0),
        Column("students in it", "number", decimals=0),
    ]
    for room in done.document.get("classrooms", []):
        for compact in room.get("compacts", []):
            table.row(
                {
                    "school": room["school_id"],
                    **({"grade": room["grade"]} if district.instance.has_grades else {}),
                    "classroom": room["classroom_id"],
                    "seats": room["seats"],
                    "compact": compact["compact_id"],
                    "families": compact["families"],
                    "students": compact["students"],
                    "% of the seats": pct(compact["students"], room["seats"]),
                    "seats for others": room["seats"] - sum(c["students"] for c in room.get("compacts", [])),
                    "students in it": room["placed"],
                }
            )
    table.note = "A compact's size is shown as it is: it is the families' own public choice, not a group of students."
    return table.build()


def _cohorts_table(district: District, run: RunFolder, done: Sectioned) -> Table:
    suffix = f"-{run.label}" if district.several else ""
    table = TableBuilder(
        f"classroom-cohorts{suffix}",
        f"Each school and grade in classrooms{f' — {run.label}' if district.several else ''}",
    )
    table.columns += [
        Column("school", "text"),
        *([Column("grade", "text")] if district.instance.has_grades else []),
        Column("classrooms", "number", decimals=0),
        Column("with a compact", "number", decimals=0),
        Column("students", "number", decimals=0),
        Column("smallest class", "number", decimals=0),
        Column("largest class", "number", decimals=0),
        Column("distance from fair shares (students)", "number", decimals=2),
        Column("objective", "number", decimals=2),
        Column("status", "text"),
    ]
    rooms: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for room in done.document.get("classrooms", []):
        rooms.setdefault((str(room["school_id"]), str(room["grade"])), []).append(room)
    for cohort in done.document.get("cohorts", []):
        here = rooms.get((str(cohort["school_id"]), str(cohort["grade"])), [])
        sizes = [room["placed"] for room in here] or [0]
        table.row(
            {
                "school": cohort["school_id"],
                **({"grade": cohort["grade"]} if district.instance.has_grades else {}),
                "classrooms": cohort["classrooms"],
                "with a compact": sum(bool(room["compacts"]) for room in here),
                "students": cohort["students"],
                "smallest class": min(sizes),
                "largest class": max(sizes),
                "distance from fair shares (students)": cohort["terms"].get("balance", 0),
                "objective": cohort["objective"],
                "status": cohort["status"],
            }
        )
    table.note = (
        "Distance from fair shares: for each balance rule and classroom, how far its number of students of the "
        "category is from the school and grade's number spread over the seats, summed (sections.json has each "
        "classroom's counts)."
    )
    return table.build()


def rosters_section(district: District, sectioned: list[tuple[RunFolder, Sectioned]]) -> Section | None:
    """The rosters page, for the runs with a rosters.csv (written by `seatplan rosters`)."""
    with_rosters = [(run, done) for run, done in sectioned if (run.path / "rosters.csv").exists()]
    if not with_rosters:
        return None
    section = Section(
        "rosters",
        "Rosters — what every family is shown",
        "Before a family decides whether it wants its child in a classroom with a parent compact, it is shown, for "
        "its school and grade: each classroom that holds a compact, the compact in it (how many families and "
        "students, and the names of the families that agreed to be named — the others only as a number), the seats "
        "it leaves for other children, and the school's classrooms with no compact in them.",
    )
    for run, _ in with_rosters:
        frame = unguarded(pd.read_csv(run.path / "rosters.csv", dtype=str, keep_default_na=False))
        grades = bool((frame["grade"] != "").any())
        suffix = f"-{run.label}" if district.several else ""
        table = TableBuilder(f"rosters{suffix}", f"Rosters{f' — {run.label}' if district.several else ''}")
        table.columns += [
            Column("school", "text"),
            *([Column("grade", "text")] if grades else []),
            Column("classroom", "text"),
            Column("compact", "text"),
            Column("families", "number", decimals=0),
            Column("students", "number", decimals=0),
            Column("families who agreed to be named", "text"),
            Column("families not named", "number", decimals=0),
            Column("seats left for other children", "number", decimals=0),
            Column("other classrooms (size)", "text"),
        ]
        plain_rooms: dict[tuple[str, str], list[str]] = {}
        for row in frame[frame["compact_id"] == ""].to_dict("records"):
            plain_rooms.setdefault((row["school_id"], row["grade"]), []).append(
                f"{row['classroom_id']} ({row['seats']})"
            )
        with_compact = frame[frame["compact_id"] != ""]
        for row in with_compact.to_dict("records"):
            alternatives = plain_rooms.get((row["school_id"], row["grade"]), [])
            table.row(
                {
                    "school": row["school_id"],
                    **({"grade": row["grade"]} if grades else {}),
                    "classroom": row["classroom_id"],
                    "compact": row["compact_id"],
                    "families": int(row["compact_families"]),
                    "students": int(row["compact_students"]),
                    "families who agreed to be named": row["named_families"] or "—",
                    "families not named": int(row["unnamed_families"]),
                    "seats left for other children": int(row["seats_for_others"]),
                    "other classrooms (size)": ", ".join(alternatives) or "none",
                }
            )
        cohorts = frame[["school_id", "grade"]].drop_duplicates()
        touched = with_compact[["school_id", "grade"]].drop_duplicates()
        where = "schools and grades" if grades else "schools"
        table.note = (
            f"One row per classroom that holds a compact: the compact's families and students, the families named "
            f"(only those that consented), the seats left for other families, and the school's classrooms without a "
            f"compact, with their size. A family in a compact may have several children in it. In the other "
            f"{len(cohorts) - len(touched):,} of the {len(cohorts):,} {where}, no classroom holds a compact. "
            f"A family that is not named is counted, never named; rosters.csv lists every classroom."
        )
        section.add(table.build())
    return section
