"""Bad school-choice input (issue 5) is refused as `file:line: message` lines, exit 2, no traceback.

The base case is a good district with every school-choice input: priorities.csv, a lottery column,
current schools and a feeder; each case replaces one file or adds config text and states exactly
the lines it expects (CSV lines count the header as line 1).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from seatplan.models.data import load_inputs
from seatplan.models.errors import ConfigError, DataError, InputError
from seatplan.solver.cli import main

STUDENTS = """\
student_id,family_id,lottery,current_school
a,f1,3,M
b,f2,1,
c,f3,2.5,M
d,f3,-4,OUTSIDE
"""
SCHOOLS = """\
school_id,capacity,feeds
M,0,X
X,2,
Y,2,
"""
PREFERENCES = """\
student_id,school_id,rank
a,X,1
a,Y,2
b,X,1
c,Y,1
d,X,1
"""
PRIORITIES = """\
student_id,school_id,priority
a,X,2
c,Y,1
d,Y,-1
"""
FILES = {"students": STUDENTS, "schools": SCHOOLS, "preferences": PREFERENCES, "priorities": PRIORITIES}
GOOD_RULES = """\
mechanism: optimize
clusters: {feeder_priority: 1}
stability: {mode: soft, weight: 3}
families: {together: hard, weight: 2}
"""
PROBLEM_LINE = re.compile(r"^[^:\s][^:]*:\d+: \S")


def write(folder: Path, extra: str = "", **replace: str) -> None:
    """The base files with some replaced, and c.yaml naming them (data keys on lines 2–5), then `extra`."""
    files = {**FILES, **replace}
    for key, text in files.items():
        (folder / f"{key}.csv").write_text(text, encoding="utf-8")
    lines = ["data:", *(f"  {key}: {key}.csv" for key in files)]
    (folder / "c.yaml").write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(folder: Path, kind: type[InputError], extra: str = "", **replace: str) -> list[str]:
    write(folder, extra, **replace)
    with pytest.raises(InputError) as caught:
        load_inputs("c.yaml")
    assert type(caught.value) is kind, caught.value.lines()
    # and through the command line: exit 2, only `file:line: message` lines, no traceback
    result = CliRunner().invoke(main, ["validate", "c.yaml"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == caught.value.lines()
    assert all(PROBLEM_LINE.match(line) for line in result.stderr.splitlines()), result.stderr
    return caught.value.lines()


def check(lines: list[str], expected: list[tuple[str, str]]) -> None:
    """`lines` are exactly `expected`: (file:line, start of the message) each."""
    assert len(lines) == len(expected), lines
    for text, (where, start) in zip(lines, expected, strict=True):
        assert text.startswith(f"{where}: {start}"), (text, where, start)


def test_the_base_case_is_accepted(folder: Path) -> None:
    write(folder, GOOD_RULES)
    config, instance = load_inputs("c.yaml")
    assert instance.n_students == 4
    assert (config.stability.mode, config.stability.weight) == ("soft", 3)
    assert (config.families.together, config.families.weight) == ("hard", 2)
    assert config.clusters.feeder_priority == 1 and config.mechanism == "optimize"
    # lottery order: d (-4), b (1), c (2.5), a (3)
    assert [str(instance.student_ids[i]) for i in sorted(range(4), key=lambda i: instance.lottery_rank[i])] == [
        "d",
        "b",
        "c",
        "a",
    ]
    # feeders and priorities: a's current school M feeds X, so a has 2 + 1 at X; c at Y 1; d at Y −1
    import numpy as np

    index = {str(s): i for i, s in enumerate(instance.student_ids)}
    school = {str(j): i for i, j in enumerate(instance.school_ids)}
    pairs = [("a", "X"), ("a", "Y"), ("c", "X"), ("c", "Y"), ("d", "Y"), ("b", "X")]
    got = instance.priority(
        np.array([index[s] for s, _ in pairs]), np.array([school[j] for _, j in pairs]), config.clusters.feeder_priority
    )
    assert got.tolist() == [3, 0, 1, 1, -1, 0]


# ---- priorities.csv ---------------------------------------------------------------------------


def test_priority_for_an_unknown_school(folder: Path) -> None:
    lines = refused(folder, DataError, priorities=PRIORITIES + "b,Q,1\n")
    check(lines, [("priorities.csv:5", "unknown school 'Q' (not in schools.csv)")])


def test_priority_for_an_unknown_student(folder: Path) -> None:
    lines = refused(folder, DataError, priorities=PRIORITIES + "zed,X,1\n")
    check(lines, [("priorities.csv:5", "unknown student 'zed' (not in students.csv)")])


@pytest.mark.parametrize("value", ["1.5", "high", "", "1e2", "two"])
def test_priority_that_is_not_an_integer(folder: Path, value: str) -> None:
    lines = refused(folder, DataError, priorities=PRIORITIES + f"b,Y,{value}\n")
    check(lines, [("priorities.csv:5", f'expected priority to be an integer, got "{value}"')])


def test_repeated_priority_row(folder: Path) -> None:
    """Two priorities for one student at one school, even equal ones: which would count?"""
    lines = refused(folder, DataError, priorities=PRIORITIES + "b,X,1\nc,Y,1\n")
    check(lines, [("priorities.csv:6", "expected one priority per student and school")])
    assert "first on line 3" in lines[0]


def test_priorities_missing_a_column(folder: Path) -> None:
    lines = refused(folder, DataError, priorities="student_id,school_id\na,X\n")
    assert len(lines) == 1 and lines[0].startswith("priorities.csv:1: ") and "priority" in lines[0]


def test_every_priority_problem_at_once(folder: Path) -> None:
    lines = refused(folder, DataError, priorities=PRIORITIES + "b,Q,1\nzed,X,1\nb,Y,x\na,X,5\n")
    check(
        lines,
        [
            ("priorities.csv:5", "unknown school 'Q'"),
            ("priorities.csv:6", "unknown student 'zed'"),
            ("priorities.csv:7", 'expected priority to be an integer, got "x"'),
            ("priorities.csv:8", "expected one priority per student and school"),
        ],
    )


# ---- the lottery column -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "", "nan", "inf", "1,5"])
def test_lottery_that_is_not_a_number(folder: Path, value: str) -> None:
    field = f'"{value}"' if "," in value else value
    students = STUDENTS.replace("b,f2,1,", f"b,f2,{field},")
    lines = refused(folder, DataError, students=students)
    check(lines, [("students.csv:3", f'expected lottery to be a number (smaller is better), got "{value}"')])


def test_repeated_lottery_number(folder: Path) -> None:
    """Equal numbers would make the school's order a tie; 3 and 3.0 are the same number."""
    students = STUDENTS.replace("c,f3,2.5,M", "c,f3,3.0,M")
    lines = refused(folder, DataError, students=students)
    check(lines, [("students.csv:4", 'expected a different lottery number for each student, got "3.0" again')])
    assert lines[0].endswith("(first on line 2)"), lines


