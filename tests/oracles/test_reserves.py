"""Oracles for the district rules of issue 17: reserves and their precedence, eligibility, the
kinds of lottery.

Deferred acceptance with the slot-by-slot choice function is written again here, literally: one
proposal at a time, each school choosing slot by slot from what it holds plus the proposal (see
`literal_choice`), over the plain market below — written apart from seatplan's vectorised one
(models/school_order.choose). On random markets:
- `mechanism: deferred_acceptance` equals it (reserves, precedence, revert/hold, eligibility,
  per_school and family lotteries);
- `stability: hard` with reserves, only ranks and seats, is that matching — through the shortcut,
  and through the integer program itself (a rule that refuses every shortcut is registered);
- brute force on tiny markets: the optimum over every assignment without a reserve-aware blocking
  pair (defined literally: the school's choice from its students plus s takes s) is DA's.
The walk-zone effect is reproduced by hand with the numbers written down.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from seatplan.api import solve
from seatplan.models.config import Config
from seatplan.models.instance import Instance
from seatplan.models.rules.base import RULES, Rule, Shortcut
from seatplan.solver.cli import main


@dataclass
class Market:
    """A plain school-choice market: lists, priorities, eligibility, reserves, lottery numbers."""

    students: list[str]
    schools: dict[str, int]  # seats
    prefs: dict[str, list[str]]
    priority: dict[tuple[str, str], int] = field(default_factory=dict)
    ineligible: set[tuple[str, str]] = field(default_factory=set)
    reserves: list[tuple[str, str, int]] = field(default_factory=list)  # (school, reserve, seats)
    low: set[str] = field(default_factory=set)  # members of "low" everywhere (students.csv ses=low)
    walk: set[tuple[str, str]] = field(default_factory=set)  # members of "walk" at a school
    precedence: str = "reserve_first"
    own_precedence: dict[str, str] = field(default_factory=dict)
    unfilled: str = "revert"
    lottery_kind: str = "single"
    family: dict[str, str] = field(default_factory=dict)
    seed: int = 0

    # ---- the school's order, written from the README's rules -----------------------------------
    def number(self, text: str) -> int:
        return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)

    def lottery(self, student: str, school: str) -> tuple[int, ...]:
        if self.lottery_kind == "per_school":
            return (self.number(f"{self.seed}:{student}:{school}"),)
        own = self.number(f"{self.seed}:{student}")
        if self.lottery_kind == "family":
            return (self.number(f"{self.seed}:family:{self.family.get(student, student)}"), own)
        return (own,)

    def order(self, student: str, school: str) -> tuple[int, ...]:
        """Smaller is ranked higher: priority descending, then the lottery."""
        return (-self.priority.get((student, school), 0), *self.lottery(student, school))

    def member(self, reserve: str, student: str, school: str) -> bool:
        return student in self.low if reserve == "low" else (student, school) in self.walk

    def slots(self, school: str) -> list[str | None]:
        """The school's slots in precedence order: a reserve's name, or None for an open slot."""
        held = [(r, n) for j, r, n in self.reserves if j == school]
        reserved: list[str | None] = [r for r, n in held for _ in range(n)]
        open_slots: list[str | None] = [None] * (self.schools[school] - sum(n for _, n in held))
        first = self.own_precedence.get(school, self.precedence) == "reserve_first"
        return reserved + open_slots if first else open_slots + reserved

    def literal_choice(self, school: str, applicants: list[str]) -> list[str]:
        """Slot by slot: a reserve slot takes the best remaining member (else, revert: the best
        remaining applicant; hold: nobody), an open slot the best remaining applicant."""
        remaining = sorted(applicants, key=lambda s: self.order(s, school))
        chosen = []
        for slot in self.slots(school):
            pick = None
            if slot is not None:
                pick = next((s for s in remaining if self.member(slot, s, school)), None)
                if pick is None and self.unfilled == "hold":
                    continue
            if pick is None and remaining:
                pick = remaining[0]
            if pick is not None:
                remaining.remove(pick)
                chosen.append(pick)
        return chosen

    def eligible_list(self, student: str) -> list[str]:
        return [j for j in self.prefs.get(student, []) if (student, j) not in self.ineligible]

    def literal_da(self) -> dict[str, str | None]:
        """One proposal at a time; the school keeps its choice from what it holds plus the proposer."""
        held: dict[str, list[str]] = {j: [] for j in self.schools}
        next_choice = dict.fromkeys(self.students, 0)
        free = list(self.students)
        while free:
            s = free.pop(0)
            options = self.eligible_list(s)
            if next_choice[s] >= len(options):
                continue
            j = options[next_choice[s]]
            next_choice[s] += 1
            kept = self.literal_choice(j, [*held[j], s])
            free += [t for t in [*held[j], s] if t not in kept]
            held[j] = kept
        out: dict[str, str | None] = dict.fromkeys(self.students)
        for j, students in held.items():
            for s in students:
                out[s] = j
        return out

    def blocks(self, assignment: dict[str, str | None]) -> list[tuple[str, str]]:
        """Reserve-aware blocking pairs, literally: s prefers j and j's choice from its students plus s takes s."""
        found = []
        for s in self.students:
            options = self.eligible_list(s)
            here = assignment[s]
            better = options if here is None else options[: options.index(here)] if here in options else options
            for j in better:
                at_j = [t for t in self.students if assignment[t] == j]
                if s in self.literal_choice(j, [*at_j, s]):
                    found.append((s, j))
        return found

    def members_first(self, assignment: dict[str, str | None]) -> bool:
        """No member who lists a school above its placement is left out while the school's reserve
        holds fewer members than its seats."""
        for j, reserve, seats in self.reserves:
            members_at = sum(1 for t in self.students if assignment[t] == j and self.member(reserve, t, j))
            if members_at >= seats:
                continue
            for m in self.students:
                options = self.eligible_list(m)
                if j not in options or not self.member(reserve, m, j) or assignment[m] == j:
                    continue
                here = assignment[m]
                if here is None or here not in options or options.index(j) < options.index(here):
                    return False
        return True

    def accepted(self, assignment: dict[str, str | None]) -> bool:
        """Every school's choice from its own students keeps them all (hold may refuse some)."""
        for j in self.schools:
            at_j = [t for t in self.students if assignment[t] == j]
            if sorted(self.literal_choice(j, at_j)) != sorted(at_j):
                return False
        return True

    # ---- files ----------------------------------------------------------------------------------
    def write(self, folder: Path, mechanism: str = "deferred_acceptance", stability: str = "off") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        rows = ["student_id,family_id,ses"] + [
            f"{s},{self.family.get(s, '')},{'low' if s in self.low else 'high'}" for s in self.students
        ]
        (folder / "students.csv").write_text("\n".join(rows) + "\n")
        rows = ["school_id,capacity"] + [f"{j},{n}" for j, n in self.schools.items()]
        (folder / "schools.csv").write_text("\n".join(rows) + "\n")
        rows = ["student_id,school_id,rank"] + [
            f"{s},{j},{k + 1}" for s in self.students for k, j in enumerate(self.prefs.get(s, []))
        ]
        (folder / "preferences.csv").write_text("\n".join(rows) + "\n")
        pairs = sorted(set(self.priority) | self.ineligible)
        rows = ["student_id,school_id,priority,eligible"] + [
            f"{s},{j},{self.priority.get((s, j), 0)},{'false' if (s, j) in self.ineligible else 'true'}"
            for s, j in pairs
        ]
        (folder / "priorities.csv").write_text("\n".join(rows) + "\n")
        data = [
            "  students: students.csv",
            "  schools: schools.csv",
            "  preferences: preferences.csv",
            "  priorities: priorities.csv",
        ]
        named = {r for _j, r, _n in self.reserves}
        if self.reserves:
            rows = ["school_id,reserve,seats,precedence"] + [
                f"{j},{r},{n},{self.own_precedence.get(j, '')}" for j, r, n in self.reserves
            ]
            (folder / "reserves.csv").write_text("\n".join(rows) + "\n")
            data += ["  reserves: reserves.csv"]
        if "walk" in named:
            rows = ["student_id,school_id,reserve"] + [f"{s},{j},walk" for s, j in sorted(self.walk)]
            (folder / "reserve_members.csv").write_text("\n".join(rows) + "\n")
            data += ["  reserve_members: reserve_members.csv"]
        members = "members: {low: ses=low}" if "low" in named else "members: {}"
        text = [
            "name: market",
            "data:",
            *data,
            f"mechanism: {mechanism}",
            f"stability: {{mode: {stability}}}",
            f"lottery: {{kind: {self.lottery_kind}}}",
            f"reserves: {{precedence: {self.precedence}, unfilled: {self.unfilled}, {members}}}",
            "objective: {rank: 1, unassigned: 100}",
            f"solver: {{seed: {self.seed}, workers: 1, time_limit: 60}}",
        ]
        (folder / "config.yaml").write_text("\n".join(text) + "\n")
        return folder / "config.yaml"


