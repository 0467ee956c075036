"""metrics.json against the recomputation: the objective to the cent, the counts, the status."""

from __future__ import annotations

import json
import math
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from seatplan.auditor.config import FIRST_TERMS, STABLE_MECHANISMS, TERMS, AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.errors import Problems
from seatplan.auditor.objective import money
from seatplan.auditor.report import RuleResult
from seatplan.auditor.rules import Placements, diversity_units

REQUIRED = ("status", "objective", "terms", "students", "assigned", "unassigned")


def read_metrics(path: Path, problems: Problems) -> dict[str, Any] | None:
    """The metrics document, with the keys every check needs present and numeric."""
    where = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        problems.add(where, "file not found")
        return None
    except (OSError, UnicodeDecodeError) as error:
        problems.add(where, f"cannot read the file ({error})")
        return None
    except json.JSONDecodeError as error:
        problems.add(where, f"malformed JSON: {error.msg}", error.lineno)
        return None
    except RecursionError:
        problems.add(where, "malformed JSON: expected a document of a few levels, got one nested too deep to read")
        return None
    except ValueError as error:  # a number of more than 4,300 digits
        problems.add(where, f"malformed JSON: {error}")
        return None
    if not isinstance(document, dict):
        problems.add(where, "expected a JSON object")
        return None
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": half of a UTF-16 pair, no character, cannot be printed
        problems.add(where, "expected text, got an escape of half a UTF-16 pair (\\ud800 to \\udfff)")
        return None
    ok = True
    for key in REQUIRED:
        if key not in document:
            problems.add(where, f"missing key {key}")
            ok = False
    terms = document.get("terms")
    if "terms" in document and not isinstance(terms, dict):
        problems.add(where, "expected terms to be an object")
        ok = False
    elif isinstance(terms, dict):
        for term in TERMS:
            if term not in FIRST_TERMS and term not in terms:
                continue  # a later term: metrics.json written before it existed
            if not _is_number(terms.get(term)):
                problems.add(
                    where,
                    f"expected terms.{term} to be a number, got {json.dumps(terms.get(term))}",
                )
                ok = False
    for key in ("objective", "students", "assigned", "unassigned"):
        if key in document and not _is_number(document[key]):
            problems.add(where, f"expected {key} to be a number, got {json.dumps(document[key])}")
            ok = False
    for key in ("blocking_pairs", "split_families"):
        if key in document and not _is_number(document[key]):
            problems.add(where, f"expected {key} to be a number, got {json.dumps(document[key])}")
            ok = False
    if document.get("bound") is not None and not _is_number(document["bound"]):
        problems.add(where, f"expected bound to be a number or null, got {json.dumps(document['bound'])}")
        ok = False
    return document if ok else None


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # An integer too large for a float is no count or amount (math.isfinite would overflow on it).
    return abs(value) < 2**63 if isinstance(value, int) else math.isfinite(value)


def to_cents(value: float) -> int:
    return round(value * 100)


def auditor_version() -> str | None:
    """The version of the installed seatplan this auditor belongs to (from the package's metadata,
    not from the solver's code), or None when it is not installed."""
    try:
        return metadata.version("seatplan")
    except metadata.PackageNotFoundError:
        return None


