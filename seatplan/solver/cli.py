"""The `seatplan` command: thin click commands that parse, call and print.

Every SeatplanError is caught once, here, and printed as its lines (exit 2 for bad input, 1 when the
rules cannot all hold or no solution was found); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import functools
import json
import logging
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from tqdm import tqdm

from seatplan.auditor.cli import audit_command
from seatplan.models.classrooms import check_inputs as check_section_inputs
from seatplan.models.classrooms import load_settings as load_section_settings
from seatplan.models.config import Backend
from seatplan.models.data import load_inputs
from seatplan.models.errors import InfeasibleError, InputError, Interrupted, Problem, SeatplanError
from seatplan.models.formulation import build_model
from seatplan.models.generate import DistrictSpec, write_district
from seatplan.solver import interrupt
from seatplan.solver.classrooms import section_folder, sections_summary
from seatplan.solver.compare import collect, render
from seatplan.solver.explain import (
    COST_TIME_LIMIT,
    cutoff_table,
    explain_all,
    explain_student,
    read_student_list,
    render_table,
)
from seatplan.solver.explain.cutoffs import NOT_MEANINGFUL_WHY, fills_in_order
from seatplan.solver.explain.infeasibility import find_conflict, infeasibility_path, write_conflict
from seatplan.solver.explain.price import price_rules
from seatplan.solver.metrics import summary_text
from seatplan.solver.report import build_report, default_report_path, write_sweep_report
from seatplan.solver.report.sweep import is_sweep_folder
from seatplan.solver.result import Result, infeasible_message
from seatplan.solver.rosters import write_rosters
from seatplan.solver.run import check_destination, claim_destination, default_run_folder, write_text_whole
from seatplan.solver.runfolder import read_run
from seatplan.solver.simulate import probabilities as simulation_probabilities
from seatplan.solver.simulate import read_lotteries, write_simulation
from seatplan.solver.simulate import simulate as simulate_draws
from seatplan.solver.simulate import summary as simulation_summary
from seatplan.solver.solve import solve as run_solve
from seatplan.solver.status import Status
from seatplan.solver.sweep import FIGURES as SWEEP_FIGURES
from seatplan.solver.sweep import draw_frontier, pareto, read_sweep, run_sweep, write_points, write_sweep_about
from seatplan.solver.sweep import failed as failed_points

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
        except KeyboardInterrupt:
            click.echo("seatplan: interrupted", err=True)
            sys.exit(interrupt.exit_code(signal.SIGINT))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option("0.1.0", prog_name="seatplan")
def main() -> None:
    """Place students in schools from ranked choices, with parent compacts, community clusters
    and diversity bands, as one integer program."""
    logging.basicConfig(format="seatplan: %(message)s", level=logging.WARNING)


# ---------------------------------------------------------------------------------------------
# solve


def command_line(ctx: click.Context) -> str:
    """The command as it was given (its arguments, and the options set on the command line)."""
    words = ["seatplan", *ctx.command_path.split()[1:]]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if isinstance(param, click.Argument):
            words += [str(v) for v in value] if isinstance(value, tuple) else [str(value)]
        elif ctx.get_parameter_source(param.name or "") == click.core.ParameterSource.COMMANDLINE:
            flag = param.opts[0]
            words += [flag] if getattr(param, "is_flag", False) else [flag, str(value)]
    return shlex.join(words)


class ProgressPrinter:
    """Best objective, bound and elapsed time on the terminal, at most twice a second. An update
    that comes too soon after the last line is not lost: it is printed half a second after that line
    unless a newer one replaces it (a phase that reports a bound and then works for a minute — HiGHS
    on a face — must not leave the terminal showing the state before it)."""

    def __init__(self) -> None:
        self.last = 0.0
        self.started = time.perf_counter()
        self.pending: tuple[float | None, float | None] | None = None
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()

    def __call__(self, objective: float | None, bound: float | None, seconds: float) -> None:
        with self.lock:
            wait = self.last + 0.5 - time.perf_counter()
            if wait > 0:
                self.pending = (objective, bound)
                if self.timer is None:
                    self.timer = threading.Timer(wait, self._flush)
                    self.timer.daemon = True
                    self.timer.start()
                return
            self._print(objective, bound)

    def _flush(self) -> None:
        with self.lock:
            self.timer = None
            if self.pending is not None:
                self._print(*self.pending)

    def _print(self, objective: float | None, bound: float | None) -> None:
        self.pending = None
        now = time.perf_counter()
        self.last = now
        best = "—" if objective is None else f"{objective / 100:,.2f}"
        proven = "—" if bound is None else f"{bound / 100:,.2f}"
        gap = ""
        if objective is not None and bound is not None:
            gap = f"  gap {max(0.0, objective - bound) / max(100.0, abs(objective)):.2%}"
        click.echo(f"  {now - self.started:6.1f}s  best {best:>14}  bound {proven:>14}{gap}", err=True)

    def close(self) -> None:
        """Print what is pending (the last state before the summary) and stop the timer."""
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.pending is not None:
                self._print(*self.pending)


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
@click.option("--report", "with_report", is_flag=True, help="Also write report.html into the run folder.")
@reports_errors
def solve(
    config: Path,
    out: Path | None,
    backend: str | None,
    time_limit: float | None,
    quiet: bool,
    overwrite: bool,
    with_report: bool,
) -> None:
    """Solve CONFIG and write a run folder."""
    started = time.perf_counter()
    settings, instance = load_inputs(config)
    check_section_inputs(settings, instance)  # the classroom stage's files, before a long solve
    read_seconds = time.perf_counter() - started
    folder = out or default_run_folder(config)
    check_destination(folder, overwrite)
    for warning in instance.warnings:
        click.echo(f"warning: {warning}", err=True)
    progress = None if quiet else ProgressPrinter()
    if backend is not None:
        # Into the config, so the run folder's config.yaml records the backend that was asked for.
        settings = replace(settings, solver=replace(settings.solver, backend=cast(Backend, backend)))
    # Ctrl-C or SIGTERM stops the search and writes the best found (solver/interrupt.py); the run
    # folder is this process's until it is written, so a second solve to it fails at once.
    with interrupt.interruptible(abort_after_stop=True), claim_destination(folder, overwrite):
        if not quiet:
            click.echo(f"solving {settings.name} …", err=True)
        result = run_solve(
            settings,
            instance=instance,
            time_limit=time_limit,
            progress=progress,
            read_seconds=read_seconds,
            command=command_line(click.get_current_context()),
        )
        if progress is not None:
            progress.close()
        stopped_by = interrupt.requested()
        if stopped_by is not None and not result.solved:
            raise Interrupted(
                f"{settings.name}: no_solution — interrupted before a first solution was found. "
                f"No run folder was written.",
                interrupt.exit_code(stopped_by),
            )
        if result.status == Status.INFEASIBLE and stopped_by is None:
            explain_infeasible(result, folder)
        # No solution: the error says so (exit 1) and nothing is written.
        result.save(folder, overwrite=overwrite, report=with_report)
    click.echo(summary_text(result, folder))
    if result.sectioning is not None:
        click.echo(sections_summary(result.sectioning, None))
    if with_report:
        click.echo(f"  {'report':<18}{folder / 'report.html'}")
    if stopped_by is not None:
        sys.exit(interrupt.exit_code(stopped_by))


def explain_infeasible(result: Result, folder: Path) -> None:
    """Which hard rules collide, in the config's words: printed, written as infeasibility.json next
    to where the run folder would have been, and raised (exit 1; no run folder)."""
    click.echo("infeasible: looking for the hard rules that collide …", err=True)
    config = result.config
    budget = min(5 * config.solver.time_limit, 600.0)
    conflict = find_conflict(
        config, result.instance, time_limit=budget, progress=lambda line: click.echo(f"  {line}", err=True)
    )
    if conflict is None:
        raise InfeasibleError(infeasible_message(result))
    path = infeasibility_path(folder)
    replaced = path.exists()
    write_conflict(conflict, config.name, path)
    lines = conflict.sentences(config.name)
    lines.append(f"Wrote {path}{' (replacing the one there)' if replaced else ''}. No run folder was written.")
    raise InfeasibleError("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# validate


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@reports_errors
def validate(config: Path) -> None:
    """Check CONFIG and its data files; print every problem as file:line: message."""
    settings, instance = load_inputs(config)
    for warning in instance.warnings:
        click.echo(f"warning: {warning}", err=True)
    check_section_inputs(settings, instance)
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
    columns = collect(runs, time_limit=time_limit)
    click.echo(render(columns, fmt))


# ---------------------------------------------------------------------------------------------
# report


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="HTML file to write (default: report.html in the run folder; for several runs, a file beside the first).",
)
@click.option(
    "--suppress",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Show a count of fewer than N students as <N, and hide percentages computed from it (0: off).",
)
@click.option("--xlsx", type=click.Path(path_type=Path), help="Also write the tables as an Excel workbook.")
@click.option("--title", type=str, help="The report's title (default: seatplan — <run name>).")
@click.option(
    "--allow-changed-data", is_flag=True, help="Report on a run whose data files changed since, with a warning."
)
@click.option("--overwrite", is_flag=True, help="Replace the report (and workbook) if they exist.")
@reports_errors
def report(
    runs: tuple[Path, ...],
    out: Path | None,
    suppress: int,
    xlsx: Path | None,
    title: str | None,
    allow_changed_data: bool,
    overwrite: bool,
) -> None:
    """An HTML report of RUNS (run folders; the first is the reference the others are compared with),
    or of one sweep folder (written by seatplan sweep)."""
    folders = list(runs)
    if len(folders) == 1 and is_sweep_folder(folders[0]):
        target = out or folders[0] / "report.html"
        write_sweep_report(folders[0], target, title=title, overwrite=overwrite)
        click.echo(f"wrote {target}")
        return
    target = out or default_report_path(folders)
    built = build_report(folders, suppress=suppress, title=title, allow_changed_data=allow_changed_data)
    built.write(target, xlsx=xlsx, overwrite=overwrite)
    for warning in built.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {target}" + (f" and {xlsx}" if xlsx is not None else ""))


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
# explain and cutoffs


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("student_id", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (or, with --rules, the table as JSON).")
@click.option("--all", "every", is_flag=True, help="Every student's reasons, written as a CSV file.")
@click.option(
    "--out", type=click.Path(path_type=Path), help="With --all: the CSV file (default RUN_DIR/explanations.csv)."
)
@click.option(
    "--students",
    "students_file",
    type=click.Path(path_type=Path),
    help="With --all: the students (a student_id column) whose costs are re-solved (optimised runs).",
)
@click.option("--rules", "price", is_flag=True, help="The price of every rule in force: re-solve with each one off.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), help="Seconds for each re-solve.")
@click.option("--jobs", type=click.IntRange(min=1), help="With --rules: re-solves side by side (default: the cores).")
@click.option("--overwrite", is_flag=True, help="With --all: replace the CSV file if it exists.")
@reports_errors
def explain(
    run_dir: Path,
    student_id: str | None,
    as_json: bool,
    every: bool,
    out: Path | None,
    students_file: Path | None,
    price: bool,
    fmt: str,
    time_limit: float | None,
    jobs: int | None,
    overwrite: bool,
) -> None:
    """Why a student was placed where it was (STUDENT_ID), every student's reasons (--all), or the
    price of every rule in force (--rules)."""
    chosen = sum([student_id is not None, every, price])
    if chosen != 1:
        raise click.UsageError("give one of STUDENT_ID, --all or --rules")
    run = read_run(run_dir)
    limit = time_limit if time_limit is not None else COST_TIME_LIMIT
    if price:
        table = price_rules(run, jobs=jobs, time_limit=time_limit)
        click.echo(render_table(table.frame, "json" if as_json else fmt))
        return
    if every:
        with_costs = read_student_list(students_file, run) if students_file is not None else None
        target = out or run_dir / "explanations.csv"
        if target.exists() and not overwrite:
            raise InputError([Problem(str(target), None, "exists already; pass --overwrite to replace it")])
        text = explain_all(run, with_costs, time_limit=limit)
        write_text_whole(target, text)
        click.echo(f"wrote {target}: {run.instance.n_students:,} students")
        return
    assert student_id is not None
    explanation = explain_student(run, student_id, time_limit=limit)
    if as_json:
        click.echo(json.dumps(explanation.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(explanation.text())


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table")
@reports_errors
def cutoffs(run_dir: Path, fmt: str) -> None:
    """Per school and grade: seats, applicants, placed, the cutoff (last admitted) and the waitlist."""
    run = read_run(run_dir)
    click.echo(render_table(cutoff_table(run), fmt))
    if fmt in ("table", "markdown") and not fills_in_order(run):
        why = NOT_MEANINGFUL_WHY
        if run.config.is_mechanism:
            why = (
                f"Cutoffs are not meaningful here: {run.config.mechanism} does not admit students in each school's "
                "order (cutoffs exist for deferred acceptance and for plans with stability: hard)"
            )
        click.echo(f"\n{why}.")


# ---------------------------------------------------------------------------------------------
# sweep


@main.command()
@click.argument("sweep_file", type=click.Path(path_type=Path))
@click.option("--jobs", type=click.IntRange(min=1), help="Points solved side by side (default: the cores).")
@click.option("--dask", "dask_address", help="A dask.distributed scheduler's address, or 'local' for a LocalCluster.")
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default runs/<sweep file stem>).")
@click.option("--keep-runs", is_flag=True, help="Keep every point's run folder (OUT/runs/point-N).")
@click.option("--frontier", help="X,Y: mark the points no other beats on both (smaller is better) and draw the curve.")
@click.option("--report", "with_report", is_flag=True, help="Also write report.html (the curve and every point).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def sweep(
    sweep_file: Path,
    jobs: int | None,
    dask_address: str | None,
    out: Path | None,
    keep_runs: bool,
    frontier: str | None,
    with_report: bool,
    quiet: bool,
) -> None:
    """Solve one district under many settings (a grid or a list of points, lottery seeds,
    mechanisms): points.csv with every point's figures; resumable."""
    plan = read_sweep(sweep_file)
    axes = _frontier_axes(frontier, ["point", *plan.keys, "seed", "mechanism", *SWEEP_FIGURES])
    folder = out or Path("runs") / sweep_file.stem
    started = time.perf_counter()
    bar = None if quiet else tqdm(total=len(plan.points), desc=sweep_file.stem, unit="point", file=sys.stderr)
    failures = [0]

    def tick(failed: bool) -> None:
        failures[0] += failed
        if bar is not None:
            bar.update(1)
            bar.set_postfix(failed=failures[0])

    try:
        frame = run_sweep(plan, folder, jobs=jobs, dask=dask_address, keep_runs=keep_runs, progress=tick)
    finally:
        if bar is not None:
            bar.close()
    if axes is not None:
        frame["frontier"] = pareto(frame, *axes)
        write_points(frame, folder)
        pictures = draw_frontier(frame, *axes, folder / "frontier")
    write_sweep_about(plan, folder, axes)
    if with_report:
        write_sweep_report(folder, folder / "report.html", overwrite=True)
    errors = int((frame["status"] == "error").sum())
    ran = bar.n if bar is not None else None
    fresh = "" if ran is None else f", {ran:,} solved now ({len(frame) - ran:,} done before)"
    click.echo(
        f"{sweep_file.stem}: {len(frame):,} points{fresh}, {errors} failed, in "
        f"{time.perf_counter() - started:.1f} s — {folder / 'points.csv'}"
    )
    if axes is not None:
        click.echo(f"  frontier: {int(frame['frontier'].sum())} efficient points — {', '.join(map(str, pictures))}")
    if with_report:
        click.echo(f"  report: {folder / 'report.html'}")
    for line in list(failed_points(frame))[:5]:
        click.echo(f"  {line}", err=True)