def random_market(rng: random.Random, students: tuple[int, int] = (4, 24), schools: tuple[int, int] = (1, 4)) -> Market:
    ids = [f"S{i:02d}" for i in range(rng.randint(*students))]
    school_ids = [f"J{j}" for j in range(rng.randint(*schools))]
    seats = {j: rng.randint(0, 5) for j in school_ids}
    prefs = {s: rng.sample(school_ids, rng.randint(0, len(school_ids))) for s in ids}
    priority = {(s, j): rng.randint(0, 2) for s in ids for j in prefs[s] if rng.random() < 0.4}
    ineligible = {(s, j) for s in ids for j in prefs[s] if rng.random() < 0.1}
    reserves = []
    for j in school_ids:
        if seats[j] and rng.random() < 0.8:
            low = rng.randint(0, seats[j])
            reserves.append((j, "low", low))
            if rng.random() < 0.4 and seats[j] - low > 0:
                reserves.append((j, "walk", rng.randint(0, seats[j] - low)))
    families = {s: f"F{rng.randint(0, len(ids) // 2)}" for s in ids if rng.random() < 0.5}
    return Market(
        students=ids,
        schools=seats,
        prefs=prefs,
        priority=priority,
        ineligible=ineligible,
        reserves=reserves,
        low={s for s in ids if rng.random() < 0.4},
        walk={(s, j) for s in ids for j in school_ids if rng.random() < 0.3},
        precedence=rng.choice(["reserve_first", "open_first"]),
        own_precedence={j: rng.choice(["reserve_first", "open_first"]) for j in school_ids if rng.random() < 0.3},
        unfilled=rng.choice(["revert", "hold"]),
        lottery_kind=rng.choice(["single", "per_school", "family"]),
        family=families,
        seed=rng.randint(0, 1000),
    )


