"""A table of instances with known optima (python-mip's MIPLIB-table idea).

Each row of tests/data/known_optima.csv names a district that `seatplan generate` writes
deterministically from its parameters, with the config it writes (compacts, soft clusters, its
diversity bands), and the optimum HiGHS and CBC both proved for it, to the cent. Only
the table is committed: the test generates each district again, checks it is still the same data
(the SHA-256 of its files and config), and requires `cpsat` to reach that optimum, status `optimal`.

To record the table again (after a deliberate change to the generator or the model):
    /tmp/sp/bin/python -m tests.oracles.test_known_table
which solves every row with `highs` and `pulp` (CBC) (long time limits), requires both to prove the
same optimum, and rewrites the CSV.
"""

from __future__ import annotations

import csv
import hashlib
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.solver.cli import main
from seatplan.solver.solve import solve
from tests.conftest import settings_for

TABLE = Path(__file__).resolve().parent.parent / "data" / "known_optima.csv"

#: The districts of the table; `record()` fills in their optima.
SPECS = [
    {"name": "small_two_clusters", "students": 200, "schools": 8, "clusters": 2, "seed": 11},
    {
        "name": "grades_k1",
        "students": 400,
        "schools": 12,
        "clusters": 3,
        "seed": 12,
        "grades": "K,1",
    },
    {
        "name": "many_compacts",
        "students": 600,
        "schools": 15,
        "clusters": 4,
        "seed": 13,
        "compact_share": 0.06,
    },
    {"name": "five_clusters", "students": 800, "schools": 20, "clusters": 5, "seed": 14},
    {
        "name": "one_cluster_three_grades_short_lists",
        "students": 500,
        "schools": 10,
        "clusters": 1,
        "seed": 15,
        "grades": "K,1,2",
        "choices": 5,
    },
    {
        "name": "dense_compacts",
        "students": 300,
        "schools": 9,
        "clusters": 3,
        "seed": 16,
        "compact_share": 0.1,
    },
]


@dataclass(frozen=True)
class Row:
    """One district and its proven optimum."""

    name: str
    students: int
    schools: int
    clusters: int
    seed: int
    compact_share: float = 0.03
    choices: int = 12
    grades: str = ""
    objective: str = ""  # in objective units, two decimals: the cents are exact
    data_sha256: str = ""
    proven_by: str = ""

    def generate(self, folder: Path) -> Path:
        """`seatplan generate` with this row's parameters; returns the config path."""
        args = [
            "generate",
            str(folder),
            "--students",
            str(self.students),
            "--schools",
            str(self.schools),
            "--clusters",
            str(self.clusters),
            "--seed",
            str(self.seed),
            "--compact-share",
            str(self.compact_share),
            "--choices",
            str(self.choices),
        ]
        if self.grades:
            args += ["--grades", self.grades]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return folder / "config.yaml"

    @property
    def cents(self) -> int:
        units, _, hundredths = self.objective.partition(".")
        return int(units) * 100 + int(hundredths.ljust(2, "0"))


def data_sha256(folder: Path) -> str:
    """One digest of every file of a generated district (its CSVs and its config), by name."""
    digest = hashlib.sha256()
    for path in sorted([*folder.glob("*.csv"), *folder.glob("*.yaml")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def read_table() -> list[Row]:
    if not TABLE.exists():
        return []
    with TABLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    types = {f.name: f.type for f in fields(Row)}
    out = []
    for raw in rows:
        kwargs = {}
        for key, value in raw.items():
            kind = types[key]
            kwargs[key] = int(value) if kind == "int" else float(value) if kind == "float" else value
        out.append(Row(**kwargs))  # type: ignore[arg-type]
    return out


@pytest.mark.parametrize("row", read_table(), ids=lambda row: row.name)
def test_cpsat_reproduces_known_optimum(row: Row, tmp_path: Path) -> None:
    config_path = row.generate(tmp_path / "district")
    assert data_sha256(tmp_path / "district") == row.data_sha256, (
        f"`seatplan generate` no longer writes the district of row {row.name}: if deliberate, "
        "record the table again (python -m tests.oracles.test_known_table)"
    )
    result = solve(settings_for(config_path, "cpsat", time_limit=30))
    assert result.evaluation is not None, result.status
    assert (result.status, result.evaluation.objective) == ("optimal", row.cents), (
        f"{row.name}: cpsat {result.status} {result.evaluation.objective} cents "
        f"({result.evaluation.terms}), known optimum {row.cents} cents ({row.proven_by})"
    )


def record(time_limit: float = 600.0) -> None:
    """Solve every district of SPECS with HiGHS and with CBC and write the table."""
    rows = []
    for spec in SPECS:
        row = Row(**spec)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as folder:
            config_path = row.generate(Path(folder) / "district")
            optimum = {}
            for backend in ("highs", "pulp"):
                result = solve(settings_for(config_path, backend, time_limit=time_limit))
                assert result.status == "optimal" and result.evaluation is not None, (
                    backend,
                    result.status,
                )
                optimum[backend] = result.evaluation.objective
            assert len(set(optimum.values())) == 1, optimum
            cents = optimum["highs"]
            row = Row(
                **{
                    **spec,
                    "objective": f"{cents // 100}.{cents % 100:02d}",  # type: ignore[arg-type]
                    "data_sha256": data_sha256(Path(folder) / "district"),
                    "proven_by": "highs and pulp (CBC), both optimal",
                }
            )
        print(f"{row.name}: {row.objective}")
        rows.append(row)
    with TABLE.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([f.name for f in fields(Row)])
        for row in rows:
            writer.writerow([getattr(row, f.name) for f in fields(Row)])


if __name__ == "__main__":
    record()
