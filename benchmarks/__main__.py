"""`python -m benchmarks run` and `python -m benchmarks table`.

    python -m benchmarks run [--instances district,metro,pure] [--seeds 0,1,2]
                             [--methods seatplan,textbook,pulp_cbc,pulp_highs,flow]
                             [--baseline-limit 300] [--out benchmarks/results/latest.json]
    python -m benchmarks table benchmarks/results/latest.json

Every method runs on the same instance, one after the other, each in its own process: its peak
resident memory (RSS) is read from the kernel when it ends. Medians over seeds; runs that did not
reach a 1% gap or a solution stay in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.canonical import main_canonical
from benchmarks.explain import main_explain
from benchmarks.instances import INSTANCES
from benchmarks.report import main_report
from benchmarks.sections import main_sections
from benchmarks.simulate import main_simulate

METHODS = ("seatplan", "textbook", "pulp_cbc", "pulp_highs", "flow")
#: Every method the worker knows (issue 18 adds DA end to end, the matching package's DA and HiGHS
#: directly); `run` takes any of them with --methods.
ALL_METHODS = (*METHODS, "da", "matching_da", "highs_1", "highs_2")
RESULTS = Path(__file__).resolve().parent / "results"


def run_one(method: str, config: Path, time_limit: float) -> dict[str, Any]:
    """One worker process: its JSON, its wall time, its peak RSS (MB, from the kernel's rusage)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.worker", method, str(config), str(time_limit)],
            stdout=out,
            stderr=err,
            text=True,
        )
        # A hard stop well past the method's own limit: a solver that ignores its limit is a result too.
        deadline = started + time_limit * 2 + 120
        usage = None
        killed = False
        while True:
            pid, _, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                _, _, usage = os.wait4(process.pid, 0)
                killed = True
                break
            time.sleep(0.1)
        process.returncode = 0  # reaped above; keep Popen from waiting again
        wall = round(time.perf_counter() - started, 3)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    try:
        record = json.loads(text.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        status = "killed: no result by twice its time limit" if killed else "crashed"
        record = {"method": method, "status": status, "error": (errors or text)[-500:]}
    record["wall"] = wall
    record["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    return record


def main_run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    results: list[dict[str, Any]] = json.loads(out.read_text()) if out.exists() and args.resume else []
    done = {(r["instance"], r["seed"], r["method"]) for r in results}
    for name in args.instances.split(","):
        instance = INSTANCES[name]
        for seed in (int(s) for s in args.seeds.split(",")):
            config = instance.config(seed)
            for method in args.methods.split(","):
                if (name, seed, method) in done:
                    continue
                if instance.pure and method == "flow":
                    limit = instance.time_limit
                else:
                    limit = instance.time_limit if method in ("seatplan", "da") else args.baseline_limit
                record = run_one(method, config, limit)
                record.update({"instance": name, "seed": seed, "time_limit": limit})
                results.append(record)
                print(json.dumps(record), flush=True)
                out.write_text(json.dumps(results, indent=1))


def _median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    if len(present) * 2 <= len(values) and values:
        return None  # not reached in most runs: the median run did not reach it
    return statistics.median(present) if present else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table: one row per instance and method, medians over seeds."""
    rows = [
        "| instance | method | seeds | build s | first solution s | proven 1% gap s | proven 0.1% s | proven 0.05% s "
        "| proven optimal s "
        "| wall s "
        "| objective | bound | gap | peak RSS MB | status |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    keys = list(dict.fromkeys((r["instance"], r["method"]) for r in results))
    for instance, method in keys:
        group = [r for r in results if r["instance"] == instance and r["method"] == method]
        statuses = ", ".join(
            f"{s}×{sum(1 for r in group if r.get('status') == s)}"
            for s in dict.fromkeys(r.get("status") for r in group)
        )
        gap = _median([r.get("gap") for r in group])
        rows.append(
            f"| {instance} | {method} | {len(group)} | {_fmt(_median([r.get('build') for r in group]))} "
            f"| {_fmt(_median([r.get('first_solution') for r in group]))} "
            f"| {_fmt(_median([r.get('gap_1pct') for r in group]))} "
            f"| {_fmt(_median([r.get('gap_01pct') for r in group]))} "
            f"| {_fmt(_median([r.get('gap_005pct') for r in group]))} "
            f"| {_fmt(_median([r.get('proven_optimal') for r in group]))} "
            f"| {_fmt(_median([r.get('wall') for r in group]))} "
            f"| {_fmt(_median([r.get('objective') for r in group]), 2)} "
            f"| {_fmt(_median([r.get('bound') for r in group]), 2)} "
            f"| {'—' if gap is None else f'{gap:.2%}'} "
            f"| {_fmt(_median([r.get('peak_rss_mb') for r in group]), 0)} | {statuses} |"
        )
    return "\n".join(rows)


def ratios(results: list[dict[str, Any]]) -> str:
    """Time to a proven 1% gap (and, where seatplan proved the optimum, to a proven optimum), each
    baseline over seatplan, per instance and seed, then the median."""
    lines = []
    for instance in dict.fromkeys(r["instance"] for r in results):
        ours = {r["seed"]: r for r in results if r["instance"] == instance and r["method"] == "seatplan"}
        for key, words in (("gap_1pct", "a proven 1% gap"), ("proven_optimal", "a proven optimum")):
            for method in ("textbook", "pulp_cbc", "pulp_highs", "highs_1", "highs_2"):
                line = _ratio(results, ours, instance, method, key)
                if line:
                    lines.append(f"- {instance}: {method} takes {line} seatplan's time to {words}")
    return "\n".join(lines)


def _ratio(results: list[dict[str, Any]], ours: dict[int, dict[str, Any]], instance: str, method: str, key: str) -> str:
    """The median ratio of `method`'s time to `key` over seatplan's, seed by seed ("" if none)."""
    values, floors = [], []
    for r in results:
        if r["instance"] != instance or r["method"] != method or r["seed"] not in ours:
            continue
        mine = ours[r["seed"]].get(key)
        if mine is None:
            continue
        if r.get(key) is not None:
            values.append(r[key] / mine)
        else:  # never got there: at least its whole run
            floors.append(r.get("wall", r.get("time_limit", 0)) / mine)
    if not values and not floors:
        return ""
    every = values + floors
    text = f"{statistics.median(every):,.0f}×"
    if floors:
        text = f"≥ {text} ({len(floors)} of {len(every)} runs never got there)"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run")
    run.add_argument("--instances", default="district,metro,pure")
    run.add_argument("--seeds", default="0,1,2")
    run.add_argument("--methods", default=",".join(METHODS))
    run.add_argument("--baseline-limit", type=float, default=300.0)
    run.add_argument("--out", default=str(RESULTS / "latest.json"))
    run.add_argument("--resume", action="store_true", help="keep finished runs of --out and do the rest")
    show = commands.add_parser("table")
    show.add_argument("results", nargs="?", default=str(RESULTS / "latest.json"))
    report = commands.add_parser("report", help="time `seatplan report` on solved instances")
    report.add_argument("--instances", default="metro")
    report.add_argument("--seeds", default="0")
    report.add_argument("--out", default=str(RESULTS / "latest-report.json"))
    explain = commands.add_parser("explain", help="time `seatplan explain --all` and `cutoffs` on DA runs")
    explain.add_argument("--instances", default="district")
    explain.add_argument("--seeds", default="0,1,2")
    explain.add_argument("--repeats", type=int, default=3)
    explain.add_argument("--out", default=str(RESULTS / "latest-explain.json"))
    simulate = commands.add_parser("simulate", help="time `seatplan simulate` (DA draws) against `matching`")
    simulate.add_argument("--draws", type=int, default=1000)
    simulate.add_argument("--repeats", type=int, default=3)
    simulate.add_argument("--reference-draws", type=int, default=20)
    simulate.add_argument("--out", default=str(RESULTS / "latest-simulate.json"))
    sections = commands.add_parser("sections", help="time `seatplan sections` on solved instances")
    sections.add_argument("--instances", default="metro")
    sections.add_argument("--seeds", default="0")
    sections.add_argument("--repeats", type=int, default=3)
    sections.add_argument("--out", default=str(RESULTS / "latest-sections.json"))
    canonical = commands.add_parser("canonical", help="what the tie-break phase adds to a proven optimum")
    canonical.add_argument("--instances", default="demo,pure,district_stable_nocompacts,district")
    canonical.add_argument("--seeds", default="0,1,2")
    canonical.add_argument("--repeats", type=int, default=3)
    canonical.add_argument("--time-limit", type=float, default=None)
    canonical.add_argument("--out", default=str(RESULTS / "latest-canonical.json"))
    args = parser.parse_args()
    if args.command == "canonical":
        main_canonical(args.instances, args.seeds, args.repeats, args.time_limit, Path(args.out))
        return
    if args.command == "simulate":
        main_simulate(args.draws, args.repeats, args.reference_draws, Path(args.out))
        return
    if args.command == "explain":
        main_explain(args.instances, args.seeds, args.repeats, Path(args.out))
        return
    if args.command == "sections":
        main_sections(args.instances, args.seeds, args.repeats, Path(args.out))
        return
    if args.command == "report":
        main_report(args.instances, args.seeds, Path(args.out))
        return
    if args.command == "run":
        main_run(args)
        results = json.loads(Path(args.out).read_text())
    else:
        results = json.loads(Path(args.results).read_text())
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print(table(results))
    print()
    print(ratios(results))


if __name__ == "__main__":
    main()
