"""The independent auditor: checks an assignment against every rule, reading only the raw files.

It imports nothing from models/ or solver/ (a test enforces it), so a mistake in the
solver's formulation cannot hide in a shared helper.
"""

from audit.check import audit_files, audit_run
from audit.errors import AuditInputError
from audit.report import Report, RuleResult, Violation

__all__ = ["AuditInputError", "Report", "RuleResult", "Violation", "audit_files", "audit_run"]
