"""audit_run and audit_files: read everything, then judge every rule."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import Any

from seatplan.auditor import mechanisms, rules, stability
from seatplan.auditor.assignment import read_assignment
from seatplan.auditor.config import AuditConfig, read_config
from seatplan.auditor.district import District, load_district
from seatplan.auditor.errors import AuditInputError, Problems
from seatplan.auditor.explanations import check_explanations, read_explanations
from seatplan.auditor.metrics import (
    compare_counts,
    compare_objective,
    read_metrics,
    solver_status,
    version_note,
    versions,
)
from seatplan.auditor.objective import objective_cents
from seatplan.auditor.report import Report, RuleResult
from seatplan.auditor.reserve_rules import reserves_rule
from seatplan.auditor.sections import audit_sections


def audit_run(run_dir: Path, explanations: Path | None = None) -> Report:
    """Audit a run folder: config.yaml (with data_sha256), data, assignment.csv, metrics.json."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise AuditInputError(
            [f"{run_dir}: not a run folder (expected a folder with config.yaml, assignment.csv and metrics.json)"]
        )
    missing = [name for name in ("config.yaml", "assignment.csv", "metrics.json") if not (run_dir / name).is_file()]
    if missing:
        raise AuditInputError([f"{run_dir / name}: file not found (every run folder has one)" for name in missing])
    return _audit(
        run_dir / "config.yaml",
        run_dir / "assignment.csv",
        run_dir / "metrics.json",
        run=True,
        explanations=explanations,
    )


def audit_files(
    config_path: Path, assignment_path: Path, metrics_path: Path | None = None, explanations: Path | None = None
) -> Report:
    """Audit any assignment file against a config (data paths relative to the config's folder)."""
    return _audit(
        Path(config_path),
        Path(assignment_path),
        Path(metrics_path) if metrics_path is not None else None,
        run=False,
        explanations=explanations,
    )


def _audit(
    config_path: Path, assignment_path: Path, metrics_path: Path | None, run: bool, explanations: Path | None = None
) -> Report:
    config = read_config(config_path)
    problems = Problems()
    district = load_district(config, problems)
    rows = read_assignment(assignment_path, problems)
    metrics = read_metrics(metrics_path, problems) if metrics_path is not None else None
    reasons = read_explanations(Path(explanations)) if explanations is not None else None
    problems.raise_if_any()
    assert district is not None and rows is not None

    report = Report(notes=list(config.notes))
    if metrics is not None:
        report.versions = versions(metrics)
        note = version_note(report.versions, run)
        if note is not None:
            report.notes.append(note)
    da = config.deferred_acceptance
    if da:
        report.notes.append(
            f"mechanism {config.mechanism}: no compact is honored; compacts together and share, "
            "hard diversity bands, hard clusters and families together are not applied by it "
            "and are reported as information"
        )
    if run or config.data_sha256 is not None:
        report.rules.append(data_integrity(config))
    placements = rules.place(district, rows, compacts_apply=not da)
    pairs = stability.blocking_pairs(district, placements)
    split = stability.split_families(district, placements)
    # Rules deferred acceptance does not apply: their breaches are information there.
    unapplied = functools.partial(rules.not_applied, mechanism=config.mechanism) if da else (lambda result: result)
    report.rules += [
        rules.known_ids(district, placements),
        rules.at_most_once(district, placements),
        rules.every_student_listed(district, placements),
        rules.listed_school(district, placements),
        rules.position_column(district, placements),
        rules.compact_id_column(district, placements),
        rules.capacity(district, placements),
        *_choice_rules(district, config, placements),
        unapplied(rules.compact_together(district, placements)),
        unapplied(rules.compact_share(district, config, placements)),
        rules.compact_family_count(district, config),
        rules.compact_single_school(district),
        rules.compact_family_once(district),
        rules.compact_known(district),
        rules.compact_under_selected(district, config),
        _clusters(district, config, placements),
    ]
    report.rules += [
        unapplied(rules.diversity(district, rule, placements))
        if rule.mode == "hard"
        else rules.diversity(district, rule, placements)
        for rule in config.diversity
    ]
    report.rules.append(stability.stability(config, pairs))
    report.rules.append(stability.families(config, split))
    if config.mechanism == "deferred_acceptance":
        report.rules.append(stability.deferred_acceptance_outcome(district, placements))
    elif config.mechanism == "school_proposing":
        report.rules.append(stability.school_proposing_outcome(district, placements))
    elif config.mechanism == "immediate_acceptance":
        report.rules.append(mechanisms.immediate_acceptance_outcome(district, placements))
    elif config.mechanism == "top_trading_cycles":
        report.rules.append(mechanisms.top_trading_cycles_outcome(district, placements))
    cents = objective_cents(district, config, placements, len(pairs), len(split))
    report.rules.append(compare_objective(cents, metrics))
    if run:
        classrooms = audit_sections(config_path.parent, config, district, placements)
        if classrooms is not None:
            report.rules.append(classrooms)
    if metrics is not None:
        report.rules.append(solver_status(metrics, config))
        report.rules.append(compare_counts(district, config, placements, metrics, len(pairs), len(split)))
    if reasons is not None:
        report.rules.append(check_explanations(district, placements, reasons))
    report.objective = _objective_document(cents, metrics)
    return report


def _choice_rules(district: District, config: AuditConfig, placements: rules.Placements) -> list[RuleResult]:
    """eligibility (with an eligible column) and reserves (with data.reserves): hard for every plan,
    mechanisms' too (they satisfy them)."""
    found: list[RuleResult] = []
    if district.eligibility_given:
        found.append(rules.eligibility(district, placements))
    if district.reserves is not None:
        found.append(reserves_rule(district, config, placements))
    return found


def _clusters(district: District, config: AuditConfig, placements: rules.Placements) -> RuleResult:
    result = rules.clusters(district, config, placements)
    if config.deferred_acceptance and config.clusters_mode == "hard":
        return rules.not_applied(result, config.mechanism)
    return result


def _objective_document(cents: dict[str, int], metrics: dict[str, Any] | None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "terms": {term: value / 100 for term, value in cents.items()},
        "objective": sum(cents.values()) / 100,
        "compared_with_metrics": metrics is not None,
    }
    if metrics is not None:
        document["metrics"] = {
            "terms": {t: metrics["terms"].get(t) for t in cents},
            "objective": metrics["objective"],
        }
    return document


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_integrity(config: AuditConfig) -> RuleResult:
    """The data files are byte for byte the ones the run was solved with."""
    result = RuleResult("data_integrity")
    recorded = config.data_sha256
    if recorded is None:
        result.fail(f"{config.path}: no data_sha256 recorded, so the data cannot be tied to the run", 1)
        return result
    for key, raw_path in config.data.items():
        path = os.path.normpath(raw_path)
        if key not in recorded:
            result.fail(
                f"{key} ({path}): no SHA-256 recorded for it in data_sha256",
                1,
                file=str(path),
                key=key,
            )
            continue
        now = file_sha256(raw_path)
        if now != recorded[key]:
            result.fail(
                f"{key} ({path}) changed since the run: SHA-256 now {now[:12]}…, recorded {recorded[key][:12]}…",
                1,
                file=str(path),
                key=key,
                recorded=recorded[key],
                now=now,
            )
        else:
            result.info.append(f"{key}: {path} matches {now[:12]}…")
    for key in recorded:
        if key not in config.data:
            result.fail(f"data_sha256 records {key}, but the config names no such data file", 1, key=key)
    return result
