"""Infeasibility in the planner's words: a small set of hard rule instances that cannot all hold.

Every row a rule marks as hard and relaxable (models/ir.HardUnits: stability at one school, a hard
band at one unit, one family kept together, the compact share of one school, a hard cluster) gets
one switch; the seats, "one school per student" and the compact rule itself stay as they are. CP-SAT
is asked for the program with every switch assumed on; when it proves that infeasible it names a
sufficient set of assumptions (`sufficient_assumptions_for_infeasibility`), and the set is then shrunk
by deletion: each instance is dropped in turn and the rest solved again — still infeasible, it stays
out; feasible, it is needed. When every such check ended with a proof, dropping any one instance of
the final set makes the rest feasible (a minimal set); a check that ran out of time is said so.

Cuts (rows valid for every whole-number solution and implied by the others) stay, for CP-SAT's
sake (they are what lets it prove infeasibility fast): a cut implied by a hard rule carries that
rule's units and is switched with it, and a cut without units holds whichever rules are relaxed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from seatplan.models.config import Config, display_path
from seatplan.models.errors import Problem
from seatplan.models.formulation import Model, build_model
from seatplan.models.instance import Instance
from seatplan.models.ir import Formulation, HardUnits, Role, rows_from_triplets
from seatplan.models.rules.clusters import outside_cluster
from seatplan.models.tables import read_table
from seatplan.models.yamlnodes import parse_dotted
from seatplan.solver.backends import cpsat
from seatplan.solver.run import write_text_whole
from seatplan.solver.solve import solve
from seatplan.solver.status import Status

#: Seconds for the whole search when the caller does not say.
DEFAULT_TIME_LIMIT = 60.0
#: At most this long for the search by unit before the search by settings and compacts.
FINE_TIME_LIMIT = 20.0


@dataclass(frozen=True)
class RuleInstance:
    """One instance of a hard rule: its config setting (with file and line) and its unit in words."""

    key: str
    file: str
    line: int | None
    unit: str
    setting: str

    @property
    def where(self) -> str:
        """`config.yaml:14 diversity[1]`: the setting as a planner finds it."""
        at = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{at} {self.key}"

    @property
    def text(self) -> str:
        at = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{at} {self.setting} — {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "file": self.file,
            "line": self.line,
            "setting": self.setting,
            "unit": self.unit,
            "text": self.text,
        }


@dataclass
class Conflict:
    """Hard rule instances that cannot all hold together (given the seats, and any placement the
    caller fixed). `minimal`: dropping any one of them was proven to leave a feasible program;
    `unproven` lists those whose check ran out of time."""

    rules: list[RuleInstance]
    minimal: bool
    unproven: list[RuleInstance] = field(default_factory=list)
    seconds: float = 0.0

    def sentences(self, name: str) -> list[str]:
        """The conflict as a planner reads it."""
        if not self.rules:
            return [f"{name}: infeasible — the seats alone cannot hold it (no hard rule of the config is involved)."]
        if len(self.rules) == 1:
            head = f"{name}: infeasible — this hard rule cannot hold" + (
                ", and dropping it makes the rest feasible:" if self.minimal else ":"
            )
        else:
            head = f"{name}: infeasible — these {len(self.rules)} hard rules cannot all hold together" + (
                ", and dropping any one of them makes the rest feasible:" if self.minimal else ":"
            )
        lines = [head, *(f"  - {rule.text}" for rule in self.rules)]
        if self.unproven:
            lines.append(
                "  (whether the rest is feasible without "
                + ", ".join(rule.where for rule in self.unproven)
                + " was not settled in the time given: the set may be larger than needed)"
            )
        relax = "one of them" if len(self.rules) > 1 else "it"
        lines.append(
            f"  (given the seats, and each parent compact placed whole or not at all.) Relax {relax} and solve again."
        )
        return lines

    def to_json(self, name: str) -> dict[str, Any]:
        return {
            "name": name,
            "status": "infeasible",
            "minimal": self.minimal,
            "rules": [rule.to_json() for rule in self.rules],
            "unproven": [rule.where for rule in self.unproven],
            "text": "\n".join(self.sentences(name)),
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class _Switches:
    """The program with one switch (a Boolean variable) per hard rule instance."""

    model: Any  # cp_model.CpModel
    literals: list[int]
    instances: list[RuleInstance]


def find_conflict(
    config: Config,
    instance: Instance,
    time_limit: float = DEFAULT_TIME_LIMIT,
    fixed: list[tuple[int, int]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Conflict | None:
    """A small set of hard rule instances that cannot all hold, or None when the program is
    feasible (or not settled in `time_limit`). `fixed`: placements (student, school) that must
    hold as well, as background (an explanation asks why one placement is impossible).

    First by unit (the switched program, a third of the time); when that does not settle, by whole
    settings and compacts (the coarse search, checked by the solver itself)."""
    started = time.perf_counter()
    # By unit first: it settles small and medium programs in seconds; a large one with stability
    # hard needs the solver's stable window, which only the coarse search can use.
    fine_limit = time_limit if fixed else min(time_limit / 3, FINE_TIME_LIMIT)
    status, conflict = fine_conflict(config, instance, fine_limit, fixed or [])
    if status == "feasible" or conflict is not None or fixed:
        return conflict
    if progress is not None:
        progress("not settled rule by rule and unit by unit; now by whole settings and compacts …")
    return coarse_conflict(config, instance, time_limit - (time.perf_counter() - started), progress)


def fine_conflict(
    config: Config, instance: Instance, time_limit: float, fixed: list[tuple[int, int]]
) -> tuple[str, Conflict | None]:
    """The search by unit: ("infeasible", a conflict), ("feasible", None) or ("unknown", None)."""
    started = time.perf_counter()
    switches = _switched_program(config, instance, fixed)
    if switches is None:
        return "unknown", None
    deadline = started + time_limit
    everything = list(range(len(switches.literals)))
    status, core = _check(switches, everything, deadline - time.perf_counter())
    if status != "infeasible":
        return status, None
    if core is None:
        # No core given: the seats alone (and the fixed placements) may be what fails.
        alone, _ = _check(switches, [], deadline - time.perf_counter())
        if alone == "infeasible":
            return status, Conflict(rules=[], minimal=True, seconds=time.perf_counter() - started)
        core = everything
    needed: list[int] = []
    unproven: list[int] = []
    remaining = list(core)
    while remaining:
        candidate = remaining.pop(0)
        left = deadline - time.perf_counter()
        trial = needed + unproven + remaining
        outcome, smaller = _check(switches, trial, left / (len(remaining) + 1)) if left > 0.05 else ("unknown", None)
        if outcome == "infeasible":
            if smaller is not None:
                keep = set(smaller)
                remaining = [r for r in remaining if r in keep]
            continue
        (needed if outcome == "feasible" else unproven).append(candidate)
    chosen = sorted(needed + unproven)
    return status, Conflict(
        rules=[switches.instances[i] for i in chosen],
        minimal=not unproven,
        unproven=[switches.instances[i] for i in sorted(unproven)],
        seconds=time.perf_counter() - started,
    )


# ---- the coarse search: whole settings and whole compacts, checked by the solver itself ----------


@dataclass(frozen=True)
class _Item:
    """A hard setting of the config, or parent compacts, that the coarse search may drop."""

    rule: RuleInstance
    compacts: tuple[int, ...] = ()  # the compacts dropped (their families apply as everyone else does)
    setting: str = ""  # the setting switched off: stability, families, clusters, diversity[i], max_share


def coarse_conflict(
    config: Config,
    instance: Instance,
    time_limit: float = DEFAULT_TIME_LIMIT,
    progress: Callable[[str], None] | None = None,
) -> Conflict | None:
    """Whole hard settings and parent compacts that cannot all hold, each check a solve by the solver
    itself (so with its exact shortcuts: the stable window settles stability far faster than the
    switched program can). QuickXplain (Junker 2004) over the settings and the compacts grouped by
    school, then over the single compacts of the groups it keeps; then every item of the result is
    dropped in turn to prove the set minimal."""
    started = time.perf_counter()
    deadline = started + time_limit
    settings = _setting_items(config)
    groups = _compact_items(config, instance, grouped=True)
    if not settings and not groups:
        return None
    memo: dict[frozenset[str], str] = {}

    def check(kept: list[_Item]) -> str:
        key = frozenset(item.rule.where for item in kept)
        if key in memo:
            return memo[key]
        left = deadline - time.perf_counter()
        if left <= 0.5:
            return "unknown"
        relaxed_config, relaxed_instance = _relaxed(config, instance, kept)
        quick = replace(
            relaxed_config,
            solver=replace(relaxed_config.solver, time_limit=left, gap=1.0),
            # the classroom stage is no part of the question
            sections={key: value for key, value in relaxed_config.sections.items() if key != "sections"},
        )
        result = solve(quick, instance=relaxed_instance)
        outcome = "infeasible" if result.status == Status.INFEASIBLE else ("feasible" if result.solved else "unknown")
        memo[key] = outcome
        if progress is not None:
            progress(
                f"re-solved with {len(kept)} of the hard settings and compacts kept: {outcome} "
                f"({time.perf_counter() - started:.0f} s)"
            )
        return outcome

    chosen = _quickxplain(check, [], settings + groups)
    kept_settings = [item for item in chosen if item.setting]
    kept_groups = [item for item in chosen if item.compacts]
    if any(len(item.compacts) > 1 for item in kept_groups):
        singles = [
            single
            for single in _compact_items(config, instance, grouped=False)
            if any(single.compacts[0] in group.compacts for group in kept_groups)
        ]
        chosen = kept_settings + _quickxplain(check, kept_settings, singles)
    needed: list[_Item] = []
    unproven: list[_Item] = []
    for item in chosen:
        outcome = check([other for other in chosen if other is not item])
        (needed if outcome == "feasible" else unproven).append(item)
    schools = {int(instance.compact_school[c]) for item in chosen for c in item.compacts}
    rules = [
        _share_at(config, instance, item.rule, schools) if item.setting == "max_share" and schools else item.rule
        for item in chosen
    ]
    return Conflict(
        rules=rules,
        minimal=not unproven,
        unproven=[item.rule for item in unproven],
        seconds=time.perf_counter() - started,
    )


def _quickxplain(check: Callable[[list[_Item]], str], background: list[_Item], items: list[_Item]) -> list[_Item]:
    """A minimal subset of `items` that, with `background`, `check` finds infeasible (QuickXplain);
    a check that is not settled counts as feasible, which keeps more items, never fewer."""

    def search(base: list[_Item], changed: bool, candidates: list[_Item]) -> list[_Item]:
        if changed and check(base) == "infeasible":
            return []
        if len(candidates) == 1:
            return candidates
        half = len(candidates) // 2
        first, second = candidates[:half], candidates[half:]
        kept_second = search(base + first, bool(first), second)
        kept_first = search(base + kept_second, bool(kept_second), first)
        return kept_first + kept_second

    if not items:
        return []
    return search(background, False, items)


def _setting_items(config: Config) -> list[_Item]:
    items = []
    name = config.display_name

    def setting(key: str, unit: str, what: str) -> _Item:
        path = _key_path(key)
        return _Item(RuleInstance(key, name, config.line(*path), unit, _setting(config, key)), setting=what)

    if config.stability.mode == "hard":
        items.append(setting("stability.mode", "no student may have justified envy, at any school", "stability"))
    if config.families.together == "hard":
        items.append(setting("families.together", "every family's children at one school", "families"))
    if config.clusters.mode == "hard":
        items.append(setting("clusters.mode", "every student in its home cluster or at a citywide school", "clusters"))
    for number, rule in enumerate(config.diversity):
        if rule.mode == "hard":
            items.append(
                setting(
                    f"diversity[{number}]", f"the band on {rule.label} at every {rule.scope}", f"diversity[{number}]"
                )
            )
    if config.data.compacts is not None and config.compacts.max_share < 100:
        items.append(setting("compacts.max_share", "at every school with compacts", "max_share"))
    if config.data.reserves is not None:
        items.append(setting("data.reserves", "reserved seats go to their members first, at every school", "reserves"))
    return items


def _compact_items(config: Config, instance: Instance, grouped: bool) -> list[_Item]:
    """The parent compacts, one item per school (grouped) or per compact."""
    compacts_file = config.data.compacts
    shown = display_path(compacts_file) if compacts_file is not None else "compacts.csv"
    first_line = _compact_lines(compacts_file, shown)
    ids, sids = instance.compact_ids, instance.school_ids
    if grouped:
        by_school: dict[int, list[int]] = {}
        for c in range(instance.n_compacts):
            by_school.setdefault(int(instance.compact_school[c]), []).append(c)
        groups = list(by_school.items())
    else:
        groups = [(int(instance.compact_school[c]), [c]) for c in range(instance.n_compacts)]
    items = []
    for school, members in groups:
        names = " and ".join(", ".join(str(ids[c]) for c in members).rsplit(", ", 1))
        families = int(instance.compact_family_count[members].sum())
        students = int(np.isin(instance.compact_of_student, members).sum())
        plural = len(members) > 1
        rule = RuleInstance(
            key=f"compact{'s' if plural else ''} {names} at {sids[school]}",
            file=shown,
            line=first_line.get(str(ids[members[0]])),
            unit=(
                f"{'each places its families' if plural else f'its {families} families ({students} students)'} "
                f"together at {sids[school]} or not at all; if {'one' if plural else 'it'} is not honored, its "
                f"students who listed {sids[school]} have a justified claim to a seat there"
            ),
            setting=f"the parent compact{'s' if plural else ''} {names}",
        )
        items.append(_Item(rule, compacts=tuple(members)))
    return items


def _compact_lines(path: Path | None, shown: str) -> dict[str, int]:
    """The line of each compact's first row in compacts.csv (any format read_table reads)."""
    if path is None:
        return {}
    problems: list[Problem] = []
    table = read_table(path, shown, problems)
    if table is None or not table.has("compact_id"):
        return {}
    frame = table.frame.drop_duplicates("compact_id")
    return {str(c).strip(): int(line) for c, line in zip(frame["compact_id"], frame["_line"], strict=True)}


