"""The rule registry: what it lists, and that the solver's shortcuts ask it.

A rule that is active and does not declare whether a shortcut stays exact must switch that
shortcut off: seatplan may then be slower, never wrong. The shortcuts are seen in the solve's log.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from seatplan.models.config import SECTIONS, Config, Section, integer_reader, load_config, resolved_config
from seatplan.models.data import load_inputs
from seatplan.models.errors import ConfigError
from seatplan.models.instance import Instance
from seatplan.models.ir import Role, rows_from_triplets, term_from_pairs
from seatplan.models.rules import RULES, Build, Measures, Outcome, Rule, Shortcut
from seatplan.solver.compare import rows
from seatplan.solver.solve import solve
from tests.conftest import write_case

FLOW = "a transportation problem, solved exactly as a min-cost flow"
STUDENT_OPTIMAL = "the student-optimal stable matching (deferred acceptance) is the optimum"

# Four students, two schools of one seat each, and a third with two. Priorities make the
# schools disagree with the students' own order, so a stable plan is not everyone's first choice.
STUDENTS = "student_id\na\nb\nc\nd\n"
SCHOOLS = "school_id,capacity\nX,1\nY,1\nZ,2\n"
PREFERENCES = """\
student_id,school_id,rank
a,X,1
a,Y,2
b,X,1
b,Z,2
c,Y,1
c,X,2
d,Y,1
d,Z,2
"""


def pure_case(folder: Path, **config: Any) -> Path:
    return write_case(folder, STUDENTS, SCHOOLS, PREFERENCES, config=config)


class Silent(Rule):
    """Active, and declares nothing about any shortcut."""

    name = "silent"
    order = 95


class FlowOnly(Rule):
    """Active, and keeps the program a flow (a rule that only closes nothing and costs nothing)."""

    name = "flow_only"
    order = 96

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        return shortcut == Shortcut.TRANSPORTATION


class Inactive(Rule):
    """Declares nothing, but is never switched on: it must not matter."""

    name = "inactive"
    order = 97

    def active(self, config: Config, instance: Instance) -> bool:
        return False


@dataclass(frozen=True)
class FeeSettings:
    weight: int = 3


FEE_SECTION = Section("fee", FeeSettings, {"weight": integer_reader(0)})


@contextmanager
def fee_section() -> Iterator[None]:
    """The new rule's config section, declared for the duration (a rule module does it once)."""
    SECTIONS["fee"] = FEE_SECTION
    try:
        yield
    finally:
        del SECTIONS["fee"]


class PerSchoolFee(Rule):
    """A new objective term and config section written only here: `fee: {weight: W}` costs W per
    student placed at school Z."""

    name = "fee"
    section = "fee"
    terms = ("school_fee",)
    order = 98

    def build(self, build: Build) -> None:
        seats = build.seats
        weight = 100 * FEE_SECTION.of(build.config).weight
        at_z = seats.school == int(np.flatnonzero(build.instance.school_ids == "Z")[0])
        build.formulation.add_term(term_from_pairs("school_fee", seats.var[at_z], np.full(int(at_z.sum()), weight)))

    def measure(self, outcome: Outcome) -> Measures:
        z = int(np.flatnonzero(outcome.instance.school_ids == "Z")[0])
        weight = 100 * FEE_SECTION.of(outcome.config).weight
        return Measures(terms={"school_fee": weight * int((outcome.school == z).sum())})

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        return shortcut == Shortcut.TRANSPORTATION  # a cost per placement keeps the flow a flow


def solved_log(config_path: Path) -> tuple[str, Any]:
    result = solve(load_config(config_path))
    return "\n".join(result.log), result


def test_the_registry_lists_every_rule_family_in_order() -> None:
    assert [rule.name for rule in RULES] == [
        "placement",
        "capacity",
        "distance",
        "compacts",
        "clusters",
        "diversity",
        "stability",
        "reserves",
        "families",
    ]
    assert RULES.terms() == (
        "rank",
        "unassigned",
        "distance",
        "broken_compact",
        "outside_cluster",
        "diversity",
        "blocking_pairs",
        "split_families",
    )


def test_every_registered_rule_declares_both_shortcuts(tmp_path: Path) -> None:
    # Each built-in rule says yes or no to each shortcut (None would silently disable it).
    config, instance = load_inputs(pure_case(tmp_path))
    for rule in RULES:
        for shortcut in Shortcut:
            assert rule.supports(shortcut, config, instance) in (True, False), (rule.name, shortcut)


def test_the_flow_shortcut_is_taken_without_a_new_rule(tmp_path: Path) -> None:
    log, result = solved_log(pure_case(tmp_path))
    assert FLOW in log
    assert result.status == "optimal"


def test_a_rule_that_does_not_declare_the_flow_shortcut_refuses_it(tmp_path: Path) -> None:
    config_path = pure_case(tmp_path)
    _, plain = solved_log(config_path)
    with RULES.registered(Silent()):
        config, instance = load_inputs(config_path)
        assert RULES.refusing(Shortcut.TRANSPORTATION, config, instance) == ["silent"]
        log, result = solved_log(config_path)
    assert FLOW not in log
    assert "not a transportation problem: silent in force" in log
    # Slower, never wrong: the same proven optimum by the general path.
    assert result.status == "optimal" and result.objective == plain.objective


def test_a_rule_that_declares_the_flow_shortcut_keeps_it(tmp_path: Path) -> None:
    with RULES.registered(FlowOnly()):
        log, _ = solved_log(pure_case(tmp_path))
    assert FLOW in log