def placements(result: object) -> dict[str, str | None]:
    placement = result.placement  # type: ignore[attr-defined]
    instance: Instance = result.instance  # type: ignore[attr-defined]
    return {
        str(s): (str(instance.school_ids[j]) if j >= 0 else None)
        for s, j in zip(instance.student_ids, placement.school, strict=True)
    }


def audit(config: Path, run: Path) -> None:
    """seatplan solve writes the run; seatplan audit passes it."""
    solved = CliRunner().invoke(main, ["solve", str(config), "--out", str(run), "--quiet"])
    assert solved.exit_code == 0, solved.output
    checked = CliRunner().invoke(main, ["audit", str(run)])
    assert checked.exit_code == 0, checked.output


# ---- deferred acceptance ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(60))
def test_deferred_acceptance_with_reserves_equals_the_literal_one(seed: int, tmp_path: Path) -> None:
    market = random_market(random.Random(seed))
    result = solve(market.write(tmp_path))
    expected = market.literal_da()
    assert placements(result) == expected, market
    assert not market.blocks(expected)  # the literal DA is stable under the choice function
    if seed % 10 == 0:
        audit(tmp_path / "config.yaml", tmp_path / "run")


def test_without_reserves_the_choice_is_the_top_of_the_order(tmp_path: Path) -> None:
    """No reserves: the literal DA is the plain one, and so is seatplan's (the matching package
    checks the plain one elsewhere)."""
    rng = random.Random(5)
    for number in range(10):
        market = random_market(rng)
        market.reserves = []
        assert placements(solve(market.write(tmp_path / str(number)))) == market.literal_da()