def _share_at(config: Config, instance: Instance, rule: RuleInstance, schools: set[int]) -> RuleInstance:
    """The share rule said at the schools of the compacts it collides with."""
    limit = (instance.total_capacity * config.compacts.max_share.numerator) // (
        100 * config.compacts.max_share.denominator
    )
    where = "; ".join(
        f"at most {int(limit[j])} of the {int(instance.total_capacity[j])} seats of {instance.school_ids[j]}"
        for j in sorted(schools)
    )
    return replace(rule, unit=f"compacts take {where}")


def _relaxed(config: Config, instance: Instance, kept: list[_Item]) -> tuple[Config, Instance]:
    """The config and data with only the settings and compacts of `kept`: every other hard setting
    off (reserves: every seat open), every other compact dropped."""
    settings = {item.setting for item in kept if item.setting}
    if config.stability.mode == "hard" and "stability" not in settings:
        config = replace(config, sections={**config.sections, "stability": replace(config.stability, mode="off")})
    if config.families.together == "hard" and "families" not in settings:
        config = replace(config, sections={**config.sections, "families": replace(config.families, together="off")})
    if config.clusters.mode == "hard" and "clusters" not in settings:
        config = replace(config, clusters=replace(config.clusters, mode="off"))
    if "max_share" not in settings:
        config = replace(config, compacts=replace(config.compacts, max_share=Fraction(100)))
    rules = tuple(
        replace(rule, mode="off") if rule.mode == "hard" and f"diversity[{number}]" not in settings else rule
        for number, rule in enumerate(config.diversity)
    )
    config = replace(config, diversity=rules)
    if "reserves" not in settings and instance.has_reserves:
        # Every seat open: no reserve, no precedence, nothing held.
        instance = replace(instance, reserve_names=(), reserve_seats=np.zeros((*instance.capacity.shape, 0), np.int64))
    present = {c for item in kept for c in item.compacts}
    gone = set(range(instance.n_compacts)) - present
    if gone:
        instance = without_compacts(instance, gone)
    return config, instance


