"""Every kind of bad data is refused with a DataError whose lines read `file:line: message`, on the
CSV line of the offending row (the header is line 1), starting with what was expected.

The base case is a good district of five students (families f1…f5), three schools and a compact;
each case replaces one file (or the config) and states exactly the lines it expects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seatplan.models.data import load_inputs
from seatplan.models.errors import ConfigError, DataError, InputError

STUDENTS = """\
student_id,family_id,ses
a,f1,low
b,f2,high
c,f3,low
d,f4,high
e,f5,low
"""
SCHOOLS = """\
school_id,capacity,under_selected
X,5,true
Y,5,false
Z,5,true
"""
PREFERENCES = """\
student_id,school_id,rank
a,Y,1
a,Z,2
b,Y,1
c,Y,1
d,Z,1
e,Y,1
"""
COMPACTS = """\
compact_id,family_id,school_id
C1,f1,X
C1,f2,X
"""
GRADED = "student_id,family_id,grade\na,f1,K\nb,f2,K\nc,f3,1\nd,f4,1\ne,f5,2\n"


FILES = {"students": STUDENTS, "schools": SCHOOLS, "preferences": PREFERENCES, "compacts": COMPACTS}


def config_text(files: dict[str, str | bytes | None], extra: str = "") -> str:
    """The config: a `data:` mapping naming each file on its own line (line 2 onwards), then `extra`."""
    lines = ["data:"] + [
        f"  {key}: {key}.csv" for key in ("students", "schools", "preferences", "compacts", "seats") if key in files
    ]
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, extra: str = "", **replace: str | bytes | None) -> dict[str, str | bytes | None]:
    """Write the base files with some replaced (None: named in the config but not written)."""
    files: dict[str, str | bytes | None] = {**FILES, **replace}
    for key, text in files.items():
        path = folder / f"{key}.csv"
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif text is not None:
            path.write_text(text, encoding="utf-8")
        elif path.exists():
            path.unlink()
    (folder / "c.yaml").write_text(config_text(files, extra), encoding="utf-8")
    return files


def refused(folder: Path, extra: str = "", **replace: str | bytes | None) -> list[str]:
    write(folder, extra, **replace)
    with pytest.raises(InputError) as caught:
        load_inputs("c.yaml")
    assert type(caught.value) is DataError, caught.value.lines()
    return caught.value.lines()


def accepted(folder: Path, extra: str = "", **replace: str | bytes | None):  # type: ignore[no-untyped-def]
    write(folder, extra, **replace)
    return load_inputs("c.yaml")[1]


def check(lines: list[str], expected: list[tuple[str, str]]) -> None:
    """`lines` are exactly `expected`: (file:line, start of the message) each."""
    assert len(lines) == len(expected), lines
    for text, (where, start) in zip(lines, expected, strict=True):
        assert text.startswith(f"{where}: {start}"), (text, where, start)


def test_base_case_is_accepted(folder: Path) -> None:
    instance = accepted(folder)
    assert instance.n_students == 5 and instance.n_schools == 3 and instance.n_compacts == 1


# ---- missing files and columns ------------------------------------------------------------


def test_missing_file_is_reported_on_the_config_line_that_names_it(folder: Path) -> None:
    check(
        refused(folder, preferences=None),
        [
            (
                "c.yaml:4",
                "expected data.preferences to name an existing file, got preferences.csv (no such file)",
            ),
        ],
    )
    check(
        refused(folder, compacts=None),
        [
            ("c.yaml:5", "expected data.compacts to name an existing file, got compacts.csv"),
        ],
    )


def test_every_missing_file_at_once(folder: Path) -> None:
    check(
        refused(folder, students=None, schools=None),
        [
            ("c.yaml:2", "expected data.students to name an existing file"),
            ("c.yaml:3", "expected data.schools to name an existing file"),
        ],
    )


def test_a_folder_where_a_file_is_expected(folder: Path) -> None:
    write(folder)
    (folder / "compacts.csv").unlink()
    (folder / "compacts.csv").mkdir()
    with pytest.raises(DataError) as caught:
        load_inputs("c.yaml")
    assert caught.value.lines() == ["c.yaml:5: expected data.compacts to name a CSV file, got a folder: compacts.csv"]


@pytest.mark.parametrize(
    ("key", "text", "column"),
    [
        ("students", "family_id\nf1\n", "student_id"),
        ("schools", "school_id,under_selected\nX,true\nY,false\nZ,true\n", "capacity"),
        ("preferences", "student_id,school_id\na,Y\n", "rank"),
        ("compacts", "compact_id,family,school_id\nC1,f1,X\n", "family_id"),
    ],
)
def test_missing_column_is_reported_on_the_header(folder: Path, key: str, text: str, column: str) -> None:
    lines = refused(folder, **{key: text})
    check(lines, [(f"{key}.csv:1", f"expected a column '{column}'")])


def test_missing_column_hints_at_the_case(folder: Path) -> None:
    lines = refused(folder, schools="school_id,Capacity\nX,1\nY,1\nZ,1\n")
    check(lines, [("schools.csv:1", "expected a column 'capacity'")])
    assert "found 'Capacity'; names are case-sensitive" in lines[0]


# ---- ids ----------------------------------------------------------------------------------------


def test_duplicate_student_id(folder: Path) -> None:
    check(
        refused(folder, students=STUDENTS + "c,f6,low\n"),
        [
            ("students.csv:7", "duplicate student_id 'c' (first on line 4)"),
        ],
    )


def test_duplicate_school_id(folder: Path) -> None:
    check(
        refused(folder, schools=SCHOOLS + "Y,3,false\n"),
        [
            ("schools.csv:5", "duplicate school_id 'Y' (first on line 3)"),
        ],
    )


def test_empty_id(folder: Path) -> None:
    check(
        refused(folder, students=STUDENTS + ",f6,low\n"),
        [
            ("students.csv:7", "expected a value in column 'student_id', got an empty field"),
        ],
    )


def test_unknown_school_and_student_in_preferences(folder: Path) -> None:
    check(
        refused(folder, preferences=PREFERENCES + "zed,Y,1\nb,Q,2\n"),
        [
            ("preferences.csv:8", "unknown student 'zed' (not in students.csv)"),
            ("preferences.csv:9", "unknown school 'Q' (not in schools.csv)"),
        ],
    )


def test_unknown_school_in_seats(folder: Path) -> None:
    seats = "school_id,grade,capacity\nX,K,1\nQ,K,1\nY,1,1\nZ,2,1\n"
    check(
        refused(folder, students=GRADED, seats=seats),
        [
            ("seats.csv:3", "unknown school 'Q' (not in schools.csv)"),
        ],
    )


def test_unknown_school_and_family_in_compacts(folder: Path) -> None:
    check(
        refused(folder, compacts=COMPACTS + "C2,f3,Q\nC2,f4,Q\nC3,f9,Z\nC3,f5,Z\n"),
        [
            ("compacts.csv:4", "unknown school 'Q' (not in schools.csv)"),
            ("compacts.csv:5", "unknown school 'Q' (not in schools.csv)"),
            (
                "compacts.csv:6",
                "unknown family 'f9' (not in students.csv: no student has this family_id)",
            ),
        ],
    )


# ---- ranked lists ---------------------------------------------------------------------------------


def test_duplicate_rank_in_one_list(folder: Path) -> None:
    check(
        refused(folder, preferences=PREFERENCES + "a,X,2\n"),
        [
            (
                "preferences.csv:8",
                "expected each rank once in a student's list, got student 'a' with rank 2 again (first on line 3)",
            ),
        ],
    )


def test_duplicate_rank_written_differently(folder: Path) -> None:
    check(
        refused(folder, preferences=PREFERENCES + "a,X,02\n"),
        [
            (
                "preferences.csv:8",
                "expected each rank once in a student's list, got student 'a' with rank 02",
            ),
        ],
    )


def test_duplicate_school_in_one_list(folder: Path) -> None:
    check(
        refused(folder, preferences=PREFERENCES + "a,Z,3\n"),
        [
            (
                "preferences.csv:8",
                "expected each school once in a student's list, got student 'a' listing "
                "school 'Z' again (first on line 3)",
            ),
        ],
    )


def test_rank_not_an_integer(folder: Path) -> None:
    check(
        refused(folder, preferences=PREFERENCES + "b,X,second\nc,X,2.0\n"),
        [
            ("preferences.csv:8", 'expected rank to be an integer, got "second"'),
            ("preferences.csv:9", 'expected rank to be an integer, got "2.0"'),
        ],
    )


def test_rank_too_large_for_64_bits(folder: Path) -> None:
    """An integer past 64 bits is a bad value on its line, not a crash; the rows around it still count."""
    check(
        refused(folder, preferences=PREFERENCES + "b,X,99999999999999999999\nc,X,-9223372036854775808\n"),
        [("preferences.csv:8", 'expected rank to be an integer of at most 18 digits, got "99999999999999999999"')],
    )


def test_row_order_of_preferences_does_not_matter(folder: Path) -> None:
    """Lists are read by (student, rank), whatever order the rows come in; ranks need not be 1, 2, …"""
    in_order = accepted(folder, preferences=PREFERENCES + "b,Z,5\nb,X,7\n")
    lines = (PREFERENCES + "b,Z,5\nb,X,7\n").splitlines()
    shuffled = "\n".join([lines[0], *reversed(lines[1:])]) + "\n"
    mixed = accepted(folder, preferences=shuffled)
    assert mixed.pref_start.tolist() == in_order.pref_start.tolist()
    assert mixed.pref_school.tolist() == in_order.pref_school.tolist()
    assert in_order.pref_school[in_order.pref_start[1] : in_order.pref_start[2]].tolist() == [1, 2, 0]  # b: Y, Z, X


def test_same_school_in_two_students_lists_is_fine(folder: Path) -> None:
    assert accepted(folder, preferences=PREFERENCES + "b,Z,2\nc,Z,2\n").list_length.tolist() == [
        2,
        2,
        2,
        1,
        1,
    ]


# ---- capacity and seats -------------------------------------------------------------------------


def test_capacity_not_an_integer_at_least_zero(folder: Path) -> None:
    schools = "school_id,capacity,under_selected\nX,-3,true\nY,2.5,false\nZ,ten,true\nW,,false\n"
    check(
        refused(folder, schools=schools),
        [
            ("schools.csv:2", 'expected capacity to be an integer ≥ 0, got "-3"'),
            ("schools.csv:3", 'expected capacity to be an integer ≥ 0, got "2.5"'),
            ("schools.csv:4", 'expected capacity to be an integer ≥ 0, got "ten"'),
            ("schools.csv:5", 'expected capacity to be an integer ≥ 0, got ""'),
        ],
    )


def test_capacity_zero_and_plus_sign_are_fine(folder: Path) -> None:
    instance = accepted(folder, schools="school_id,capacity,under_selected\nX,0,true\nY,+5,false\nZ,007,true\n")
    assert instance.capacity[:, 0].tolist() == [0, 5, 7]


def test_seats_missing_for_a_grade_students_have(folder: Path) -> None:
    seats = "school_id,grade,capacity\nX,K,2\nY,K,2\nZ,1,2\n"
    check(
        refused(folder, students=GRADED, seats=seats),
        [
            (
                "students.csv:6",
                "expected seats for grade '2' in seats.csv, got none (1 student of this grade)",
            ),
        ],
    )


def test_seats_capacity_and_repeats(folder: Path) -> None:
    seats = "school_id,grade,capacity\nX,K,2\nY,1,-3\nZ,2,2.5\nX,K,4\n"
    check(
        refused(folder, students=GRADED, seats=seats),
        [
            ("seats.csv:3", 'expected capacity to be an integer ≥ 0, got "-3"'),
            ("seats.csv:4", 'expected capacity to be an integer ≥ 0, got "2.5"'),
            (
                "seats.csv:5",
                "expected one row per school and grade, got school 'X' grade 'K' again (first on line 2)",
            ),
        ],
    )


def test_grades_and_seats_are_accepted(folder: Path) -> None:
    seats = "school_id,grade,capacity\nX,K,2\nY,1,2\nZ,2,2\nX,9,1\n"
    instance = accepted(folder, students=GRADED, seats=seats)
    # Grade 9 has no student, but its seat is one of X's: a school's total capacity is all grades'.
    assert instance.has_grades and instance.total_capacity.tolist() == [3, 2, 2]


def test_seats_given_without_a_grade_column(folder: Path) -> None:
    check(
        refused(folder, seats="school_id,grade,capacity\nX,K,1\n"),
        [
            ("c.yaml:6", "expected a grade column in students.csv because data.seats is given"),
        ],
    )


def test_grade_column_without_seats(folder: Path) -> None:
    check(
        refused(folder, students=GRADED),
        [
            (
                "c.yaml:1",
                "expected data.seats (a seats.csv with school_id,grade,capacity) because students.csv "
                "has a grade column",
            ),
        ],
    )


# ---- compacts -------------------------------------------------------------------------------------


def test_family_in_two_compacts(folder: Path) -> None:
    check(
        refused(folder, compacts=COMPACTS + "C2,f3,Z\nC2,f2,Z\nC2,f4,Z\n"),
        [
            (
                "compacts.csv:5",
                "expected family 'f2' in one compact only, got compacts 'C1' (line 3) and 'C2'",
            ),
        ],
    )


def test_family_twice_in_one_compact(folder: Path) -> None:
    check(
        refused(folder, compacts=COMPACTS + "C1,f1,X\n"),
        [
            (
                "compacts.csv:4",
                "expected family 'f1' once in compact 'C1', got it again (first on line 2)",
            ),
        ],
    )


def test_compact_with_too_few_families(folder: Path) -> None:
    check(
        refused(folder, compacts=COMPACTS + "C2,f3,Z\n"),
        [
            (
                "compacts.csv:4",
                "expected compact 'C2' to have 2 to 11 families (compacts.min_families, max_families), got 1",
            ),
        ],
    )


def test_compact_with_too_many_families(folder: Path) -> None:
    check(
        refused(folder, "compacts:\n  max_families: 2\n", compacts=COMPACTS + "C1,f3,X\n"),
        [
            (
                "compacts.csv:2",
                "expected compact 'C1' to have 2 to 2 families (compacts.min_families, max_families), got 3",
            ),
        ],
    )


def test_compact_school_marked_not_under_selected(folder: Path) -> None:
    check(
        refused(folder, compacts="compact_id,family_id,school_id\nC1,f1,Y\nC1,f2,Y\n"),
        [
            (
                "compacts.csv:2",
                "expected compact 'C1' to name an under-selected school "
                "(compacts.require_under_selected is true), got 'Y': schools.csv:3 says "
                "under_selected false",
            ),
        ],
    )


def test_compact_school_counted_not_under_selected(folder: Path) -> None:
    # Without an under_selected column: Y has 4 first choices for 4 seats, so it is not under-selected.
    schools = "school_id,capacity\nX,5\nY,4\nZ,5\n"
    check(
        refused(folder, schools=schools, compacts="compact_id,family_id,school_id\nC1,f1,Y\nC1,f2,Y\n"),
        [
            (
                "compacts.csv:2",
                "expected compact 'C1' to name an under-selected school "
                "(compacts.require_under_selected is true), got 'Y': 4 first choices for 4 seats",
            ),
        ],
    )


def test_compact_school_not_under_selected_is_accepted_when_not_required(folder: Path) -> None:
    instance = accepted(
        folder,
        "compacts:\n  require_under_selected: false\n",
        compacts="compact_id,family_id,school_id\nC1,f1,Y\nC1,f2,Y\n",
    )
    assert instance.n_compacts == 1 and instance.school_ids[instance.compact_school[0]] == "Y"


def test_compact_with_mixed_schools(folder: Path) -> None:
    check(
        refused(folder, compacts=COMPACTS + "C1,f3,Z\n"),
        [
            (
                "compacts.csv:4",
                "expected every row of compact 'C1' to name school 'X' (as on line 2), got 'Z'",
            ),
        ],
    )


def test_unknown_family_does_not_also_miscount_the_compact(folder: Path) -> None:
    check(
        refused(folder, compacts="compact_id,family_id,school_id\nC1,f1,X\nC1,f9,X\n"),
        [
            ("compacts.csv:3", "unknown family 'f9'"),
        ],
    )


# ---- diversity attributes and distance --------------------------------------------------------------


def test_attribute_named_in_config_missing_from_students(folder: Path) -> None:
    extra = "diversity:\n  - attribute: race\n    category: black\n    band: [10, 60]\n"
    check(
        refused(folder, extra),
        [
            ("students.csv:1", "expected a column 'race' for the diversity rule at c.yaml:7"),
        ],
    )


def test_attribute_present_is_accepted(folder: Path) -> None:
    extra = "diversity:\n  - attribute: ses\n    category: low\n    band: [10, 60]\n"
    assert list(accepted(folder, extra).attributes) == ["ses"]


def test_distance_weight_needs_coordinate_columns(folder: Path) -> None:
    check(
        refused(folder, "objective:\n  distance: 1\n"),
        [
            (
                "students.csv:1",
                "expected a column 'lat' because objective.distance is 1 (c.yaml:7)",
            ),
            (
                "students.csv:1",
                "expected a column 'lon' because objective.distance is 1 (c.yaml:7)",
            ),
            ("schools.csv:1", "expected a column 'lat' because objective.distance is 1 (c.yaml:7)"),
            ("schools.csv:1", "expected a column 'lon' because objective.distance is 1 (c.yaml:7)"),
        ],
    )


LOCATED_STUDENTS = (
    "student_id,family_id,lat,lon\na,f1,42.3,-71.0\nb,f2,42.3,-71.0\nc,f3,,\nd,f4,42.3,\ne,f5,42.3,-71.0\n"
)
LOCATED_SCHOOLS = (
    "school_id,capacity,under_selected,lat,lon\nX,5,true,42.3,-71.1\nY,5,false,42.3,-71.1\nZ,5,true,42.4,-71.1\n"
)


def test_distance_weight_needs_coordinates_on_every_row(folder: Path) -> None:
    check(
        refused(
            folder,
            "objective:\n  distance: 2\n",
            students=LOCATED_STUDENTS,
            schools=LOCATED_SCHOOLS,
        ),
        [
            ("students.csv:4", "expected lat and lon because objective.distance is 2 (c.yaml:7)"),
            ("students.csv:5", "expected lat and lon because objective.distance is 2 (c.yaml:7)"),
        ],
    )


def test_missing_coordinates_are_fine_without_a_distance_weight(folder: Path) -> None:
    assert accepted(folder, students=LOCATED_STUDENTS, schools=LOCATED_SCHOOLS).n_students == 5


def test_coordinates_out_of_range_or_not_numbers(folder: Path) -> None:
    students = "student_id,family_id,lat,lon\na,f1,95,-71.0\nb,f2,north,-71.0\nc,f3,42,-200\nd,f4,42,-71\ne,f5,42,-71\n"
    check(
        refused(folder, students=students),
        [
            ("students.csv:2", 'expected lat to be a number from -90 to 90, got "95"'),
            ("students.csv:3", 'expected lat to be a number from -90 to 90, got "north"'),
            ("students.csv:4", 'expected lon to be a number from -180 to 180, got "-200"'),
        ],
    )


def test_under_selected_not_true_or_false(folder: Path) -> None:
    check(
        refused(folder, schools="school_id,capacity,under_selected\nX,5,maybe\nY,5,false\nZ,5,true\n"),
        [
            ("schools.csv:2", 'expected under_selected to be true or false, got "maybe"'),
        ],
    )


# ---- malformed CSV -----------------------------------------------------------------------------------


def test_row_with_too_many_fields(folder: Path) -> None:
    check(
        refused(folder, schools=SCHOOLS + "W,1,false,extra\n"),
        [
            ("schools.csv:5", "malformed CSV: expected 3 fields, as in the header, got 4"),
        ],
    )


def test_row_with_too_many_fields_after_a_quoted_line_break(folder: Path) -> None:
    schools = 'school_id,capacity,under_selected,name\nX,5,true,"Two\nLines"\nY,5,false,ok\nZ,5,true,a,b\n'
    check(
        refused(folder, schools=schools),
        [
            ("schools.csv:5", "malformed CSV: expected 4 fields, as in the header, got 5"),
        ],
    )


def test_unclosed_quote(folder: Path) -> None:
    schools = 'school_id,capacity,under_selected,name\nX,5,true,ok\nY,5,false,"open\nZ,5,true,ok\n'
    check(
        refused(folder, schools=schools),
        [
            (
                "schools.csv:3",
                "malformed CSV: expected a closing quote for the quoted field that starts on this line",
            ),
        ],
    )


def test_non_utf8_bytes(folder: Path) -> None:
    check(
        refused(folder, students=STUDENTS.encode() + b"f,f6,caf\xe9\n"),
        [
            ("students.csv:7", "expected UTF-8 text, got the byte 0xe9"),
        ],
    )


def test_utf8_with_byte_order_mark_and_crlf_is_fine(folder: Path) -> None:
    students = ("\ufeff" + STUDENTS).replace("\n", "\r\n").encode("utf-8")
    assert accepted(folder, students=students).student_ids.tolist() == ["a", "b", "c", "d", "e"]


def test_empty_file(folder: Path) -> None:
    check(
        refused(folder, compacts=""),
        [("compacts.csv:1", "expected a header row, got an empty file")],
    )


def test_header_only(folder: Path) -> None:
    lines = refused(folder, students="student_id,family_id\n")
    assert lines[0] == "students.csv:1: expected at least one student, got only the header"
    check(
        refused(
            folder,
            schools="school_id,capacity\n",
            preferences="student_id,school_id,rank\n",
            compacts=None,
        ),
        [
            ("c.yaml:5", "expected data.compacts to name an existing file"),
            ("schools.csv:1", "expected at least one school, got only the header"),
        ],
    )


def test_duplicate_column(folder: Path) -> None:
    check(
        refused(folder, schools="school_id,capacity,capacity\nX,1,1\nY,1,1\nZ,1,1\n"),
        [
            ("schools.csv:1", "expected each column once, got 'capacity' twice"),
        ],
    )


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(folder: Path) -> None:
    schools = (
        'school_id,name,capacity,under_selected\n\nX,"North\nHigh",5,true\n\n'
        'Y,"A ""quoted"" name",-1,false\nZ,"South\r\nHigh",x,true\n'
    )
    check(
        refused(folder, schools=schools),
        [
            ("schools.csv:6", 'expected capacity to be an integer ≥ 0, got "-1"'),
            ("schools.csv:7", 'expected capacity to be an integer ≥ 0, got "x"'),
        ],
    )


def test_many_bad_rows_are_summed_up(folder: Path) -> None:
    rows = "".join(f"s{i},f{i},low\n" for i in range(30))
    preferences = "student_id,school_id,rank\n" + "".join(f"s{i},Q,1\n" for i in range(30))
    lines = refused(folder, students="student_id,family_id,ses\n" + rows, preferences=preferences, compacts=None)
    about_q = [line for line in lines if "Q" in line]
    assert len(about_q) == 21
    assert about_q[0] == "preferences.csv:2: unknown school 'Q' (not in schools.csv)"
    assert about_q[-1] == "preferences.csv: … and 10 more rows like line 2: unknown school 'Q' (not in schools.csv)"


# ---- everything at once ------------------------------------------------------------------------------


def test_every_problem_in_every_file_is_reported_at_once(folder: Path) -> None:
    lines = refused(
        folder,
        students=STUDENTS + "a,f6,low\n",
        schools="school_id,capacity,under_selected\nX,5,true\nY,-3,false\nZ,5,true\n",
        preferences=PREFERENCES + "e,Q,2\nb,Z,1\n",
        compacts=COMPACTS + "C2,f3,Z\n",
    )
    assert lines == [
        "students.csv:7: duplicate student_id 'a' (first on line 2)",
        'schools.csv:3: expected capacity to be an integer ≥ 0, got "-3"',
        "preferences.csv:8: unknown school 'Q' (not in schools.csv)",
        "preferences.csv:9: expected each rank once in a student's list, got student 'b' with rank 1 "
        "again (first on line 4)",
        "compacts.csv:4: expected compact 'C2' to have 2 to 11 families (compacts.min_families, max_families), got 1",
    ]


def test_reading_problems_in_several_files_are_reported_at_once(folder: Path) -> None:
    lines = refused(folder, students=b"student_id\n\xff\n", schools="", preferences=PREFERENCES + "a,b,c,d\n")
    assert lines == [
        "students.csv:2: expected UTF-8 text, got the byte 0xff (save the file as UTF-8)",
        "schools.csv:1: expected a header row, got an empty file",
        "preferences.csv:8: malformed CSV: expected 3 fields, as in the header, got 4 "
        "(quote a value that contains a comma)",
    ]


def test_config_problem_comes_with_the_data_problems(folder: Path) -> None:
    write(folder, "solver:\n  backend: gurobi\n", schools=SCHOOLS + "Y,1,true\n")
    with pytest.raises(ConfigError) as caught:
        load_inputs("c.yaml")
    assert caught.value.lines() == [
        'c.yaml:7: expected solver.backend to be one of auto | cpsat | pulp | highs, got "gurobi"',
        "schools.csv:5: duplicate school_id 'Y' (first on line 3)",
    ]