# ---- the walk-zone effect ----------------------------------------------------------------------------


def walk_zone(precedence: str) -> Market:
    """One school with 4 seats, half of them for its walk zone. Applicants in the school's order
    (lottery only): A (walk), B, C (walk), D, E (walk), F. Worked by hand:
    - reserve_first: the 2 walk slots take A and C; the 2 open slots the best of the rest, B and D.
      Placed: A, B, C, D.
    - open_first: the 2 open slots take A and B (the best two, A walk or not); the walk slots then
      take the best remaining walkers, C and E. Placed: A, B, C, E — D loses to E.
    Open seats first serve the walk zone more: a walker at the top of the order takes an open seat
    and leaves the reserved one to the next walker (Dur, Kominers, Pathak & Sönmez 2018)."""
    students = ["A", "B", "C", "D", "E", "F"]
    market = Market(
        students=students,
        schools={"J": 4},
        prefs={s: ["J"] for s in students},
        reserves=[("J", "walk", 2)],
        walk={("A", "J"), ("C", "J"), ("E", "J")},
        precedence=precedence,
    )
    # The lottery by hand: the order above (students.csv has no lottery column, so priorities do it).
    market.priority = {(s, "J"): 10 - k for k, s in enumerate(students)}
    return market


def test_precedence_changes_who_gets_in(tmp_path: Path) -> None:
    first = walk_zone("reserve_first")
    later = walk_zone("open_first")
    got_first = placements(solve(first.write(tmp_path / "reserve_first")))
    got_later = placements(solve(later.write(tmp_path / "open_first")))
    assert {s for s, j in got_first.items() if j} == {"A", "B", "C", "D"}
    assert {s for s, j in got_later.items() if j} == {"A", "B", "C", "E"}
    assert got_first == first.literal_da() and got_later == later.literal_da()


def test_hold_leaves_a_reserved_seat_empty(tmp_path: Path) -> None:
    """Hold: 2 walk seats and only one walker applies; the other walk seat stays empty."""
    market = walk_zone("reserve_first")
    market.walk = {("A", "J")}
    market.unfilled = "hold"
    got = placements(solve(market.write(tmp_path)))
    assert {s for s, j in got.items() if j} == {"A", "B", "C"}
    market.unfilled = "revert"
    got = placements(solve(market.write(tmp_path / "revert")))
    assert {s for s, j in got.items() if j} == {"A", "B", "C", "D"}


# ---- the optimiser under stability hard ----------------------------------------------------------------


class _NoShortcut(Rule):
    """Active, and supports no shortcut: the optimiser must solve the program itself."""

    name = "no_shortcut_for_tests"
    order = 999

    def active(self, config: Config, instance: Instance) -> bool:
        return True

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        return False


@pytest.mark.parametrize("seed", range(30))
def test_stable_optimum_with_reserves_is_deferred_acceptance(seed: int, tmp_path: Path) -> None:
    """Ranks and seats only, stability hard: the optimum is DA-with-reserves, by the shortcut and
    by the program (both backends)."""
    market = random_market(random.Random(1000 + seed))
    expected = market.literal_da()
    config = market.write(tmp_path, mechanism="optimize", stability="hard")
    assert placements(solve(config)) == expected
    with RULES.registered(_NoShortcut()):
        for backend in ("cpsat", "pulp") if seed % 3 == 0 else ("cpsat",):
            result = solve(config, solver__backend=backend)
            assert result.status == "optimal", (backend, result.status)
            assert placements(result) == expected, (backend, market)