def without_compacts(instance: Instance, gone: set[int]) -> Instance:
    """The data with some compacts dropped: their families apply by their own lists, as everyone does."""
    if not gone:
        return instance
    keep = np.array([c for c in range(instance.n_compacts) if c not in gone], dtype=np.int64)
    new_index = np.full(instance.n_compacts, -1, dtype=np.int64)
    new_index[keep] = np.arange(len(keep))
    member = instance.compact_of_student
    return replace(
        instance,
        compact_ids=instance.compact_ids[keep],
        compact_school=instance.compact_school[keep],
        compact_family_count=instance.compact_family_count[keep],
        compact_of_student=np.where(member >= 0, new_index[np.maximum(member, 0)], -1),
    )


def _switched_program(config: Config, instance: Instance, fixed: list[tuple[int, int]]) -> _Switches | None:
    hard_clusters = config.clusters.mode == "hard"
    opened = replace(config, clusters=replace(config.clusters, mode="off")) if hard_clusters else config
    model = build_model(instance, opened)
    # A copy of the row list: the cluster rows are added to it, not to the model.
    formulation = replace(model.formulation, rows=list(model.formulation.rows))
    if hard_clusters:
        _add_cluster_rows(formulation, model, instance, config)
    lower = formulation.lower.copy()
    for student, school in fixed:
        var = seat_variable(model, instance, student, school)
        if var is None:
            return None
        lower[var] = 1
    formulation = replace(formulation, lower=lower)
    if formulation.n_vars == 0:
        return None
    cp = cpsat.build(formulation)
    proto = cp.proto
    proto.clear_objective()
    literals: list[int] = []
    instances: list[RuleInstance] = []
    # One switch per rule instance; two blocks of one instance (a band's floor and ceiling) share it.
    switch_of: dict[tuple[str, str], int] = {}
    for block, offset in zip(formulation.rows, formulation.row_offsets(), strict=True):
        if block.hard is None:
            continue
        units, group = np.unique(block.hard.of_row, return_inverse=True)
        unit_literal = []
        for unit in units.tolist():
            rule = _instance(config, block.hard, int(unit))
            known = switch_of.get((rule.key, rule.unit))
            if known is None:
                known = len(proto.variables)
                proto.variables.add().domain.extend([0, 1])
                switch_of[(rule.key, rule.unit)] = known
                literals.append(known)
                instances.append(rule)
            unit_literal.append(known)
        for row, g in enumerate(group.tolist()):
            proto.constraints[offset + row].enforcement_literal.append(unit_literal[g])
    return _Switches(cp, literals, instances)