def test_repeated_lottery_next_to_a_bad_one(folder: Path) -> None:
    """A non-number elsewhere in the column must not blur where the repeat was first seen."""
    students = STUDENTS.replace("c,f3,2.5,M", "c,f3,3,M").replace("b,f2,1,", "b,f2,x,")
    lines = refused(folder, DataError, students=students)
    check(
        lines,
        [
            ("students.csv:3", 'expected lottery to be a number (smaller is better), got "x"'),
            ("students.csv:4", 'expected a different lottery number for each student, got "3" again'),
        ],
    )
    assert lines[1].endswith("(first on line 2)"), lines


def test_lottery_from_seed_is_the_documented_sha256_rule() -> None:
    """Without a lottery column: int(sha256("<seed>:<student_id>").hexdigest()[:16], 16), redone here
    with hashlib for ids of any length and non-ASCII ids."""
    import hashlib

    import numpy as np

    from seatplan.models.data import lottery_from_seed

    ids = np.array(["x1", "S000001", "", "é-42", "a" * 300], dtype=object)
    for seed in (0, 1, 123456789):
        expected = [int(hashlib.sha256(f"{seed}:{sid}".encode()).hexdigest()[:16], 16) for sid in ids]
        assert lottery_from_seed(ids, seed).tolist() == expected


