"""The independent auditor: checks an assignment against every rule, reading only the raw files.

It imports nothing from models/ or solver/ (a test enforces it), so a mistake in the
solver's formulation cannot hide in a shared helper.
"""

from seatplan.auditor.check import audit_files, audit_run
from seatplan.auditor.errors import AuditInputError
from seatplan.auditor.report import Report, RuleResult, Violation

__all__ = ["AuditInputError", "Report", "RuleResult", "Violation", "audit_files", "audit_run"]
