"""Every kind of bad config is refused with a ConfigError whose lines read `file:line: message`,
on the line of the offending YAML key, starting with what was expected.

Each case writes a config whose first four lines are the `data:` mapping below, so the line numbers
in the table can be counted by eye: the case's own text starts on line 5.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seatplan.models.config import load_config
from seatplan.models.data import load_inputs
from seatplan.models.errors import ConfigError, DataError, InputError

DATA = "data:\n  students: students.csv\n  schools: schools.csv\n  preferences: preferences.csv\n"
STUDENTS = "student_id,ses\na,low\nb,high\n"
SCHOOLS = "school_id,capacity\nX,1\nY,1\n"
PREFERENCES = "student_id,school_id,rank\na,X,1\nb,Y,1\n"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Good data files in a fresh folder, which is the current folder (so messages say `c.yaml:…`)."""
    (tmp_path / "students.csv").write_text(STUDENTS, encoding="utf-8")
    (tmp_path / "schools.csv").write_text(SCHOOLS, encoding="utf-8")
    (tmp_path / "preferences.csv").write_text(PREFERENCES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def refused(folder: Path, text: str | bytes) -> ConfigError:
    """Write `text` as c.yaml and return the ConfigError that reading config and data raises."""
    path = folder / "c.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_inputs("c.yaml")
    assert type(caught.value) is ConfigError, caught.value.lines()
    return caught.value


def check(error: ConfigError, expected: list[tuple[int | None, str]]) -> None:
    """The error's lines are exactly `expected`: (line, start of the message) each, in c.yaml."""
    lines = error.lines()
    assert len(lines) == len(expected), lines
    for text, (line, start) in zip(lines, expected, strict=True):
        where = "c.yaml" if line is None else f"c.yaml:{line}"
        assert text.startswith(f"{where}: {start}"), (text, where, start)
        assert "Traceback" not in text


# (id, config text after the data mapping, [(line, message start), …])
CASES: list[tuple[str, str, list[tuple[int | None, str]]]] = [
    # unknown keys name the nearest valid key, at the top and inside sections
    (
        "unknown top key",
        "objectve:\n  rank: 1\n",
        [(5, "unknown key 'objectve'; did you mean 'objective'?")],
    ),
    (
        "unknown key in solver",
        "solver:\n  backend: cpsat\n  time_limt: 5\n",
        [(7, "unknown key 'time_limt' in solver; did you mean 'time_limit'?")],
    ),
    (
        "unknown key in compacts",
        "compacts:\n  max_familes: 5\n",
        [(6, "unknown key 'max_familes' in compacts; did you mean 'max_families'?")],
    ),
    (
        "unknown key in a diversity rule",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [10, 50]\n    wieght: 3\n",
        [(9, "unknown key 'wieght' in diversity[0]; did you mean 'weight'?")],
    ),
    (
        "unknown key with nothing near",
        "zzz: 1\n",
        [(5, "unknown key 'zzz'; valid keys: name, data")],
    ),
    # unknown backend and other choices
    (
        "unknown backend",
        "solver:\n  backend: gurobi\n",
        [(6, 'expected solver.backend to be one of auto | cpsat | pulp | highs, got "gurobi"')],
    ),
    (
        "unknown cluster mode",
        "clusters:\n  mode: strict\n",
        [(6, 'expected clusters.mode to be one of off | soft | hard, got "strict"')],
    ),
    (
        "unknown diversity scope",
        "diversity:\n  - {attribute: ses, category: low, band: [1, 2], scope: town}\n",
        [(6, 'expected diversity[0].scope to be one of school | cluster | sector, got "town"')],
    ),
    # weights: integers ≥ 0
    (
        "negative weight",
        "objective:\n  rank: -1\n",
        [(6, 'expected objective.rank to be an integer ≥ 0, got "-1"')],
    ),
    (
        "fractional weight",
        "objective:\n  unassigned: 2.5\n",
        [(6, 'expected objective.unassigned to be an integer ≥ 0, got "2.5"')],
    ),
    (
        "weight in words",
        "objective:\n  distance: ten\n",
        [(6, 'expected objective.distance to be an integer ≥ 0, got "ten"')],
    ),
    (
        "weight in quotes",
        'objective:\n  broken_compact: "2"\n',
        [(6, 'expected objective.broken_compact to be an integer ≥ 0, got "2" in quotes')],
    ),
    (
        "negative diversity weight",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [10, 50]\n    weight: -2\n",
        [(9, 'expected diversity[0].weight to be an integer ≥ 0, got "-2"')],
    ),
    (
        "fractional diversity weight",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [10, 50]\n    weight: 0.5\n",
        [(9, 'expected diversity[0].weight to be an integer ≥ 0, got "0.5"')],
    ),
    # bands
    (
        "band below 0 and above 100",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [-5, 120]\n",
        [
            (8, 'expected diversity[0].band[0] to be an integer from 0 to 100, got "-5"'),
            (8, 'expected diversity[0].band[1] to be an integer from 0 to 100, got "120"'),
        ],
    ),
    (
        "band lo above hi",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [60, 40]\n",
        [(8, "expected diversity[0].band to have lo ≤ hi, got [60, 40]")],
    ),
    (
        "band on later lines",
        "diversity:\n  - attribute: ses\n    category: low\n    band:\n      - 10\n      - 101\n",
        [(10, 'expected diversity[0].band[1] to be an integer from 0 to 100, got "101"')],
    ),
    (
        "band not a pair",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [10]\n",
        [(8, "expected diversity[0].band to be [lo, hi], two integer percents, got a list")],
    ),
    (
        "around_district above 100",
        "diversity:\n  - attribute: ses\n    category: low\n    around_district: 150\n",
        [(8, 'expected diversity[0].around_district to be an integer from 0 to 100, got "150"')],
    ),
    (
        "both band and around_district",
        "diversity:\n  - attribute: ses\n    category: low\n    band: [10, 50]\n    around_district: 5\n",
        [(6, "expected diversity[0] to have exactly one of band and around_district")],
    ),
    (
        "neither band nor around_district, second rule",
        "diversity:\n  - {attribute: ses, category: low, band: [10, 50]}\n  - attribute: ses\n    category: high\n",
        [(7, "expected diversity[1] to have exactly one of band and around_district")],
    ),
    (
        "rule without attribute",
        "diversity:\n  - {category: low, band: [10, 50]}\n",
        [(6, "expected diversity[0] to name an attribute")],
    ),
    # wrong types
    (
        "text where a number is expected",
        "solver:\n  time_limit: soon\n",
        [(6, 'expected solver.time_limit to be a number > 0, got "soon"')],
    ),
    (
        "quoted number where a number is expected",
        "solver:\n  time_limit: '5'\n",
        [(6, 'expected solver.time_limit to be a number > 0, got "5" in quotes, which is text')],
    ),
    (
        "list where a mapping is expected",
        "objective: [1, 2]\n",
        [(5, "expected objective to be a mapping, got a list")],
    ),
    (
        "list where a mapping is expected, block style",
        "solver:\n  - backend\n",
        [(5, "expected solver to be a mapping, got a list")],
    ),
    (
        "text where a mapping is expected",
        "compacts: yes please\n",
        [(5, 'expected compacts to be a mapping, got "yes please"')],
    ),
    (
        "mapping where a list is expected",
        "diversity:\n  attribute: ses\n",
        [(5, "expected diversity to be a list of rules, got a mapping")],
    ),
    (
        "text where a rule is expected",
        "diversity:\n  - ses\n",
        [(6, 'expected diversity[0] to be a mapping, got "ses"')],
    ),
    (
        "text where true/false is expected",
        "compacts:\n  require_under_selected: maybe\n",
        [(6, 'expected compacts.require_under_selected to be true or false, got "maybe"')],
    ),
    (
        "max_share above 100",
        "compacts:\n  max_share: 150\n",
        [(6, 'expected compacts.max_share to be a number from 0 to 100, got "150"')],
    ),
    (
        "min_families above max_families",
        "compacts:\n  min_families: 5\n  max_families: 3\n",
        [(6, "expected compacts.min_families ≤ max_families, got 5 > 3")],
    ),
    (
        "gap above 1, no workers, negative seed",
        "solver:\n  gap: 2\n  workers: 0\n  seed: -1\n",
        [
            (6, 'expected solver.gap to be a number from 0 to 1, got "2"'),
            (7, 'expected solver.workers to be an integer ≥ 1, got "0"'),
            (8, 'expected solver.seed to be an integer ≥ 0, got "-1"'),
        ],
    ),
    ("empty name", "name:\n", [(5, "expected name to be a text value, got nothing")]),
    (
        "duplicate key",
        "name: a\nname: b\n",
        [(6, "expected each key once, got 'name' again (first on line 5)")],
    ),
    # malformed YAML: the line is where the fix goes
    (
        "unclosed brace",
        "objective: {rank: 1\nsolver: {}\n",
        [(5, "malformed YAML: expected '}' to close the '{' opened on this line")],
    ),
    (
        "unclosed bracket at the end",
        "diversity: [ {attribute: ses, category: low, band: [1, 2]}\n",
        [
            (
                5,
                "malformed YAML: expected ']' to close the '[' opened on this line, got the end of the file",
            )
        ],
    ),
    (
        "unclosed quote",
        'name: "demo\nsolver: {}\n',
        [(5, "malformed YAML: expected a closing quote")],
    ),
    (
        "indented too far",
        "objective:\n  rank: 1\n    unassigned: 3\n",
        [(7, "malformed YAML: unexpected ':' on this line; check its indentation")],
    ),
    (
        "tab for indentation",
        "objective:\n\trank: 1\n",
        [(6, "malformed YAML: expected spaces for indentation, got a tab")],
    ),
    (
        "stray closing bracket",
        "objective: {rank: 1}}\n",
        [(5, "malformed YAML: unexpected '}' on this line")],
    ),
]


@pytest.mark.parametrize(("body", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_bad_config_is_refused_on_its_line(folder: Path, body: str, expected: list[tuple[int | None, str]]) -> None:
    check(refused(folder, DATA + body), expected)


def test_the_good_config_used_by_every_case_is_accepted(folder: Path) -> None:
    (folder / "c.yaml").write_text(
        DATA + "diversity:\n  - {attribute: ses, category: low, band: [10, 50]}\n"
        "clusters:\n  mode: off\nsolver:\n  time_limit: 1e3\n",
        encoding="utf-8",
    )
    config, instance = load_inputs("c.yaml")
    assert instance.n_students == 2
    assert config.clusters.mode == "off"  # YAML 1.1 reads `off` as false; it is the mode
    assert config.solver.time_limit == 1000.0  # and `1e3` as text; it is a number


def test_unknown_key_in_data_names_the_nearest(folder: Path) -> None:
    error = refused(folder, DATA + "  prefernces: p.csv\n")
    check(error, [(5, "unknown key 'prefernces' in data; did you mean 'preferences'?")])


def test_data_section_missing_or_incomplete(folder: Path) -> None:
    check(refused(folder, "name: x\n"), [(1, "expected a 'data' mapping")])
    check(
        refused(folder, "name: x\ndata:\n  students: students.csv\n  schools: schools.csv\n"),
        [(2, "expected data to name the preferences file")],
    )
    check(
        refused(folder, "data: [students.csv]\n"),
        [(1, "expected data to be a mapping, got a list")],
    )
    check(
        refused(folder, DATA + "  compacts: 3\n"),
        [(5, 'expected data.compacts to be a file path, got "3"')],
    )


def test_indentation_slip_inside_data(folder: Path) -> None:
    error = refused(folder, "data:\n  students: students.csv\n schools: schools.csv\n")
    check(error, [(3, "malformed YAML: expected this line to line up with the keys above it")])


def test_empty_and_non_mapping_configs(folder: Path) -> None:
    check(refused(folder, ""), [(None, "expected a YAML mapping with at least a 'data' key")])
    check(refused(folder, "- a\n- b\n"), [(1, "expected the config to be a mapping, got a list")])


def test_config_that_is_not_utf8(folder: Path) -> None:
    error = refused(folder, DATA.encode() + b"name: caf\xe9\n")
    check(error, [(5, "expected UTF-8 text, got the byte 0xe9")])


def test_config_missing_or_a_folder(folder: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("nowhere.yaml")
    assert caught.value.lines() == ["nowhere.yaml: expected a YAML config file, got no file at this path"]
    (folder / "sub").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config("sub")
    assert caught.value.lines() == ["sub: expected a YAML config file, got a folder"]


def test_python_tags_are_refused_not_run(folder: Path) -> None:
    error = refused(
        folder,
        DATA + "name: !!python/object/apply:os.getcwd []\nsolver: !!python/name:os.sep x\n"
        "objective: !custom {rank: 1}\n",
    )
    check(
        error,
        [
            (
                5,
                "expected plain YAML, got the tag 'tag:yaml.org,2002:python/object/apply:os.getcwd'",
            ),
            (6, "expected plain YAML, got the tag 'tag:yaml.org,2002:python/name:os.sep'"),
            (7, "expected plain YAML, got the tag '!custom'"),
        ],
    )


def test_every_config_problem_is_reported_at_once(folder: Path) -> None:
    error = refused(
        folder,
        DATA + "objectve: {rank: 1}\nsolver:\n  backend: gurobi\n  time_limt: 5\nobjective:\n  rank: -1\n",
    )
    check(
        error,
        [
            (5, "unknown key 'objectve'"),
            (7, "expected solver.backend to be one of"),
            (8, "unknown key 'time_limt' in solver"),
            (10, 'expected objective.rank to be an integer ≥ 0, got "-1"'),
        ],
    )


def test_config_and_data_problems_are_reported_together(folder: Path) -> None:
    (folder / "schools.csv").write_text("school_id,capacity\nX,-3\nY,1\n", encoding="utf-8")
    error = refused(folder, DATA + "solver:\n  backend: gurobi\n")
    assert error.lines() == [
        'c.yaml:6: expected solver.backend to be one of auto | cpsat | pulp | highs, got "gurobi"',
        'schools.csv:2: expected capacity to be an integer ≥ 0, got "-3"',
    ]
    # Reading the config alone reports only the config's problem.
    with pytest.raises(ConfigError) as caught:
        load_config("c.yaml")
    assert len(caught.value.lines()) == 1


def test_clean_config_with_bad_data_raises_data_error(folder: Path) -> None:
    (folder / "schools.csv").write_text("school_id,capacity\nX,-3\nY,1\n", encoding="utf-8")
    (folder / "c.yaml").write_text(DATA, encoding="utf-8")
    with pytest.raises(DataError):
        load_inputs("c.yaml")