def every_assignment(market: Market) -> Iterator[dict[str, str | None]]:
    options = [[None, *market.eligible_list(s)] for s in market.students]
    for combo in itertools.product(*options):
        counts: dict[str, int] = {}
        for j in combo:
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if all(counts.get(j, 0) <= n for j, n in market.schools.items()):
            yield dict(zip(market.students, combo, strict=True))


@pytest.mark.parametrize("seed", range(25))
def test_brute_force_stable_with_reserves(seed: int, tmp_path: Path) -> None:
    """Tiny markets: among every assignment the school's choices accept with no reserve-aware
    blocking pair, the least Σ (position − 1) + 100·unplaced is the program's optimum, and DA's."""
    market = random_market(random.Random(2000 + seed), students=(2, 6), schools=(1, 3))
    best = None
    for assignment in every_assignment(market):
        if not market.accepted(assignment) or market.blocks(assignment):
            continue
        cost = sum(100 if j is None else market.prefs[s].index(j) for s, j in assignment.items())
        if best is None or cost < best[0]:
            best = (cost, assignment)
    assert best is not None  # DA's matching is always one of them
    assert best[1] == market.literal_da()
    config = market.write(tmp_path, mechanism="optimize", stability="hard")
    with RULES.registered(_NoShortcut()):
        result = solve(config)
    assert result.status == "optimal"
    assert placements(result) == best[1]


# ---- eligibility and lotteries -----------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(10))
def test_no_plan_uses_an_ineligible_pair(seed: int, tmp_path: Path) -> None:
    market = random_market(random.Random(3000 + seed))
    market.reserves = []
    for mechanism in ("optimize", "deferred_acceptance", "immediate_acceptance", "top_trading_cycles"):
        got = placements(solve(market.write(tmp_path / mechanism, mechanism=mechanism)))
        assert not [(s, j) for s, j in got.items() if (s, j) in market.ineligible], mechanism


def test_positions_keep_the_lists_numbering(tmp_path: Path) -> None:
    """A student ineligible at its 1st choice and placed at its 2nd is at its 2nd choice."""
    market = Market(students=["A"], schools={"J1": 1, "J2": 1}, prefs={"A": ["J1", "J2"]}, ineligible={("A", "J1")})
    result = solve(market.write(tmp_path, mechanism="optimize"))
    assert placements(result) == {"A": "J2"}
    assert result.evaluation is not None and result.evaluation.terms["rank"] == 100  # (2 − 1) in cents


def test_per_school_lotteries_differ_by_school(tmp_path: Path) -> None:
    """Two schools, one seat each, the same two students listing them in opposite orders: with one
    lottery both schools rank them alike; with a lottery per school they may not — the literal DA
    with the documented per-pair numbers decides, for many seeds."""
    agree = 0
    for seed in range(12):
        market = Market(
            students=["A", "B"],
            schools={"J1": 1, "J2": 1},
            prefs={"A": ["J1", "J2"], "B": ["J1", "J2"]},
            lottery_kind="per_school",
            seed=seed,
        )
        got = placements(solve(market.write(tmp_path / str(seed))))
        assert got == market.literal_da()
        agree += (market.order("A", "J1") < market.order("B", "J1")) == (
            market.order("A", "J2") < market.order("B", "J2")
        )
    assert 0 < agree < 12  # the per-school numbers do order the schools differently