def versions(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """The seatplan version that wrote metrics.json (None when it names none) and this auditor's."""
    produced = None if metrics is None else metrics.get("seatplan_version")
    return {"run": None if produced is None else str(produced), "auditor": auditor_version()}


def version_note(found: dict[str, Any], run: bool) -> str | None:
    """A note (never a failure) when the run was written by another seatplan than this auditor:
    its rules may differ from the ones this version checks."""
    produced, own = found["run"], found["auditor"]
    mine = f"seatplan {own}" if own is not None else "a seatplan of unknown version"
    if produced is None:
        return (
            f"metrics.json does not name the seatplan version that produced this run; this auditor is {mine}"
            if run
            else None
        )
    if produced == own:
        return None
    return f"this run was produced by seatplan {produced}; this auditor is {mine}"


def new_format(metrics: dict[str, Any]) -> bool:
    """Written by a version that knows stability and families: it names its mechanism."""
    return "mechanism" in metrics


def compare_objective(cents: dict[str, int], metrics: dict[str, Any] | None) -> RuleResult:
    """Each term and the total, recomputed, against metrics.json to the cent.

    blocking_pairs and split_families may be missing from a metrics.json older than them
    (one without `mechanism`): then they must recompute to 0.
    """
    result = RuleResult("objective")
    total = sum(cents.values())
    reported = metrics["terms"] if metrics is not None else {}
    for term, value in cents.items():
        if metrics is None:
            result.info.append(f"{term}: {money(value)}")
            continue
        if term not in reported:
            if value == 0 and not new_format(metrics):
                result.info.append(f"{term}: {money(value)} (not in metrics.json, an older run)")
                continue
            result.fail(
                f"term {term}: recomputed {money(value)}, metrics.json does not report it",
                value / 100,
                term=term,
                recomputed=value / 100,
                reported=None,
            )
            continue
        theirs = to_cents(reported[term])
        result.info.append(f"{term}: {money(value)} (metrics.json {money(theirs)})")
        if theirs != value:
            result.fail(
                f"term {term}: recomputed {money(value)}, metrics.json says {money(theirs)} "
                f"(off by {money(theirs - value)})",
                (theirs - value) / 100,
                term=term,
                recomputed=value / 100,
                reported=theirs / 100,
            )
    if metrics is None:
        result.info.append(f"objective: {money(total)} (not compared: no metrics.json given)")
        return result
    theirs_total = to_cents(metrics["objective"])
    result.info.append(f"objective: {money(total)} (metrics.json {money(theirs_total)})")
    if theirs_total != total:
        result.fail(
            f"objective: recomputed {money(total)}, metrics.json says {money(theirs_total)} "
            f"(off by {money(theirs_total - total)})",
            (theirs_total - total) / 100,
            term="objective",
            recomputed=total / 100,
            reported=theirs_total / 100,
        )
    extra = sorted(set(reported) - set(TERMS))
    if extra:
        result.info.append(f"metrics.json terms the auditor does not know: {', '.join(extra)}")
    return result


def solver_status(metrics: dict[str, Any], config: AuditConfig) -> RuleResult:
    """An honest status: optimal or feasible, and the bound never above the objective.

    A deferred acceptance run proves nothing about the objective: status stable, no bound,
    no gap.
    """
    if config.deferred_acceptance:
        return _deferred_acceptance_status(metrics, config.mechanism)
    result = RuleResult("solver_status")
    status = metrics["status"]
    objective = to_cents(metrics["objective"])
    bound = metrics.get("bound")
    result.info.append(
        f"status {status}, objective {money(objective)}, bound "
        f"{money(to_cents(bound)) if bound is not None else 'none'}"
    )
    if bound is not None and to_cents(bound) < 0:
        # Every term is ≥ 0, so such a bound is valid but empty; often a dropped constant.
        shown = money(to_cents(bound))
        result.info.append(f"bound {shown} is below 0, which no objective can be: it proves little")
    if status not in ("optimal", "feasible"):
        result.fail(
            f'status is "{status}", expected optimal or feasible for a run with an assignment',
            1,
            status=status,
        )
    if bound is not None and to_cents(bound) > objective:
        result.fail(
            f"bound {money(to_cents(bound))} exceeds the objective {money(objective)} of a minimisation",
            (to_cents(bound) - objective) / 100,
            bound=bound,
            objective=metrics["objective"],
        )
    if status == "optimal" and (bound is None or to_cents(bound) != objective):
        shown = money(to_cents(bound)) if bound is not None else "none"
        result.fail(
            f"status optimal but bound {shown} ≠ objective {money(objective)}",
            abs(to_cents(bound) - objective) / 100 if bound is not None else 1,
            bound=bound,
            objective=metrics["objective"],
        )
    return result


def _deferred_acceptance_status(metrics: dict[str, Any], mechanism: str) -> RuleResult:
    result = RuleResult("solver_status")
    status = metrics["status"]
    result.info.append(
        f"mechanism {metrics.get('mechanism', 'deferred_acceptance')}: status {status}, "
        f"bound {json.dumps(metrics.get('bound'))}"
        f", gap {json.dumps(metrics.get('gap'))}"
    )
    # The mechanism the audited config names (metrics.json's own word is checked with the counts).
    expected = "stable" if mechanism in STABLE_MECHANISMS else "assigned"
    if status != expected:
        result.fail(
            f'status is "{status}", expected {expected} for a {str(mechanism).replace("_", " ")} run',
            1,
            status=status,
        )
    for key in ("bound", "gap"):
        if metrics.get(key) is not None:
            result.fail(
                f"{key} is {json.dumps(metrics[key])}, expected null for a deferred acceptance "
                "run (it proves nothing about the objective)",
                1,
                field=key,
                reported=metrics[key],
            )
    return result


class _Compare:
    def __init__(self, result: RuleResult) -> None:
        self.result = result

    def same(self, what: str, recomputed: Any, reported: Any) -> None:
        if reported != recomputed:
            amount = (reported - recomputed) if _is_number(reported) and _is_number(recomputed) else 1
            self.result.fail(
                f"{what}: recomputed {_show(recomputed)}, metrics.json says {_show(reported)}",
                amount,
                field=what,
                recomputed=recomputed,
                reported=reported,
            )


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def compare_counts(
    district: District,
    config: AuditConfig,
    placements: Placements,
    metrics: dict[str, Any],
    blocking_pairs: int = 0,
    split_families: int = 0,
) -> RuleResult:
    """Every count metrics.json reports that the data and the assignment determine."""
    result = RuleResult("metrics_counts")
    check = _Compare(result)
    placed = len(placements.school)
    check.same("students", len(district.students), metrics["students"])
    check.same("assigned", placed, metrics["assigned"])
    check.same("unassigned", len(district.students) - placed, metrics["unassigned"])
    absent: list[str] = []

    if "mechanism" in metrics:
        if metrics["mechanism"] != config.mechanism:
            result.fail(
                f"mechanism: the config says {config.mechanism}, metrics.json says {_show(metrics['mechanism'])}",
                1,
                field="mechanism",
                recomputed=config.mechanism,
                reported=metrics["mechanism"],
            )
    else:
        absent.append("mechanism")
    for key, count in (("blocking_pairs", blocking_pairs), ("split_families", split_families)):
        if key in metrics:
            check.same(key, count, metrics[key])
        elif new_format(metrics):
            # A metrics.json that names its mechanism reports both counts, whatever the mode.
            check.same(key, count, None)
        else:
            absent.append(key)

    if "position_counts" in metrics:
        counts: Counter[str] = Counter()
        for student, school in placements.school.items():
            position = district.position(student, school)
            counts[str(position) if position is not None else "unlisted"] += 1
        reported = metrics["position_counts"]
        if not isinstance(reported, dict):
            check.same("position_counts", dict(counts), reported)
        else:
            for key in sorted(
                set(counts) | set(reported),
                key=lambda k: (not _small_number(k), int(k) if _small_number(k) else 0, k),
            ):
                check.same(f"position_counts[{key}]", counts.get(key, 0), reported.get(key, 0))
    else:
        absent.append("position_counts")

    if isinstance(metrics.get("compacts"), dict):
        _compare_compacts(district, placements, metrics["compacts"], check)
    else:
        absent.append("compacts")

    if isinstance(metrics.get("diversity"), list):
        _compare_diversity(district, config, placements, metrics["diversity"], check)
    else:
        absent.append("diversity")

    if isinstance(metrics.get("schools"), list):
        _compare_schools(district, placements, metrics["schools"], check)
    else:
        absent.append("schools")
    if absent:
        result.info.append(f"not in metrics.json, so not compared: {', '.join(absent)}")
    return result


def _compare_compacts(district: District, placements: Placements, reported: dict[str, Any], check: _Compare) -> None:
    compacts = list(district.compacts.values())
    honored = [c for c in compacts if placements.honored[c.compact_id]]
    recomputed = {
        "total": len(compacts),
        "honored": len(honored),
        "families": sum(len(c.families) for c in compacts),
        "families_honored": sum(len(c.families) for c in honored),
        "students": sum(len(c.members) for c in compacts),
        "students_honored": sum(len(c.members) for c in honored),
    }
    for key, value in recomputed.items():
        if key in reported or key in ("total", "honored", "families_honored"):
            check.same(f"compacts.{key}", value, reported.get(key))
    listed = reported.get("list")
    if isinstance(listed, list):
        by_id = _by(listed, "compact_id")
        for compact in compacts:
            entry = by_id.pop(compact.compact_id, None)
            if entry is None:
                check.same(f"compacts.list[{compact.compact_id}]", "present", "absent")
                continue
            mine: dict[str, object] = {
                "school_id": compact.school_id,
                "families": len(compact.families),
                "students": len(compact.members),
                "honored": placements.honored[compact.compact_id],
            }
            for key, mine_value in mine.items():
                if key in entry:
                    check.same(f"compacts.list[{compact.compact_id}].{key}", mine_value, entry[key])
        for extra in by_id:
            check.same(f"compacts.list[{extra}]", "absent (no such compact)", "present")


def _compare_diversity(
    district: District,
    config: AuditConfig,
    placements: Placements,
    reported: list[Any],
    check: _Compare,
) -> None:
    by_number = _by(reported, "rule")
    for rule in config.diversity:
        entry = by_number.pop(rule.number, None)
        if rule.mode == "off":
            continue
        what = f"diversity[{rule.number}]"
        if entry is None:
            check.same(what, "present", "absent")
            continue
        units = diversity_units(district, rule, placements)
        check.same(f"{what}.band", list(units.band), entry.get("band"))
        check.same(f"{what}.shortfall", units.shortfall, entry.get("shortfall"))
        for key, value in (
            ("attribute", rule.attribute),
            ("category", rule.category),
            ("scope", rule.scope),
            ("mode", rule.mode),
        ):
            if key in entry:
                check.same(f"{what}.{key}", value, entry[key])
        if isinstance(entry.get("units"), list):
            theirs = _by(entry["units"], "unit")
            for unit in units.units:
                other = theirs.pop(unit.unit, None)
                if other is None:
                    if unit.placed:
                        check.same(f"{what}.units[{unit.unit}]", "present", "absent")
                    continue
                for key in ("placed", "in_category", "shortfall"):
                    if key in other:
                        check.same(f"{what}.units[{unit.unit}].{key}", getattr(unit, key), other[key])
            for extra in theirs:
                check.same(f"{what}.units[{extra}]", "absent (no such unit)", "present")
    for number, entry in by_number.items():
        if entry.get("mode") != "off":
            check.same(f"diversity[{number}]", "absent (no such rule)", "present")


def _compare_schools(district: District, placements: Placements, reported: list[Any], check: _Compare) -> None:
    placed = Counter(placements.school.values())
    through = Counter(placements.school[s] for s in placements.through_compact)
    by_id = _by(reported, "school_id")
    for school_id, school in district.schools.items():
        entry = by_id.pop(school_id, None)
        if entry is None:
            check.same(f"schools[{school_id}]", "present", "absent")
            continue
        check.same(f"schools[{school_id}].placed", placed[school_id], entry.get("placed"))
        if "capacity" in entry:
            check.same(f"schools[{school_id}].capacity", school.capacity, entry["capacity"])
        if "compact_members" in entry:
            check.same(
                f"schools[{school_id}].compact_members",
                through[school_id],
                entry["compact_members"],
            )
    for extra in by_id:
        check.same(f"schools[{extra}]", "absent (no such school)", "present")


def _small_number(text: str) -> bool:
    """ASCII digits int() takes as they are (a key of metrics.json may be "²", a digit to
    str.isdigit but no integer, or thousands of digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 18


def _by(entries: list[Any], key: str) -> dict[Any, dict[str, Any]]:
    """metrics.json's objects of a list, by one of their fields: an id that is no plain value (a
    list, an object) is kept as its JSON text, so it shows as an entry of no such id instead of
    breaking the audit."""
    out: dict[Any, dict[str, Any]] = {}
    for entry in entries:
        if isinstance(entry, dict):
            value = entry.get(key)
            plain = value is None or isinstance(value, (str, int, float, bool))
            out[value if plain else json.dumps(value)] = entry
    return out
