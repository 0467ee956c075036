"""Every crash the fuzz suite found, kept as data (tests/data/regressions/fuzz_*, each folder's
config.yaml or README.md says what it did): now one line per problem, naming the file and the
line, exit 2 — or, where the input is readable, the audit's verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

from seatplan.models import tables
from tests.fuzz.cases import check, invoke

FOLDER = Path(__file__).resolve().parents[1] / "data" / "regressions"

#: (folder, the command ({f}: the folder, {tmp}: a temporary one), exit code, the problem's place, words in it)
CASES = [
    ("fuzz_deep_yaml", ["validate", "{f}/config.yaml"], 2, "config.yaml:4", "at most 64 levels of lists and mappings"),
    ("fuzz_yaml_alias_bomb", ["validate", "{f}/config.yaml"], 2, "config.yaml:4", "at most 100,000 values"),
    (
        "fuzz_yaml_alias_cycle",
        ["validate", "{f}/config.yaml"],
        2,
        "config.yaml:4",
        "alias outside the value its anchor",
    ),
    ("fuzz_half_surrogate_in_config", ["validate", "{f}/config.yaml"], 2, "config.yaml:3", "the escape \\ud83c, half"),
    ("fuzz_nul_in_data_path", ["validate", "{f}/config.yaml"], 2, "config.yaml:3", "a name with a NUL character"),
    ("fuzz_data_path_too_long", ["validate", "{f}/config.yaml"], 2, "config.yaml:3", "(File name too long)"),
    (
        "fuzz_line_separator_in_id",
        ["validate", "{f}/config.yaml"],
        2,
        "preferences.csv:2",
        "unknown student 'c1\\u2028x'",
    ),
    (
        "fuzz_rank_of_5000_digits",
        ["validate", "{f}/config.yaml"],
        2,
        "preferences.csv:2",
        "integer of at most 18 digits",
    ),
    ("fuzz_header_field_too_long", ["validate", "{f}/config.yaml"], 2, "students.csv:1", "expected a header row"),
    ("fuzz_extra_field_first_row", ["validate", "{f}/config.yaml"], 2, "compacts.csv:2", "expected 3 fields"),
    ("fuzz_compact_without_school", ["validate", "{f}/config.yaml"], 2, "compacts.csv:2", "got an empty field"),
    ("fuzz_data_path_to_dev_zero", ["validate", "{f}/config.yaml"], 2, "/dev/zero", "got a device"),
    (
        "fuzz_reserves_without_schools",
        ["validate", "{f}/config.yaml"],
        2,
        "schools.csv:1",
        "expected at least one school",
    ),
    (
        "fuzz_per_school_lottery_without_ids",
        ["validate", "{f}/config.yaml"],
        2,
        "priorities.csv:1",
        "expected a column 'student_id'",
    ),
    ("fuzz_audit_position_of_20000_digits", ["audit", "{f}/run"], 1, None, '(20,000 characters)", expected 2'),
    ("fuzz_audit_infinite_share", ["audit", "{f}/run", "--json"], 2, "run/config.yaml:15", "compacts.max_share"),
    (
        "fuzz_metrics_school_id_a_list",
        ["audit", "{f}/data/config.yaml", "{f}/run/assignment.csv", "--metrics", "{f}/run/metrics.json"],
        1,
        None,
        "schools[C]: recomputed present, metrics.json says absent",
    ),
    ("fuzz_huge_weight", ["validate", "{f}/config.yaml"], 2, "config.yaml:4", "objective.rank to be at most 1,000,000"),
    (
        "fuzz_huge_seed",
        ["solve", "{f}/config.yaml", "--out", "{tmp}/run"],
        2,
        "config.yaml:4",
        "seed to be at most 2,147,483,647",
    ),
    ("fuzz_metrics_nested_deep", ["audit", "{f}/run"], 2, "run/metrics.json", "nested too deep"),
    ("fuzz_metrics_nested_deep", ["explain", "{f}/run", "c1"], 2, "run/metrics.json", "nested too deep"),
    (
        "fuzz_metrics_nested_deep",
        ["report", "{f}/run", "--out", "{tmp}/r.html"],
        2,
        "run/metrics.json",
        "nested too deep",
    ),
    (
        "fuzz_compact_id_without_compact",
        ["explain", "{f}/run", "c1"],
        2,
        "run/assignment.csv:10",
        "compact_id to be empty",
    ),
    ("fuzz_metrics_half_surrogate", ["audit", "{f}/run"], 2, "run/metrics.json", "half a UTF-16 pair"),
    ("fuzz_metrics_half_surrogate", ["explain", "{f}/run", "c1"], 2, "run/metrics.json", "half a UTF-16 pair"),
    ("fuzz_compact_id_without_compact", ["audit", "{f}/run"], 1, None, "compact_id_column: FAIL"),
    ("fuzz_run_data_path_too_long", ["explain", "{f}/run", "c1"], 2, "run/config.yaml:6", "(File name too long)"),
    ("fuzz_run_data_path_too_long", ["audit", "{f}/run"], 2, "run/config.yaml:6", "(File name too long)"),
    ("fuzz_audit_control_character", ["audit", "{f}/run"], 2, "run/config.yaml:2", "control character U+0001"),
    ("fuzz_audit_deep_yaml", ["audit", "{f}/run"], 2, "run/config.yaml:44", "at most 64 levels"),
    (
        "fuzz_audit_rank_of_5000_digits",
        ["audit", "{f}/data/config.yaml", "{f}/run/assignment.csv", "--metrics", "{f}/run/metrics.json"],
        2,
        "data/preferences.csv:2",
        "expected rank to be an integer",
    ),
    (
        "fuzz_audit_capacity_of_4000_digits",
        ["audit", "{f}/data/config.yaml", "{f}/run/assignment.csv", "--metrics", "{f}/run/metrics.json"],
        2,
        "data/schools.csv:2",
        "expected capacity to be an integer",
    ),
]


@pytest.mark.parametrize(
    ("name", "command", "code", "where", "words"), CASES, ids=[f"{case[0]}-{case[1][0]}" for case in CASES]
)
def test_a_crash_found_by_fuzzing_is_one_line(
    tmp_path: Path, name: str, command: list[str], code: int, where: str | None, words: str
) -> None:
    folder = FOLDER / name
    args = [part.format(f=folder, tmp=tmp_path) for part in command]
    result = invoke(args)
    check(result, f"{name}: seatplan {' '.join(command)}")
    assert result.exit_code == code, result.output
    if where is None:
        assert words in result.output
        return
    first = result.stderr.splitlines()[0]
    place = where if where.startswith("/") else f"{name}/{where}"
    assert f"{place}: " in first and words in first, first


def test_two_blank_column_names_through_arrows_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found through the reader of large plain files (forced here on a small one): a header " , "
    gave two columns both named "" once stripped, and a crash instead of the missing columns."""
    monkeypatch.setattr(tables, "PLAIN_FAST_PATH_BYTES", 0)
    result = invoke(["validate", str(FOLDER / "fuzz_two_blank_column_names" / "config.yaml")])
    check(result, "fuzz_two_blank_column_names")
    assert result.exit_code == 2, result.output
    assert "preferences.csv:1: expected a column 'student_id'" in result.stderr