def test_family_lottery_keeps_siblings_together_in_the_order(tmp_path: Path) -> None:
    """Family kind: siblings share a number, so no other student falls between them at any school."""
    students = [f"S{i}" for i in range(10)]
    family = {"S0": "F", "S5": "F", "S9": "F"}
    market = Market(
        students=students, schools={"J": 10}, prefs={s: ["J"] for s in students}, lottery_kind="family", family=family
    )
    config = market.write(tmp_path)
    result = solve(config)
    rank = result.instance.lottery_rank
    siblings = sorted(int(rank[list(result.instance.student_ids).index(s)]) for s in family)
    assert siblings == list(range(siblings[0], siblings[0] + 3))
    expected = sorted(students, key=lambda s: market.order(s, "J"))
    assert [str(result.instance.student_ids[i]) for i in np.argsort(rank)] == expected


# ---- bad input ---------------------------------------------------------------------------------------


def bad(tmp_path: Path, edit: dict[str, str], config_extra: str = "") -> list[str]:
    market = walk_zone("reserve_first")
    config = market.write(tmp_path)
    for name, text in edit.items():
        (tmp_path / name).write_text(text)
    if config_extra:
        config.write_text(config.read_text() + config_extra)
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists()
    return [line for line in result.output.splitlines() if line.strip()]


def test_bad_reserve_inputs_are_one_line_each(tmp_path: Path) -> None:
    lines = bad(tmp_path / "a", {"reserves.csv": "school_id,reserve,seats\nJ,walk,5\n"})
    assert any("reserves.csv:2: expected a reserve of at most the school's 4 seats" in line for line in lines), lines
    lines = bad(tmp_path / "b", {"reserve_members.csv": "student_id,school_id,reserve\nA,J,walkzone\n"})
    assert any("reserve_members.csv:2: unknown reserve 'walkzone'" in line for line in lines), lines
    lines = bad(tmp_path / "c", {"priorities.csv": "student_id,school_id,priority,eligible\nA,J,1,maybe\n"})
    assert any('priorities.csv:2: expected eligible to be true or false, got "maybe"' in line for line in lines), lines
    lines = bad(tmp_path / "d", {"reserves.csv": "school_id,reserve,seats,precedence\nJ,walk,2,walk_first\n"})
    assert any("reserves.csv:2: expected precedence to be reserve_first or open_first" in line for line in lines), lines


def test_family_lottery_without_family_ids(tmp_path: Path) -> None:
    market = walk_zone("reserve_first")
    market.lottery_kind = "family"
    config = market.write(tmp_path)
    (tmp_path / "students.csv").write_text("student_id,ses\n" + "".join(f"{s},high\n" for s in market.students))
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2
    assert "config.yaml:" in result.output and "family_id column with lottery.kind family" in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1, result.output


def test_compact_member_ineligible_at_its_school(tmp_path: Path) -> None:
    market = Market(
        students=["A", "B", "C"],
        schools={"J": 3, "K": 30},
        prefs={"A": ["K"], "B": ["K"], "C": ["K"]},
        family={"A": "FA", "B": "FB", "C": "FC"},
        ineligible={("B", "J")},
    )
    config = market.write(tmp_path, mechanism="optimize")
    (tmp_path / "compacts.csv").write_text("compact_id,family_id,school_id\nP1,FA,J\nP1,FB,J\n")
    config.write_text(config.read_text().replace("data:\n", "data:\n  compacts: compacts.csv\n"))
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "priorities.csv:2: expected student 'B' to be eligible at 'J', where compact 'P1' places it" in result.output
    assert "compacts.csv line 2)" in result.output


