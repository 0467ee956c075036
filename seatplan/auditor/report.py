"""The audit's result: one entry per rule, each with every violation found."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Printing stops here per rule; the counts and the JSON keep every violation.
PRINT_LIMIT = 20


@dataclass
class Violation:
    """One breach of a rule: what, by how much, and the ids that show it."""

    message: str
    amount: int | float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"message": self.message, "amount": self.amount, **self.evidence}


@dataclass
class RuleResult:
    """A rule's verdict; information lines never change it."""

    rule: str
    violations: list[Violation] = field(default_factory=list)
    info: list[str] = field(default_factory=list)
    # What one violation is called in the headline ("blocking pair", "blocking pairs").
    noun: tuple[str, str] = ("violation", "violations")
    # Extra lists for --json, kept whatever the verdict (e.g. every blocking pair).
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.violations

    def fail(self, message: str, amount: int | float = 1, **evidence: Any) -> None:
        self.violations.append(Violation(message, amount, evidence))

    def to_text(self) -> list[str]:
        lines: list[str] = []
        one, many = self.noun
        if self.passed:
            lines.append(f"{self.rule}: pass")
        elif len(self.violations) == 1:
            named = "" if one == "violation" else f"1 {one}: "
            lines.append(f"{self.rule}: FAIL — {named}{self.violations[0].message}")
        else:
            lines.append(f"{self.rule}: FAIL — {len(self.violations)} {many}")
            for violation in self.violations[:PRINT_LIMIT]:
                lines.append(f"    {violation.message}")
            if len(self.violations) > PRINT_LIMIT:
                lines.append(f"    … and {len(self.violations) - PRINT_LIMIT} more")
        lines.extend(f"    · {note}" for note in self.info)
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "passed": self.passed,
            "violation_count": len(self.violations),
            "violations": [v.to_json() for v in self.violations],
            "info": list(self.info),
            **self.details,
        }


@dataclass
class Report:
    """Everything the audit found. `passed` is true only when every rule holds."""

    rules: list[RuleResult] = field(default_factory=list)
    objective: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # The seatplan version that produced the run (metrics.json) and this auditor's, when compared.
    versions: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(rule.passed for rule in self.rules)

    @property
    def verdicts(self) -> dict[str, bool]:
        """Each rule's verdict: True when it holds."""
        return {rule.rule: rule.passed for rule in self.rules}

    def rule(self, name: str) -> RuleResult:
        """The result of the rule called `name` (KeyError when there is none)."""
        for result in self.rules:
            if result.rule == name:
                return result
        raise KeyError(name)

    def failed_rules(self) -> list[str]:
        return [rule.rule for rule in self.rules if not rule.passed]

    def to_text(self) -> str:
        lines: list[str] = [f"note: {note}" for note in self.notes]
        for rule in self.rules:
            lines.extend(rule.to_text())
        broken = len(self.failed_rules())
        lines.append(
            "audit: pass — every rule holds"
            if broken == 0
            else f"audit: FAIL — {broken} of {len(self.rules)} rules broken"
        )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rules": [rule.to_json() for rule in self.rules],
            "objective": self.objective,
            "notes": list(self.notes),
            "seatplan_version": dict(self.versions),
        }