def _add_cluster_rows(formulation: Formulation, model: Model, instance: Instance, config: Config) -> None:
    """Hard clusters close options outright; for the search they are rows, one per home cluster."""
    seats = model.seats
    outside = seats.is_option & outside_cluster(instance, seats.student, seats.school)
    chosen = np.flatnonzero(outside)
    if not len(chosen):
        return
    home = instance.home_cluster[seats.student[chosen]]
    clusters, row = np.unique(home, return_inverse=True)
    names = instance.clusters
    formulation.add_rows(
        rows_from_triplets(
            "home_cluster",
            Role.SIDE,
            len(clusters),
            row,
            seats.var[chosen],
            np.ones(len(chosen), np.int64),
            -np.inf,
            0,
            lambda r: f"cluster={names[clusters[r]]}",
            HardUnits(
                "clusters.mode",
                clusters,
                lambda c: f"students of cluster {names[c]} are placed only in {names[c]} or at a citywide school",
            ),
        )
    )


def seat_variable(model: Model, instance: Instance, student: int, school: int) -> int | None:
    """The variable that places `student` at `school` (its compact's, for a member at its compact's
    school), or None when the model has none."""
    seats = model.seats
    compact = int(instance.compact_of_student[student])
    if compact >= 0 and int(instance.compact_school[compact]) == school:
        return int(seats.compact_start + compact)
    hit = np.flatnonzero(seats.is_option & (seats.student == student) & (seats.school == school))
    return int(seats.var[hit[0]]) if len(hit) else None


