"""The auditor must share nothing with the solver but the file formats."""

from __future__ import annotations

import ast
from pathlib import Path

AUDIT = Path(__file__).resolve().parents[2] / "seatplan" / "auditor"
#: Module prefixes the auditor may not import: the solver's own code and its solvers.
FORBIDDEN = ("seatplan.models", "seatplan.solver", "seatplan.api", "models", "solver", "ortools", "pulp", "highspy")
#: What it may import besides the standard library.
ALLOWED = ("seatplan.auditor", "pandas", "numpy", "yaml", "click")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # `.x` stays inside seatplan/auditor; `..x` climbs to seatplan/ and names what it takes.
                package = "seatplan.auditor" if node.level == 1 else "seatplan"
                base = f"{package}.{node.module}" if node.module else package
                found.update(f"{base}.{alias.name}" for alias in node.names)
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
            assert not _under(module, FORBIDDEN), f"{path.name} imports {module}"
            stdlib = top in __import__("sys").stdlib_module_names or top == "__future__"
            assert stdlib or _under(module, ALLOWED), (
                f"{path.name} imports {module}: not stdlib/pandas/numpy/yaml/click"
            )


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom seatplan.models.config import load_config\nimport ortools.sat\n")
    found = imported_modules(bad)
    assert {"seatplan.models.config", "ortools.sat"} <= found
    assert sorted(m for m in found if _under(m, FORBIDDEN)) == sorted(m for m in found if m != "os")
    # The package itself is allowed only through its audit part.
    assert _under("seatplan.auditor.tables", ALLOWED) and not _under("seatplan", ALLOWED)
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("from ..models import config\nfrom .. import solver\nfrom .tables import Table\n")
    assert imported_modules(sneaky) == {"seatplan.models.config", "seatplan.solver", "seatplan.auditor.tables.Table"}