def test_lotteries_from_the_files(tmp_path: Path) -> None:
    """per_school numbers from priorities.csv's lottery column, family numbers from students.csv's:
    the schools' orders follow them exactly, and missing or conflicting numbers are one line each."""
    market = Market(students=["A", "B"], schools={"J1": 1, "J2": 1}, prefs={"A": ["J1", "J2"], "B": ["J1", "J2"]})
    market.lottery_kind = "per_school"
    config = market.write(tmp_path / "per_school")
    # J1 prefers B (2 < 5), J2 prefers A: B takes J1, A takes J2.
    (tmp_path / "per_school" / "priorities.csv").write_text(
        "student_id,school_id,priority,lottery\nA,J1,0,5\nB,J1,0,2\nA,J2,0,1\nB,J2,0,9\n"
    )
    assert placements(solve(config)) == {"A": "J2", "B": "J1"}
    (tmp_path / "per_school" / "priorities.csv").write_text("student_id,school_id,priority,lottery\nA,J1,0,5\n")
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "run"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "preferences.csv:3: expected a lottery number for student 'A' at 'J2'" in result.output, result.output
    assert "preferences.csv:4: expected a lottery number for student 'B' at 'J1'" in result.output, result.output

    siblings = Market(
        students=["A", "B", "C"], schools={"J": 2}, prefs={s: ["J"] for s in "ABC"}, family={"A": "F", "C": "F"}
    )
    siblings.lottery_kind = "family"
    config = siblings.write(tmp_path / "family")
    students = tmp_path / "family" / "students.csv"
    students.write_text("student_id,family_id,ses,lottery\nA,F,high,7\nB,,high,3\nC,F,high,7\n")
    # B (3) first, then the family (7): A before C by student_id.
    assert placements(solve(config)) == {"A": "J", "B": "J", "C": None}
    students.write_text("student_id,family_id,ses,lottery\nA,F,high,7\nB,,high,3\nC,F,high,8\n")
    result = CliRunner().invoke(main, ["solve", str(config), "--out", str(tmp_path / "run2"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "students.csv:4: expected the lottery number of this student's family (line 2: 7)" in result.output


# ---- the other mechanisms with eligibility and every kind of lottery ------------------------------------


def literal_immediate_acceptance(market: Market) -> dict[str, str | None]:
    """Round k: each unplaced student applies to the k-th school it may attend on its list; the school
    takes applicants in its own order while seats remain; acceptances are final."""
    left = dict(market.schools)
    out: dict[str, str | None] = dict.fromkeys(market.students)
    for k in range(max((len(v) for v in market.prefs.values()), default=0)):
        applying = [s for s in market.students if out[s] is None and k < len(market.eligible_list(s))]
        for s in sorted(applying, key=lambda s: market.order(s, market.eligible_list(s)[k])):
            school = market.eligible_list(s)[k]
            if left[school] > 0:
                left[school] -= 1
                out[s] = school
    return out


def literal_top_trading_cycles(market: Market) -> dict[str, str | None]:
    """One cycle at a time: students point to their best school with a seat left, schools to the
    applicant they rank highest among those left who may attend; the first cycle found is traded."""
    left = dict(market.schools)
    out: dict[str, str | None] = dict.fromkeys(market.students)
    remaining = [s for s in market.students if market.eligible_list(s)]
    while True:
        points = {s: next((j for j in market.eligible_list(s) if left[j] > 0), None) for s in remaining}
        remaining = [s for s in remaining if points[s] is not None]
        if not remaining:
            return out

        def top(school: str, remaining: list[str] = remaining) -> str:
            return min(
                (s for s in remaining if school in market.eligible_list(s)), key=lambda s: market.order(s, school)
            )

        walk, seen = remaining[0], []
        while walk not in seen:
            seen.append(walk)
            walk = top(points[walk])  # type: ignore[arg-type]
        cycle = seen[seen.index(walk) :]
        for s in cycle:
            school = points[s]
            assert school is not None
            out[s] = school
            left[school] -= 1
        remaining = [s for s in remaining if s not in cycle]


@pytest.mark.parametrize("seed", range(30))
def test_boston_and_ttc_with_eligibility_and_lottery_kinds(seed: int, tmp_path: Path) -> None:
    market = random_market(random.Random(4000 + seed))
    market.reserves = []
    for mechanism, literal in (
        ("immediate_acceptance", literal_immediate_acceptance),
        ("top_trading_cycles", literal_top_trading_cycles),
    ):
        got = placements(solve(market.write(tmp_path / mechanism, mechanism=mechanism)))
        assert got == literal(market), (mechanism, market.lottery_kind)


@pytest.mark.parametrize("seed", range(8))
def test_stable_with_reserves_when_another_rule_closes_options(seed: int, tmp_path: Path) -> None:
    """Hard clusters close some (student, school) options; such a pair still envies, so the stable
    rows must still hold for it: the independent auditor finds no reserve-aware blocking pair."""
    rng = random.Random(5000 + seed)
    market = random_market(rng, students=(6, 16), schools=(2, 4))
    config = market.write(tmp_path, mechanism="optimize", stability="hard")
    clusters = {j: rng.choice(["C1", "C2", ""]) for j in market.schools}
    (tmp_path / "schools.csv").write_text(
        "school_id,capacity,cluster\n" + "".join(f"{j},{n},{clusters[j]}\n" for j, n in market.schools.items())
    )
    lines = (tmp_path / "students.csv").read_text().splitlines()
    homes = [rng.choice(["C1", "C2"]) for _ in lines[1:]]
    (tmp_path / "students.csv").write_text(
        "\n".join([lines[0] + ",home_cluster", *(f"{row},{h}" for row, h in zip(lines[1:], homes, strict=True))]) + "\n"
    )
    config.write_text(config.read_text() + "clusters: {mode: hard}\n")
    result = solve(config)
    if result.status != "optimal":
        assert result.status == "infeasible", result.status
        return
    audit(config, tmp_path / "run")


@pytest.mark.parametrize("seed", range(30))
def test_brute_force_reserves_without_stability(seed: int, tmp_path: Path) -> None:
    """Stability off: the optimiser's plan is the least Σ (position − 1) + 100·unplaced over every
    assignment the schools' choices accept (hold) with members first — both precedences, revert and
    hold, several reserves."""
    market = random_market(random.Random(6000 + seed), students=(2, 6), schools=(1, 3))
    best = None
    for assignment in every_assignment(market):
        if not market.accepted(assignment) or not market.members_first(assignment):
            continue
        cost = sum(100 if j is None else market.prefs[s].index(j) for s, j in assignment.items())
        if best is None or cost < best[0]:
            best = (cost, assignment)
    assert best is not None  # DA's matching is one
    result = solve(market.write(tmp_path, mechanism="optimize"))
    assert result.status == "optimal", result.status
    got = placements(result)
    assert market.accepted(got) and market.members_first(got), (got, market)
    assert result.evaluation is not None
    assert sum(result.evaluation.terms.values()) == 100 * best[0], (got, best, market)


def test_hold_open_first_turns_away_a_student_the_open_seats_do_not_take(tmp_path: Path) -> None:
    """2 seats, 1 held for low, open seats first: A (low, ranked first) takes the open seat, the held
    seat stays for low students, so B (not low) cannot be placed — the optimiser must not place B."""
    market = Market(
        students=["A", "B"],
        schools={"J": 2},
        prefs={"A": ["J"], "B": ["J"]},
        priority={("A", "J"): 2, ("B", "J"): 1},
        reserves=[("J", "low", 1)],
        low={"A"},
        precedence="open_first",
        unfilled="hold",
    )
    got = placements(solve(market.write(tmp_path, mechanism="optimize")))
    assert got == {"A": "J", "B": None}


def test_a_market_where_nobody_may_sit_anywhere(tmp_path: Path) -> None:
    """One seat, all of it held for low, nobody low: stability hard with hold has no block to write."""
    market = Market(students=["A"], schools={"J": 1}, prefs={"A": ["J"]}, reserves=[("J", "low", 1)], unfilled="hold")
    result = solve(market.write(tmp_path, mechanism="optimize", stability="hard"))
    assert result.status == "optimal" and placements(result) == {"A": None}
