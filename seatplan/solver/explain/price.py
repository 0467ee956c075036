"""The price of every rule: the plan re-solved with each rule in force switched off (a hard rule) or
at weight 0 (a soft one), side by side with the plan.

Each re-solve starts from the plan's own assignment, which keeps every rule of the relaxed config
(relaxing only removes rows or costs), so each re-solve is at least as good as the plan by its own
objective. They run in parallel, one process each, up to the machine's cores. A re-solve that was
not proven optimal says so, and so does every difference taken against it.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing import get_context
from typing import Any

import pandas as pd

from seatplan.models.assignment import Assignment
from seatplan.models.config import Config
from seatplan.models.errors import InputError, Problem
from seatplan.models.instance import Instance
from seatplan.models.rules.diversity import is_active
from seatplan.solver.compare import metrics_of, value_of
from seatplan.solver.run import available_cores
from seatplan.solver.runfolder import RunFolder
from seatplan.solver.solve import solve

#: (column, metrics key as compare.py reads it)
FIGURES = (
    ("objective", "objective"),
    ("first choice %", "first_choice_pct"),
    ("top three %", "top3_pct"),
    ("unplaced", "unassigned"),
    ("compacts honored", "compacts_honored"),
    ("worst shortfall", "worst_shortfall"),
    ("blocking pairs", "blocking_pairs"),
)
#: The figures whose difference from the plan is shown (besides "Δ other terms").
DIFFERENCES = ("first choice %", "top three %", "unplaced", "blocking pairs")


@dataclass(frozen=True)
class Relaxed:
    """One rule switched off: its name as in the config, what changed, the config, and how to read
    the rule's own part of an objective from metrics.json (its term, or one band's share of it)."""

    rule: str
    change: str
    config: Config
    term: str = ""
    band: int = -1


def own_part(relaxed: Relaxed, metrics: dict[str, Any]) -> float:
    """The rule's own part of a run's objective (objective units): 0 for a hard rule."""
    if relaxed.band >= 0:
        rules = metrics.get("diversity") or []
        if relaxed.band < len(rules) and rules[relaxed.band].get("mode") == "soft":
            figure = rules[relaxed.band]
            return float(figure.get("weight", 0)) * float(figure.get("shortfall", 0)) / 100
        return 0.0
    if relaxed.term:
        return float((metrics.get("terms") or {}).get(relaxed.term) or 0.0)
    return 0.0


@dataclass(frozen=True)
class PriceTable:
    frame: pd.DataFrame


def relaxations(config: Config, instance: Instance) -> list[Relaxed]:
    """Every rule in force, each switched off (hard) or to weight 0 (soft)."""
    out = []
    for number, rule in enumerate(config.diversity):
        if not is_active(rule):
            continue
        if rule.mode == "hard":
            changed = replace(rule, mode="off")
            change = "hard band → off"
        else:
            changed = replace(rule, weight=0)
            change = f"weight {rule.weight} → 0"
        rules = tuple(changed if i == number else r for i, r in enumerate(config.diversity))
        out.append(Relaxed(f"diversity[{number}] {rule.label}", change, replace(config, diversity=rules), band=number))
    clusters = config.clusters
    if clusters.mode == "hard":
        out.append(Relaxed("clusters", "hard → off", replace(config, clusters=replace(clusters, mode="off"))))
    elif clusters.mode == "soft" and config.objective.outside_cluster > 0:
        weights = replace(config.objective, outside_cluster=0)
        out.append(
            Relaxed(
                "clusters",
                f"outside_cluster {config.objective.outside_cluster} → 0",
                replace(config, objective=weights),
                term="outside_cluster",
            )
        )
    if instance.n_compacts and config.objective.broken_compact > 0:
        weights = replace(config.objective, broken_compact=0)
        out.append(
            Relaxed(
                "compacts",
                f"broken_compact {config.objective.broken_compact} → 0",
                replace(config, objective=weights),
                term="broken_compact",
            )
        )
    for section, key, label in (("stability", "mode", "stability"), ("families", "together", "families")):
        settings = getattr(config, section)
        mode = getattr(settings, key)
        if mode != "off":
            switched = replace(settings, **{key: "off"})
            sections = {**config.sections, section: switched}
            term = "blocking_pairs" if section == "stability" else "split_families"
            out.append(Relaxed(label, f"{mode} → off", replace(config, sections=sections), term=term))
    return out


def price_rules(run: RunFolder, jobs: int | None = None, time_limit: float | None = None) -> PriceTable:
    """The plan and each relaxed re-solve, side by side, with differences from the plan."""
    if run.config.is_mechanism:
        raise InputError(
            [
                Problem(
                    f"{run.where}/metrics.json",
                    None,
                    "expected an optimised run for the price of its rules, got one "
                    f"made by a mechanism ({run.config.mechanism}) "
                    "(it applies none of them)",
                )
            ]
        )
    relaxed = relaxations(run.config, run.instance)
    start = Assignment(run.school.copy(), run.through_compact.copy())
    limit = time_limit if time_limit is not None else run.config.solver.time_limit
    cores = available_cores()
    workers = max(1, min(jobs or cores, len(relaxed) or 1))
    each = max(1, run.config.solver.workers // workers)
    tasks = [
        (replace(r.config, solver=replace(r.config.solver, time_limit=limit, workers=each)), run.instance, start)
        for r in relaxed
    ]
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(_resolve, tasks))
    else:
        results = [_resolve(task) for task in tasks]
    plan = dict(run.metrics)
    rows = [_row(None, plan, plan)]
    rows += [_row(r, metrics, plan) for r, metrics in zip(relaxed, results, strict=True)]
    columns = list(rows[-1]) if len(rows) > 1 else list(rows[0])
    frame = pd.DataFrame({c: pd.Series([row.get(c) for row in rows], dtype=object) for c in columns})
    return PriceTable(frame)


def _resolve(task: tuple[Config, Instance, Assignment]) -> dict[str, Any]:
    config, instance, start = task
    return metrics_of(solve(config, instance=instance, start=start))


def _row(relaxed: Relaxed | None, metrics: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """One line of the table. `Δ other terms` is the price of the rule in the board's own units: how
    much the rest of the objective (list steps, unplaced students, the other rules, all at the plan's
    weights) changes when the rule is off — the rule's own term left out on both sides."""
    status = str(metrics.get("status"))
    row: dict[str, Any] = {
        "rule": "the plan" if relaxed is None else relaxed.rule,
        "change": "" if relaxed is None else relaxed.change,
        "status": status,
    }
    for column, key in FIGURES:
        row[column] = value_of(metrics, key)
    if relaxed is None:
        return row
    exact = status == "optimal" and plan.get("status") == "optimal"
    mine, theirs = metrics.get("objective"), plan.get("objective")
    if isinstance(mine, int | float) and isinstance(theirs, int | float):
        row["Δ other terms"] = round((mine - own_part(relaxed, metrics)) - (theirs - own_part(relaxed, plan)), 2)
    for column in DIFFERENCES:
        key = dict(FIGURES)[column]
        a, b = value_of(metrics, key), value_of(plan, key)
        row[f"Δ {column}"] = round(a - b, 2) if isinstance(a, int | float) and isinstance(b, int | float) else None
    row["note"] = "" if exact else "not proven optimal: the differences are estimates"
    return row
