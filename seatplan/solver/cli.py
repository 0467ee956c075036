"""The `seatplan` command: thin click commands that parse, call and print.

Every SeatplanError is caught once, here, and printed as its lines (exit 2 for bad input, 1 when the
rules cannot all hold or no solution was found); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import click

from seatplan.models.errors import SeatplanError

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Print a SeatplanError as its lines and exit with its code, with no traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SeatplanError as error:
            for line in error.lines():
                click.echo(line, err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


class _Commands(click.Group):
    """The commands; `audit` (the independent auditor's own, audit/cli.py) is imported only when it
    runs, so `seatplan solve` does not load the auditor."""

    lazy = {"audit": ("seatplan.audit.cli", "audit_command")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, name = self.lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="seatplan")
def main() -> None:
    """Place students in schools from ranked choices, with parent compacts, community clusters
    and diversity bands, as one integer program."""
    logging.basicConfig(format="seatplan: %(message)s", level=logging.WARNING)


# ---------------------------------------------------------------------------------------------
# solve


class ProgressPrinter:
    """Best objective, bound and elapsed time on the terminal, at most twice a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.started = time.perf_counter()

    def __call__(self, objective: float | None, bound: float | None, seconds: float) -> None:
        now = time.perf_counter()
        if now - self.last < 0.5:
            return
        self.last = now
        best = "—" if objective is None else f"{objective / 100:,.2f}"
        proven = "—" if bound is None else f"{bound / 100:,.2f}"
        gap = ""
        if objective is not None and bound is not None:
            gap = f"  gap {max(0.0, objective - bound) / max(100.0, abs(objective)):.2%}"
        click.echo(f"  {now - self.started:6.1f}s  best {best:>14}  bound {proven:>14}{gap}", err=True)


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run folder to write (default runs/<config stem>).",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "cpsat", "pulp", "highs"]),
    help="Override solver.backend.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0, min_open=True),
    help="Override solver.time_limit (seconds).",
)
@click.option("--quiet", is_flag=True, help="No progress while solving.")
@click.option("--overwrite", is_flag=True, help="Replace the run folder if it exists.")
@reports_errors
def solve(
    config: Path,
    out: Path | None,
    backend: str | None,
    time_limit: float | None,
    quiet: bool,
    overwrite: bool,
) -> None:
    """Solve CONFIG and write a run folder."""
    from seatplan.models.data import load_inputs
    from seatplan.solver.run import check_destination, default_run_folder, write_run
    from seatplan.solver.solve import exit_code
    from seatplan.solver.solve import solve as run_solve

    started = time.perf_counter()
    settings, instance = load_inputs(config)
    read_seconds = time.perf_counter() - started
    folder = out or default_run_folder(config)
    check_destination(folder, overwrite)
    for warning in instance.warnings:
        click.echo(f"warning: {warning}", err=True)
    progress = None if quiet else ProgressPrinter()
    if not quiet:
        click.echo(f"solving {settings.name} …", err=True)
    if backend is not None:
        # Into the config, so the run folder's config.yaml records the backend that was asked for.
        settings = replace(settings, solver=replace(settings.solver, backend=backend))
    result = run_solve(settings, instance=instance, time_limit=time_limit, progress=progress)
    # The data were read here, before the solve, so that time is added to the solve's own clock.
    result.seconds = {
        "read": round(read_seconds, 3),
        **result.seconds,
        "total": round(result.seconds.get("total", 0.0) + read_seconds, 3),
    }
    if not result.solved:
        click.echo(_unsolved_message(result), err=True)
        sys.exit(exit_code(result))
    write_run(result, folder, overwrite=overwrite)
    click.echo(summary_text(result, folder))
    sys.exit(exit_code(result))


def _unsolved_message(result: Any) -> str:
    if result.status == "infeasible":
        return (
            f"{result.config.name}: infeasible — the hard rules cannot all hold at once "
            f"(proven by {result.backend}). Relax one of the hard rules in force "
            f"({'; '.join(_hard_rules(result.config))}) and solve again. No run folder was written."
        )
    return (
        f"{result.config.name}: no solution found within {result.config.solver.time_limit:g} s "
        f"({result.backend}). Raise solver.time_limit or --time-limit. No run folder was written."
    )


def _hard_rules(config: Any) -> list[str]:
    """The config's hard settings, by their keys, for the infeasible message."""
    rules = []
    if config.stability.mode == "hard":
        rules.append("stability.mode")
    if config.families.together == "hard":
        rules.append("families.together")
    if config.clusters.mode == "hard":
        rules.append("clusters.mode")
    rules += [f"diversity[{i}].mode" for i, rule in enumerate(config.diversity) if rule.mode == "hard"]
    if config.stability.mode == "hard" and config.data.compacts is not None:
        rules.append("compacts: a member of a compact not honored still envies its compact's school if it listed it")
    return rules or ["none is hard: please report this as a bug"]