def _instance(config: Config, hard: HardUnits, unit: int) -> RuleInstance:
    path = _key_path(hard.key)
    line = config.line(*path)
    return RuleInstance(
        key=hard.key,
        file=config.display_name,
        line=line,
        unit=hard.describe(unit),
        setting=_setting(config, hard.key),
    )


def _key_path(key: str) -> tuple[str | int, ...]:
    """`diversity[1].mode` -> ("diversity", 1, "mode")."""
    return parse_dotted(key) or (key,)


def _setting(config: Config, key: str) -> str:
    """The setting as written in words: `stability: hard`, `diversity[1]: hard band`."""
    if key.startswith("diversity["):
        number = _key_path(key)[1]
        assert isinstance(number, int)
        rule = config.diversity[number]
        return f"hard band on {rule.attribute} = {rule.category} by {rule.scope}"
    if key == "compacts.max_share":
        return f"compacts.max_share: {float(config.compacts.max_share):g}"
    if key == "stability.mode":
        return "stability: hard"
    if key == "families.together":
        return "families.together: hard"
    if key == "clusters.mode":
        return "clusters: hard"
    if key == "data.reserves" and config.data.reserves is not None:
        return f"the reserves of {display_path(config.data.reserves)}"
    return key


def _check(switches: _Switches, on: list[int], time_limit: float) -> tuple[str, list[int] | None]:
    """Solve with the switches `on` assumed: ("infeasible", a sufficient subset of `on` or None),
    ("feasible", None) or ("unknown", None)."""
    from ortools.sat.python import cp_model

    proto = switches.model.proto
    proto.assumptions.clear()
    proto.assumptions.extend([switches.literals[i] for i in on])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, float(time_limit))
    # Assumptions and their core need a single worker (CP-SAT's own requirement).
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.solve(switches.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return "feasible", None
    if status != cp_model.INFEASIBLE:
        return "unknown", None
    position = {literal: i for i, literal in enumerate(switches.literals)}
    core = [position[v] for v in solver.sufficient_assumptions_for_infeasibility() if v in position]
    return "infeasible", (core if core else None)


def write_conflict(conflict: Conflict, name: str, path: Path) -> None:
    """infeasibility.json, written whole (a temporary file, then one rename)."""
    write_text_whole(path, json.dumps(conflict.to_json(name), indent=2, ensure_ascii=False) + "\n")


def infeasibility_path(run_folder: Path) -> Path:
    """Where infeasibility.json goes: next to where the run folder would have been."""
    return run_folder.parent / "infeasibility.json"