# ---- feeders ----------------------------------------------------------------------------------


def test_feeds_naming_an_unknown_school(folder: Path) -> None:
    schools = SCHOOLS.replace("Y,2,", "Y,2,HS9")
    lines = refused(folder, DataError, schools=schools)
    check(lines, [("schools.csv:4", "unknown school 'HS9'")])


# ---- the config -------------------------------------------------------------------------------

# (id, config text after the data mapping (which ends on line 5), [(line, message start)])
CONFIG_CASES = [
    (
        "unknown key in stability",
        "stability:\n  mode: soft\n  wieght: 3\n",
        [(8, "unknown key 'wieght' in stability; did you mean 'weight'?")],
    ),
    (
        "unknown key in families",
        "families:\n  togther: hard\n",
        [(7, "unknown key 'togther' in families; did you mean 'together'?")],
    ),
    ("families mode under stability's name", "families:\n  mode: hard\n", [(7, "unknown key 'mode' in families")]),
    (
        "mechanism lottery",
        "mechanism: lottery\n",
        [
            (
                6,
                "expected mechanism to be one of optimize | deferred_acceptance | school_proposing | "
                'immediate_acceptance | top_trading_cycles, got "lottery"',
            )
        ],
    ),
    (
        "negative stability weight",
        "stability: {mode: soft, weight: -1}\n",
        [(6, 'expected stability.weight to be an integer ≥ 0, got "-1"')],
    ),
    (
        "negative families weight",
        "families:\n  together: soft\n  weight: -5\n",
        [(8, 'expected families.weight to be an integer ≥ 0, got "-5"')],
    ),
    (
        "negative feeder priority",
        "clusters: {feeder_priority: -2}\n",
        [(6, 'expected clusters.feeder_priority to be an integer ≥ 0, got "-2"')],
    ),
    (
        "fractional stability weight",
        "stability: {mode: hard, weight: 1.5}\n",
        [(6, 'expected stability.weight to be an integer ≥ 0, got "1.5"')],
    ),
    (
        "unknown stability mode",
        "stability: {mode: strict}\n",
        [(6, 'expected stability.mode to be one of off | soft | hard, got "strict"')],
    ),
    (
        "unknown families mode",
        "families: {together: always}\n",
        [(6, 'expected families.together to be one of off | soft | hard, got "always"')],
    ),
    (
        "unknown top key near stability",
        "stabilty: {mode: hard}\n",
        [(6, "unknown key 'stabilty'; did you mean 'stability'?")],
    ),
]


@pytest.mark.parametrize(("extra", "expected"), [(c[1], c[2]) for c in CONFIG_CASES], ids=[c[0] for c in CONFIG_CASES])
def test_bad_school_choice_config(folder: Path, extra: str, expected: list[tuple[int, str]]) -> None:
    lines = refused(folder, ConfigError, extra)
    check(lines, [(f"c.yaml:{line}", start) for line, start in expected])


def test_config_and_data_problems_together(folder: Path) -> None:
    """One pass fixes everything: the config's and the data's problems are listed together."""
    write(folder, "mechanism: lottery\n", priorities=PRIORITIES + "b,Q,1\n", schools=SCHOOLS.replace("Y,2,", "Y,2,HS9"))
    with pytest.raises(InputError) as caught:
        load_inputs("c.yaml")
    lines = caught.value.lines()
    assert any(line.startswith("c.yaml:6: expected mechanism") for line in lines), lines
    assert any(line.startswith("schools.csv:4: unknown school 'HS9'") for line in lines), lines
    assert any(line.startswith("priorities.csv:5: unknown school 'Q'") for line in lines), lines


def test_solve_of_bad_input_exits_2_without_traceback(folder: Path) -> None:
    write(folder, "mechanism: deferred_acceptance\n", students=STUDENTS.replace("b,f2,1,", "b,f2,soon,"))
    result = CliRunner().invoke(main, ["solve", "c.yaml", "--out", "run", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        'students.csv:3: expected lottery to be a number (smaller is better), got "soon"'
    ]
    assert not (folder / "run").exists()