def summary_text(result: Any, folder: Path | None) -> str:
    """The short table printed after a solve."""
    from seatplan.models.evaluate import rule_shortfalls
    from seatplan.models.formulation import TERMS
    from seatplan.models.rules.diversity import band, units
    from seatplan.solver.solve import summary_numbers

    evaluation = result.evaluation
    instance = result.instance
    numbers = summary_numbers(result)
    placed = int((result.assignment.school >= 0).sum())
    n = instance.n_students
    proof = {
        "optimal": " — proven: no assignment costs less",
        "feasible": " — the best found, not proven optimal",
        "stable": " — deferred acceptance: the student-optimal stable matching, without compacts or bands",
    }.get(result.status, "")
    how = result.backend + (", after fallback" if result.fallback else "")
    lines = [f"{result.config.name}: {result.status} ({how}) in {result.seconds.get('total', 0):.1f} s{proof}"]
    bound = (
        f"bound {result.bound:,.2f}, gap {result.gap:.2%}"
        if result.bound is not None
        else "what the config's weights make of it"
        if result.status == "stable"
        else "no bound known"
    )
    lines.append(f"  {'objective':<18}{result.objective:>12,.2f}   ({bound})")
    for name in TERMS:
        value = evaluation.terms.get(name, 0) / 100
        if value:
            lines.append(f"    {name:<16}{value:>12,.2f}")
    lines.append(f"  {'students':<18}{n:>12,}   placed {placed:,}, unplaced {n - placed:,}")
    lines.append(
        f"  {'first choice':<18}{numbers['first_choice_pct']:>11.1f}%   top three "
        f"{numbers['top3_pct']:.1f}%, mean position {numbers['mean_position']:.2f}"
    )
    if instance.n_compacts:
        honored = evaluation.honored
        lines.append(
            f"  {'compacts':<18}{int(honored.sum()):>12,}   honored of {instance.n_compacts:,} "
            f"({int(instance.compact_family_count[honored].sum()):,} of "
            f"{int(instance.compact_family_count.sum()):,} families)"
        )
    for number, rule in enumerate(result.config.diversity):
        short = rule_shortfalls(instance, rule, result.assignment.school)
        lo, hi = band(instance, rule)
        names = units(instance, rule.scope).names
        outside = int((short > 0).sum())
        detail = (
            f"{outside} {rule.scope}{'s' if outside != 1 else ''} outside [{lo}, {hi}]%, "
            f"worst {names[int(short.argmax())]} short by {short.max() / 100:g} students"
            if outside
            else f"every {rule.scope} inside [{lo}, {hi}]%"
        )
        label = "diversity" if number == 0 else ""
        lines.append(f"  {label:<18}{rule.attribute}={rule.category} by {rule.scope} ({rule.mode}): {detail}")
    config = result.config
    if config.stability.mode != "off" or config.mechanism == "deferred_acceptance":
        from seatplan.models.rules.stability import blocking_pairs

        envious, _ = blocking_pairs(instance, config, result.assignment.school, result.assignment.via_compact)
        lines.append(f"  {'blocking pairs':<18}{len(envious):>12,}   (stability {config.stability.mode})")
    if config.families.together != "off":
        from seatplan.models.rules.families import split_families

        split = len(split_families(instance, result.assignment.school))
        lines.append(f"  {'split families':<18}{split:>12,}   (families together {config.families.together})")
    if folder is not None:
        lines.append(f"  {'run folder':<18}{folder}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# validate


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@reports_errors
def validate(config: Path) -> None:
    """Check CONFIG and its data files; print every problem as file:line: message."""
    from seatplan.models.data import load_inputs
    from seatplan.models.formulation import build_model

    settings, instance = load_inputs(config)
    for warning in instance.warnings:
        click.echo(f"warning: {warning}", err=True)
    model = build_model(instance, settings)
    click.echo(
        f"{settings.display_name}: ok — {instance.n_students:,} students, {instance.n_schools:,} schools, "
        f"{len(instance.clusters)} clusters, {instance.n_compacts} compacts "
        f"({int(instance.compact_family_count.sum())} families), {len(settings.diversity)} diversity rules; "
        f"{model.formulation.n_vars:,} variables, {model.formulation.n_rows:,} rows"
    )


# ---------------------------------------------------------------------------------------------
# compare


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="For configs solved here.")
@reports_errors
def compare(runs: tuple[Path, ...], fmt: str, time_limit: float | None) -> None:
    """Metrics of run folders (read) or configs (solved here, nothing written), side by side."""
    from seatplan.solver.compare import collect, render

    columns = collect(runs, time_limit=time_limit)
    click.echo(render(columns, fmt))


# ---------------------------------------------------------------------------------------------
# generate


@main.command()
@click.argument("outdir", type=click.Path(path_type=Path))
@click.option("--students", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--schools", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--clusters", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--compact-share",
    type=click.FloatRange(0, 1),
    default=0.03,
    show_default=True,
    help="Share of students in compacts.",
)
@click.option(
    "--choices",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Longest ranked list (lists have 3 to this many schools).",
)
@click.option("--grades", type=str, default="", help="Comma-separated grades (e.g. K,6,9); none by default.")
@click.option("--overwrite", is_flag=True, help="Replace OUTDIR if it exists.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Where to write the config (default OUTDIR/config.yaml); its data paths are relative to it.",
)
@reports_errors
def generate(
    outdir: Path,
    students: int,
    schools: int,
    clusters: int,
    seed: int,
    compact_share: float,
    choices: int,
    grades: str,
    overwrite: bool,
    config_path: Path | None,
) -> None:
    """Write a synthetic but realistic district and a config that solves into OUTDIR."""
    from seatplan.models.generate import DistrictSpec, write_district

    spec = DistrictSpec(
        students=students,
        schools=schools,
        clusters=clusters,
        seed=seed,
        compact_share=compact_share,
        max_choices=choices,
        grades=tuple(g.strip() for g in grades.split(",") if g.strip()),
    )
    config_path = write_district(spec, outdir, overwrite=overwrite, config_path=config_path)
    click.echo(f"wrote {outdir}: {students:,} students, {schools:,} schools, {clusters} clusters; config {config_path}")


# ---------------------------------------------------------------------------------------------


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2)


if __name__ == "__main__":
    main()