def test_an_inactive_rule_is_not_asked(tmp_path: Path) -> None:
    with RULES.registered(Inactive()):
        log, _ = solved_log(pure_case(tmp_path))
    assert FLOW in log


def test_the_student_optimal_shortcut_is_taken_without_a_new_rule(tmp_path: Path) -> None:
    log, result = solved_log(pure_case(tmp_path, stability={"mode": "hard"}))
    assert STUDENT_OPTIMAL in log
    assert result.status == "optimal"


@pytest.mark.parametrize("rule", [Silent(), FlowOnly()], ids=lambda rule: rule.name)
def test_a_rule_that_does_not_declare_the_student_optimal_shortcut_refuses_it(tmp_path: Path, rule: Rule) -> None:
    config_path = pure_case(tmp_path, stability={"mode": "hard"})
    _, plain = solved_log(config_path)
    with RULES.registered(rule):
        config, instance = load_inputs(config_path)
        assert RULES.refusing(Shortcut.STUDENT_OPTIMAL, config, instance) == [rule.name]
        log, result = solved_log(config_path)
    assert STUDENT_OPTIMAL not in log
    assert result.status == "optimal" and result.objective == plain.objective


def test_a_new_term_is_solved_measured_reported_and_compared_from_its_rule_alone(tmp_path: Path) -> None:
    config_path = pure_case(tmp_path, fee={"weight": 5})
    with fee_section(), RULES.registered(PerSchoolFee()):
        log, result = solved_log(config_path)
        assert "school_fee" in RULES.terms()
        assert ("  school_fee", "terms.school_fee") in rows()
        metrics = result.metrics
        # The section is checked like any other, and written out in a run's config.yaml.
        assert resolved_config(result.config)["fee"] == {"weight": 5}
        with pytest.raises(ConfigError, match="unknown key 'wieght' in fee; did you mean 'weight'"):
            load_config(pure_case(tmp_path / "typo", fee={"wieght": 5}))
    # The flow still applies (the rule says so); the fee is what the assignment pays.
    assert FLOW in log
    assert metrics["terms"]["school_fee"] == 5.0 * result.assignment["school_id"].eq("Z").sum() > 0
    assert sum(metrics["terms"].values()) == pytest.approx(metrics["objective"])
    assert "school_fee" not in RULES.terms()
    with pytest.raises(ConfigError, match="unknown key 'fee'"):
        load_config(config_path)


def test_a_term_built_but_not_measured_stops_the_solve(tmp_path: Path) -> None:
    class Unmeasured(PerSchoolFee):
        name = "unmeasured"

        def measure(self, outcome: Outcome) -> Measures:
            return Measures(terms={"school_fee": 0})

    with fee_section(), RULES.registered(Unmeasured()), pytest.raises(RuntimeError, match="term school_fee"):
        solve(load_config(pure_case(tmp_path, objective={"unassigned": 100})))


def test_the_registry_refuses_a_second_rule_of_a_name_or_term() -> None:
    again = type("Again", (Silent,), {"name": "capacity"})()
    with pytest.raises(ValueError, match="registered already"):
        RULES.add(again)
    clash = type("Clash", (Rule,), {"name": "clash", "terms": ("rank",), "order": 99})()
    with pytest.raises(ValueError, match="rank"):
        RULES.add(clash)
    assert "clash" not in [rule.name for rule in RULES]


class AtMostOneAtZ(Rule):
    """A side row that happens to be called `capacity`: at most one student at school Z. It even
    claims, wrongly, to keep the program a flow; its row's role says otherwise."""

    name = "one_at_z"
    order = 99

    def build(self, build: Build) -> None:
        seats = build.seats
        at_z = np.flatnonzero(seats.school == int(np.flatnonzero(build.instance.school_ids == "Z")[0]))
        build.formulation.add_rows(
            rows_from_triplets(
                "capacity", Role.SIDE, 1, np.zeros(len(at_z)), seats.var[at_z], np.ones(len(at_z)), -np.inf, 1, str
            )
        )

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        return True


def test_rows_are_chosen_by_role_not_by_name(tmp_path: Path) -> None:
    config_path = pure_case(tmp_path)
    with RULES.registered(AtMostOneAtZ()):
        log, result = solved_log(config_path)
    # The flow would ignore a side row: the structure, read by role, keeps it out of the shortcut.
    assert FLOW not in log
    assert int(result.assignment["school_id"].eq("Z").sum()) == 1
    assert result.status == "optimal"


def test_a_rule_switched_on_with_nothing_to_do_leaves_the_flow_shortcut(tmp_path: Path) -> None:
    # Every student its own family (no family_id column): families together has nothing to keep.
    log, result = solved_log(pure_case(tmp_path, families={"together": "hard"}))
    assert FLOW in log and result.status == "optimal"


class WindowOnly(Rule):
    """Active; keeps the stable window, refuses the other shortcuts."""

    name = "window_only"
    order = 96

    def supports(self, shortcut: Shortcut, config: Config, instance: Instance) -> bool | None:
        return shortcut == Shortcut.STABLE_WINDOW


def test_a_rule_that_does_not_declare_the_stable_window_refuses_it(tmp_path: Path) -> None:
    # Without the student-optimal shortcut the window is the next exact step.
    config_path = pure_case(tmp_path, stability={"mode": "hard"})
    with RULES.registered(WindowOnly()):
        windowed, plain = solved_log(config_path)
    with RULES.registered(Silent()):
        log, result = solved_log(config_path)
    assert "no stable window" not in windowed
    assert "no stable window: silent in force" in log
    assert result.status == "optimal" and result.objective == plain.objective
