"""`seatplan audit`: the click command; the main CLI registers it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from seatplan.auditor.check import audit_files, audit_run
from seatplan.auditor.errors import AuditInputError

EXIT_PASS, EXIT_BROKEN, EXIT_INPUT = 0, 1, 2


@click.command("audit")
@click.argument("target", type=click.Path(path_type=Path))
@click.argument("assignment_csv", required=False, type=click.Path(path_type=Path))
@click.option(
    "--metrics",
    "metrics_path",
    type=click.Path(path_type=Path),
    help="metrics.json to compare with (only with CONFIG ASSIGNMENT_CSV).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as a JSON document.")
@click.option(
    "--explanations",
    "explanations_path",
    type=click.Path(path_type=Path),
    help="Check the cutoff explanations in this file (seatplan explain --json output, or explanations.csv).",
)
def audit_command(
    target: Path, assignment_csv: Path | None, metrics_path: Path | None, as_json: bool, explanations_path: Path | None
) -> None:
    """Check an assignment against every rule, from the raw files alone.

    TARGET is a run folder, or, with ASSIGNMENT_CSV, a config whose data the assignment
    is checked against. Exit 0 when every rule holds, 1 when any is broken, 2 when the
    input cannot be read.
    """
    try:
        if assignment_csv is None:
            if metrics_path is not None:
                raise click.UsageError(
                    "--metrics goes with CONFIG ASSIGNMENT_CSV; a run folder has its own metrics.json"
                )
            report = audit_run(target, explanations_path)
        else:
            report = audit_files(target, assignment_csv, metrics_path, explanations_path)
    except AuditInputError as error:
        for line in error.lines():
            click.echo(line, err=True)
        sys.exit(EXIT_INPUT)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(report.to_text())
    sys.exit(EXIT_PASS if report.passed else EXIT_BROKEN)


def main() -> None:
    """Run the command on its own (`python -m seatplan.auditor.cli`)."""
    audit_command()


if __name__ == "__main__":
    main()
