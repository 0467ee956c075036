"""The auditor must share nothing with the solver but the file formats."""

from __future__ import annotations

import ast
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / "audit"
FORBIDDEN = {"models", "solver", "ortools", "pulp", "highspy"}
ALLOWED = {"audit", "pandas", "numpy", "yaml", "click"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside audit/
                found.add("audit")
            elif node.module:
                found.add(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Name, ast.Attribute))
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in {"__import__", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def test_audit_imports_no_solver_code() -> None:
    files = sorted(AUDIT.rglob("*.py"))
    assert files, "audit/ has no Python files"
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in FORBIDDEN, f"{path.name} imports {module}"
            stdlib = top in __import__("sys").stdlib_module_names or top == "__future__"
            assert stdlib or top in ALLOWED, f"{path.name} imports {module}, outside stdlib/pandas/numpy/yaml/click"


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom models.config import load_config\nimport ortools.sat\n")
    assert {"models.config", "ortools.sat"} <= imported_modules(bad)
