"""Explanations of immediate acceptance and top trading cycles (issue 17's mechanisms): a family is
told, for each school it listed above its placement, the round in which that school ran out of seats
and when the student applied there (immediate acceptance) or was placed (top trading cycles).

Each claim is checked against the literal mechanisms of tests/oracles/test_mechanisms.py, written
from their definitions, on random markets: immediate acceptance run one round at a time (when each
school's seats ran out, who it took in that round); top trading cycles one cycle at a time (its
rounds are not the solver's, but a school a student listed higher must run out before the student's
own trade in every order of the cycles, and that is what is checked).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.solver.cli import main
from seatplan.solver.explain.reasons import Explainer, Reason, mechanism_rule
from seatplan.solver.runfolder import read_run
from tests.oracles.contract import seats
from tests.oracles.instances import Source
from tests.oracles.test_mechanisms import MARKET, literal_immediate_acceptance, literal_top_trading_cycles
from tests.oracles.test_school_choice import Choice, grade_of, random_choice

FULL_AFTER = re.compile(r"all its seats(?: in grade \S+)? went by round (\d+) to students .* in round (\d+), when no")
FILLED_IN = re.compile(r"it filled up(?: in grade \S+)? in round (\d+), the round \S+ applied there")
RAN_OUT = re.compile(
    r"its last seat(?: in grade \S+)? was given out at step (\d+); \S+ (?:was placed at step (\d+)|was left)"
)


def _round_reasons(explainer: Explainer, choice: Choice) -> Iterator[tuple[str, str, Reason]]:
    """(student, school, reason) of every reason by the mechanism's rounds; a school without seats
    for the student is a rule of its own (schools.csv), checked here and not given."""
    case, grade = choice.base, grade_of(choice)
    instance = explainer.run.instance
    for index, sid in enumerate(instance.student_ids.tolist()):
        for reason in explainer.explain(index).reasons:
            school = str(instance.school_ids[reason.school])
            if seats(case, school, grade[sid]) == 0:
                assert reason.kind == "rule", reason.text
                continue
            assert reason.kind == "rule" and reason.rule == mechanism_rule(explainer.run), reason.text
            yield sid, school, reason


def _solved(choice: Choice, mechanism: str, folder: Path) -> Explainer:
    named = Choice(**{**choice.__dict__, "mechanism": mechanism})
    run = folder / f"run-{mechanism}"
    solved = CliRunner().invoke(main, ["solve", str(named.write(folder, mechanism)), "--out", str(run), "--quiet"])
    assert solved.exit_code == 0, solved.output
    return Explainer(read_run(run), costs=False)


def _literal_rounds(choice: Choice) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
    """Immediate acceptance, literally: the round after which each (school, grade) had no seat left
    (cells that never filled are absent), and each student's round of placement."""
    case, grade = choice.base, grade_of(choice)
    full: dict[tuple[str, str], int] = {}
    placed_in: dict[str, int] = {}
    longest = max((len(p) for p in case.prefs.values()), default=0)
    for k in range(1, longest + 1):
        out = literal_immediate_acceptance(choice, rounds=k)
        for s, school in out.items():
            if school is not None:
                placed_in.setdefault(s, k)
        for j in case.schools:
            for g in set(grade.values()):
                taken = sum(1 for s, school in out.items() if school == j.id and grade[s] == g)
                if seats(case, j.id, g) > 0 and taken == seats(case, j.id, g):
                    full.setdefault((j.id, g), k)
    return full, placed_in


@pytest.mark.parametrize("seed", range(30))
def test_immediate_acceptance_reasons_hold_in_the_literal_rounds(seed: int, tmp_path: Path) -> None:
    choice = random_choice(Source(7300 + seed), MARKET)
    explainer = _solved(choice, "immediate_acceptance", tmp_path)
    case, grade = choice.base, grade_of(choice)
    full, placed_in = _literal_rounds(choice)
    ids = explainer.run.instance.student_ids.tolist()
    for sid, school, reason in _round_reasons(explainer, choice):
        applied = case.prefs[sid].index(school) + 1
        cell = (school, grade[sid])
        after, filled = FULL_AFTER.search(reason.text), FILLED_IN.search(reason.text)
        assert (after is None) != (filled is None), reason.text
        if after is not None:
            assert int(after.group(1)) == full[cell] < applied, (sid, school, reason.text, choice.describe())
            assert int(after.group(2)) == applied, reason.text
        else:
            assert int(filled.group(1)) == full[cell] == applied, (sid, school, reason.text, choice.describe())
            # It took, in that round, only students it ranks ahead of this one.
            took = [t for t, k in placed_in.items() if k == applied and case.prefs[t][k - 1] == school]
            took = [t for t in took if grade[t] == grade[sid]]
            assert took and all(choice.order(t, school) < choice.order(sid, school) for t in took), reason.text
            # The cutoff said is the last of them in the school's order.
            last = max(took, key=lambda t: choice.order(t, school))
            assert reason.cutoff == explainer.cutoffs.key(ids.index(last), reason.school), (reason.text, last)


@pytest.mark.parametrize("seed", range(30))
def test_top_trading_cycles_reasons_hold_in_any_order_of_the_cycles(seed: int, tmp_path: Path) -> None:
    choice = random_choice(Source(7400 + seed), MARKET)
    explainer = _solved(choice, "top_trading_cycles", tmp_path)
    grade = grade_of(choice)
    events: list[tuple[str, str, str]] = []
    literal_top_trading_cycles(choice, events)
    when = {(kind, a, b): step for step, (kind, a, b) in enumerate(events)}
    for sid, school, reason in _round_reasons(explainer, choice):
        placed = ("placed", sid, "") in when
        said = RAN_OUT.search(reason.text)
        assert said is not None, reason.text
        assert (said.group(2) is not None) == placed, reason.text
        if placed:
            assert int(said.group(1)) < int(said.group(2)), reason.text
        # In the literal run the school ran out, and before this student's own trade.
        ran_out = when.get(("full", school, grade[sid]))
        assert ran_out is not None, (sid, school, choice.describe())
        if placed:
            assert ran_out < when[("placed", sid, "")], (sid, school, choice.describe())