def _frontier_axes(frontier: str | None, columns: list[str]) -> tuple[str, str] | None:
    """--frontier X,Y checked against the columns points.csv will have, before anything runs."""
    if frontier is None:
        return None
    parts = [part.strip() for part in frontier.split(",")]
    if len(parts) != 2 or not all(parts):
        raise InputError([Problem("--frontier", None, f"expected two columns X,Y, got {frontier!r}")])
    unknown = [part for part in parts if part not in columns]
    if unknown:
        raise InputError(
            [Problem("--frontier", None, f"expected columns of points.csv ({', '.join(columns)}), got {unknown[0]!r}")]
        )
    return parts[0], parts[1]


# ---------------------------------------------------------------------------------------------
# simulate


@main.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option(
    "--draws", type=click.IntRange(min=1), help="Lottery draws (default 100; with --lotteries, one per column)."
)
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: the cores).")
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default runs/<config stem>-simulation).")
@click.option(
    "--lotteries",
    type=click.Path(path_type=Path),
    help="Lottery numbers given: student_id and one column per draw (in place of the seeded draws).",
)
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--dask", "dask_address", help="A dask.distributed scheduler's address, or 'local' for a LocalCluster.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@reports_errors
def simulate(
    config: Path,
    draws: int | None,
    jobs: int | None,
    out: Path | None,
    lotteries: Path | None,
    overwrite: bool,
    dask_address: str | None,
    quiet: bool,
) -> None:
    """Run CONFIG's lottery many times: every student's chance at each school it listed, every
    school's chance of filling and its cutoffs, every compact's chance of being honored."""
    started = time.perf_counter()
    settings, instance = load_inputs(config)
    folder = out or Path("runs") / f"{config.stem}-simulation"
    check_destination(folder, overwrite)
    given = read_lotteries(lotteries, instance) if lotteries is not None else None
    if given is not None:
        draws = given.shape[1] if draws is None else min(draws, given.shape[1])
    elif draws is None:
        draws = 100
    if quiet:
        counts = simulate_draws(settings, instance, draws, jobs=jobs, lotteries=given, dask=dask_address)
    else:
        with click.progressbar(length=draws, label=f"{settings.name}: {draws:,} draws", file=sys.stderr) as bar:
            counts = simulate_draws(
                settings, instance, draws, jobs=jobs, lotteries=given, progress=bar.update, dask=dask_address
            )
    seconds = time.perf_counter() - started
    table = simulation_probabilities(instance, counts)
    document = simulation_summary(settings, instance, counts, seconds, given is not None)
    write_simulation(folder, table, document, overwrite)
    failed = f", {len(counts.failed)} failed" if counts.failed else ""
    click.echo(
        f"{settings.name}: {counts.draws:,} draws{failed} in {seconds:.1f} s — {len(table):,} (student, school) "
        f"chances written to {folder}/probabilities.csv, schools and compacts to {folder}/summary.json"
    )


# ---------------------------------------------------------------------------------------------
# sections and rosters


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--config",
    "sections_config",
    type=click.Path(path_type=Path),
    help="A YAML file with a sections: block (its paths relative to it); default: the run's own config's.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Write a sectioned copy of the run folder here and leave RUN_DIR as it is.",
)
@click.option("--overwrite", is_flag=True, help="Replace the classrooms of a run sectioned before (or --out).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes solving schools and grades side by side (default: every core this process may use).",
)
@reports_errors
def sections(
    run_dir: Path, sections_config: Path | None, out: Path | None, overwrite: bool, workers: int | None
) -> None:
    """Place every student RUN_DIR places at a school in one of its classrooms (the classroom stage)."""
    settings = load_section_settings(sections_config) if sections_config is not None else None
    sectioning, folder = section_folder(run_dir, settings, out=out, overwrite=overwrite, workers=workers)
    click.echo(sections_summary(sectioning, folder))


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--families",
    type=click.Path(path_type=Path),
    help="families.csv (family_id,display_name,consent): the names of compact families that consent to be shown.",
)
@click.option("--overwrite", is_flag=True, help="Replace rosters.csv if the run has one.")
@reports_errors
def rosters(run_dir: Path, families: Path | None, overwrite: bool) -> None:
    """What a family is shown before choosing: each compact classroom of RUN_DIR (a sectioned run),
    the compact in it, the seats it leaves for others, and the classrooms without a compact."""
    written = write_rosters(run_dir, families, overwrite=overwrite)
    click.echo(written.summary())


main.add_command(audit_command)

if __name__ == "__main__":
    main()
