"""Mutations of valid input folders, for the fuzz suite: each a pure function of a `random.Random`
and the file's bytes (or of the folder), so a case is reproduced from its drawn values alone.

A case names a seed folder, the file it mutates, the mutation families applied in turn and the
random seed they draw from; `apply` performs it in a copy of the folder.
"""

from __future__ import annotations

import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path

#: Values that are not what a column or a key expects, in every way a planner's tools produce them.
WEIRD_NUMBERS = (
    "1e400",
    "-1e400",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    ".nan",
    ".inf",
    "0x1F",
    "0o17",
    "0b101",
    "1_000",
    "٣",
    "١٢",
    "１２",
    "²",
    "1" * 30,
    "-" + "9" * 30,
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1.5",
    "2.0",
    "1e3",
    "+7",
    "-0",
    "-1",
    " 3 ",
    "",
    "0" * 25 + "1",
    "1e-400",
    "4.9e-324",
    "1.7976931348623157e309",
)
WEIRD_TEXT = (
    "\u202eS1",
    "S1\u200f",
    "\u200b",
    "🏫",
    "👨\u200d👩\u200d👧",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x7f",
    "\x01",
    "\u2028",
    "\u0085",
    "\ufeff",
    "\ufffd",
    "a,b",
    '"',
    '""',
    "'",
    "\\",
    "%s%n",
    "{0}",
    "\t",
    "true",
    "null",
    "~",
    "N/A",
    "x" * 5000,
    "\r",
    "é",
    "e\u0301",
    "Ａ",
    "-",
    "#",
    "=1+1",
    "S000001",
    "SCH0001",
    "K",
)
INTERESTING_BYTES = (0x00, 0x0A, 0x0D, 0x22, 0x2C, 0x20, 0x09, 0xFF, 0xC3, 0x80, 0xEF, 0x1B, 0x7F, 0x23, 0x3A)


def _position(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _fields(line: bytes) -> tuple[list[bytes], bytes]:
    body = line.rstrip(b"\r\n")
    return body.split(b","), line[len(body) :]


def _join(fields: list[bytes], end: bytes) -> bytes:
    return b",".join(fields) + end


def _with_fields(data: bytes, change: Callable[[list[bytes]], list[bytes]]) -> bytes:
    out = []
    for line in _lines(data):
        fields, end = _fields(line)
        out.append(_join(change(fields), end))
    return b"".join(out)


# ---------------------------------------------------------------------------------------------
# bytes of any file


def flip_byte(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.choice(INTERESTING_BYTES)])
    at = rng.randrange(len(data))
    value = rng.choice(INTERESTING_BYTES) if rng.random() < 0.6 else rng.randrange(256)
    return data[:at] + bytes([value]) + data[at + 1 :]


def flip_char(rng: random.Random, data: bytes) -> bytes:
    """A character replaced by another character (the file stays UTF-8 when it was)."""
    text = data.decode("utf-8", "replace")
    if not text:
        return _encode(rng.choice(WEIRD_TEXT))
    at = rng.randrange(len(text))
    char = rng.choice([chr(rng.randrange(32, 127)), chr(rng.randrange(0x80, 0x3000)), rng.choice(WEIRD_TEXT)[:1]])
    return _encode(text[:at] + char + text[at + 1 :])


def insert_text(rng: random.Random, data: bytes) -> bytes:
    at = _position(rng, data)
    return data[:at] + _encode(rng.choice(WEIRD_TEXT + WEIRD_NUMBERS)) + data[at:]


def truncate_file(rng: random.Random, data: bytes) -> bytes:
    return data[: _position(rng, data)]


def truncate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    i = rng.randrange(len(lines))
    lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return b"".join(lines)


def empty_file(rng: random.Random, data: bytes) -> bytes:
    return rng.choice([b"", b"\n", b"   \n\n", b"\xef\xbb\xbf", b"\r\n\r\n", b","])


def add_bom(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return b"\xef\xbb\xbf" + data
    if choice == 1:
        return b"\xef\xbb\xbf\xef\xbb\xbf" + data
    if choice == 2:
        return b"\xff\xfe" + data.decode("utf-8", "replace").encode("utf-16-le")
    return data.decode("utf-8", "replace").encode("utf-16")


def line_endings(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return data.replace(b"\n", b"\r\n")
    if choice == 1:
        return data.replace(b"\n", b"\r")
    if choice == 2:
        return b"".join(line.rstrip(b"\n") + rng.choice([b"\n", b"\r\n", b"\r", b"\n\r"]) for line in _lines(data))
    return data.rstrip(b"\r\n")


def control_char(rng: random.Random, data: bytes) -> bytes:
    at = _position(rng, data)
    char = rng.choice(["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\u2028", "\u202e"])
    return data[:at] + _encode(char) + data[at:]


# ---------------------------------------------------------------------------------------------
# CSV rows and columns


def duplicate_column(rng: random.Random, data: bytes) -> bytes:
    width = len(_fields(_lines(data)[0])[0]) if data else 0
    if not width:
        return data
    i = rng.randrange(width)
    return _with_fields(data, lambda fields: fields[: i + 1] + fields[i : i + 1] + fields[i + 1 :])


def delete_column(rng: random.Random, data: bytes) -> bytes:
    width = len(_fields(_lines(data)[0])[0]) if data else 0
    if not width:
        return data
    i = rng.randrange(width)
    return _with_fields(data, lambda fields: fields[:i] + fields[i + 1 :])


def swap_columns(rng: random.Random, data: bytes) -> bytes:
    width = len(_fields(_lines(data)[0])[0]) if data else 0
    if width < 2:
        return data
    i, j = rng.sample(range(width), 2)
    header_only = rng.random() < 0.5

    def swap(fields: list[bytes]) -> list[bytes]:
        if max(i, j) < len(fields):
            fields[i], fields[j] = fields[j], fields[i]
        return fields

    if header_only:
        lines = _lines(data)
        fields, end = _fields(lines[0])
        lines[0] = _join(swap(fields), end)
        return b"".join(lines)
    return _with_fields(data, swap)


def rename_header(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    fields, end = _fields(lines[0])
    i = rng.randrange(len(fields))
    fields[i] = rng.choice([fields[i].upper(), b" " + fields[i] + b" ", _encode(rng.choice(WEIRD_TEXT)), b"", b"_line"])
    lines[0] = _join(fields, end)
    return b"".join(lines)


def drop_header(rng: random.Random, data: bytes) -> bytes:
    return b"".join(_lines(data)[1:])


def duplicate_row(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    i = rng.randrange(len(lines))
    copies = rng.choice([1, 1, 2, 50, 1000])
    return b"".join(
        lines[: i + 1] + [lines[i] if lines[i].endswith(b"\n") else lines[i] + b"\n"] * copies + lines[i + 1 :]
    )


def delete_row(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def swap_rows(rng: random.Random, data: bytes) -> bytes:
    lines = [line if line.endswith(b"\n") else line + b"\n" for line in _lines(data)]
    if len(lines) < 2:
        return data
    i, j = rng.sample(range(len(lines)), 2)
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def unbalanced_quote(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if not lines:
        return b'"'
    i = rng.randrange(len(lines))
    fields, end = _fields(lines[i])
    j = rng.randrange(len(fields))
    fields[j] = rng.choice([b'"' + fields[j], fields[j] + b'"', b'"' + fields[j] + b'"x', b'"' + fields[j] + b'\n"'])
    lines[i] = _join(fields, end)
    return b"".join(lines)


def weird_field(rng: random.Random, data: bytes) -> bytes:
    """One field (or a whole column) replaced by a number or a text it does not expect."""
    lines = _lines(data)
    if len(lines) < 2:
        return data
    value = _encode(rng.choice(WEIRD_NUMBERS if rng.random() < 0.6 else WEIRD_TEXT))
    width = len(_fields(lines[0])[0])
    j = rng.randrange(width)
    rows = range(1, len(lines)) if rng.random() < 0.2 else [rng.randrange(1, len(lines))]
    for i in rows:
        fields, end = _fields(lines[i])
        if j < len(fields):
            fields[j] = value
            lines[i] = _join(fields, end)
    return b"".join(lines)


def decorate_id(rng: random.Random, data: bytes) -> bytes:
    """A field given a right-to-left mark, an emoji, a zero-width space or a combining accent."""
    lines = _lines(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(1, len(lines))
    fields, end = _fields(lines[i])
    j = rng.randrange(len(fields))
    mark = _encode(rng.choice(["\u200f", "\u202e", "🏫", "\u200b", "\u0301", "\ufeff"]))
    fields[j] = rng.choice([mark + fields[j], fields[j] + mark])
    lines[i] = _join(fields, end)
    return b"".join(lines)


def ragged_row(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(1, len(lines))
    fields, end = _fields(lines[i])
    fields = fields + [b"extra"] * rng.randint(1, 3) if rng.random() < 0.5 else fields[: rng.randrange(len(fields))]
    lines[i] = _join(fields, end)
    return b"".join(lines)


def blank_lines(rng: random.Random, data: bytes) -> bytes:
    lines = [line if line.endswith(b"\n") else line + b"\n" for line in _lines(data)]
    at = rng.randrange(len(lines) + 1)
    lines.insert(at, rng.choice([b"\n", b" \n", b",,,\n", b" , \n", b"\r\n", b"#\n"]))
    return b"".join(lines)


def long_field(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(len(lines))
    fields, end = _fields(lines[i])
    j = rng.randrange(len(fields))
    # At most 80 MB a field (past tables.LARGE_FILE_BYTES, so the reader's guard of long lines is
    # met): twice 20,000 times longer made a line of 1.6 GB, more than the test could hold in memory.
    times = rng.choice([1000, 20000])
    fields[j] = fields[j] * max(1, min(times, (80 << 20) // len(fields[j]))) if fields[j] else b"9" * 100000
    lines[i] = _join(fields, end)
    return b"".join(lines)


CSV_FAMILIES: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip_byte": flip_byte,
    "flip_char": flip_char,
    "insert_text": insert_text,
    "truncate_file": truncate_file,
    "truncate_line": truncate_line,
    "empty_file": empty_file,
    "add_bom": add_bom,
    "line_endings": line_endings,
    "control_char": control_char,
    "duplicate_column": duplicate_column,
    "delete_column": delete_column,
    "swap_columns": swap_columns,
    "rename_header": rename_header,
    "drop_header": drop_header,
    "duplicate_row": duplicate_row,
    "delete_row": delete_row,
    "swap_rows": swap_rows,
    "unbalanced_quote": unbalanced_quote,
    "weird_field": weird_field,
    "decorate_id": decorate_id,
    "ragged_row": ragged_row,
    "blank_lines": blank_lines,
    "long_field": long_field,
}


# ---------------------------------------------------------------------------------------------
# YAML


_VALUE = re.compile(rb"^(\s*(?:- )?[A-Za-z_][A-Za-z_0-9]*: )(.+?)(\r?)$", re.MULTILINE)
_FLOW_VALUE = re.compile(rb"([{,] ?[A-Za-z_][A-Za-z_0-9]*: )([^,{}\[\]\n]+)")
YAML_VALUES = (
    *WEIRD_NUMBERS,
    "~",
    "[]",
    "{}",
    "!!binary aGVsbG8=",
    "!!python/object:os.system {}",
    "!!python/name:os.system",
    "!!set {a: null}",
    "!!timestamp 2001-12-14",
    "!!float nan",
    "!!int 0x1F",
    "!!str",
    "*undefined",
    "&anchor 3",
    "? complex",
    "|\n  block",
    "'unclosed",
    '"\\x00"',
    '"\\u202e"',
    "🏫",
    "yes",
    "off",
    "[1, [2, [3]]]",
    "{a: 1, a: 2}",
    "@reserved",
    "`reserved",
    "%directive",
)


def yaml_value(rng: random.Random, data: bytes) -> bytes:
    """A scalar after `key: ` (block or flow style) replaced by something the schema does not expect."""
    matches = list(_VALUE.finditer(data)) + list(_FLOW_VALUE.finditer(data))
    if not matches:
        return insert_text(rng, data)
    match = rng.choice(matches)
    value = _encode(rng.choice(YAML_VALUES))
    return data[: match.start(2)] + value + data[match.end(2) :]


def yaml_duplicate_key(rng: random.Random, data: bytes) -> bytes:
    lines = [line for line in _lines(data) if re.match(rb"^\s*[A-Za-z_]+:", line)]
    if not lines:
        return data
    line = rng.choice(lines)
    if not line.endswith(b"\n"):
        line += b"\n"
    at = data.find(line)
    return data[:at] + line + data[at:] if at >= 0 else data + b"\n" + line


def yaml_tabs(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    indented = [i for i, line in enumerate(lines) if line.startswith(b"  ")]
    if not indented or rng.random() < 0.3:
        return data.replace(b": ", b":\t", 1)
    i = rng.choice(indented)
    lines[i] = b"\t" + lines[i].lstrip(b" ")
    return b"".join(lines)


def yaml_anchors(rng: random.Random, data: bytes) -> bytes:
    """Anchors and aliases: a section shared, merged, or repeated a billion times over ("laughs")."""
    choice = rng.randrange(4)
    if choice == 0:
        levels, width = rng.randint(2, 9), rng.choice([2, 5, 10])
        block = [b'lol0: &lol0 ["lol"]']
        for level in range(1, levels):
            items = b", ".join([b"*lol%d" % (level - 1)] * width)
            block.append(b"lol%d: &lol%d [%s]" % (level, level, items))
        return b"\n".join(block) + b"\n" + data
    if choice == 1:
        return data + b"\nshared: &shared {rank: 1, unassigned: 100}\nobjective: *shared\n"
    if choice == 2:
        return data + b"\nbase: &base {time_limit: 1}\nsolver:\n  <<: *base\n  <<: *base\n"
    return data + b"\nloop: &loop [*loop]\n"


def yaml_deep(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([50, 200, 1000, 5000, 30000])
    kind = rng.randrange(3)
    if kind == 0:
        nested = b"[" * depth + b"]" * depth
    elif kind == 1:
        nested = b"{a: " * depth + b"1" + b"}" * depth
    else:
        nested = b"\n".join(b"  " * i + b"a:" for i in range(min(depth, 2000))) + b" 1"
        return data + b"\nnested:\n" + nested + b"\n"
    return data + b"\nnested: " + nested + b"\n"


def yaml_shape(rng: random.Random, data: bytes) -> bytes:
    """A config that is a list, a scalar, null, several documents, or only a comment."""
    return rng.choice(
        [
            b"- " + data.replace(b"\n", b"\n  "),
            b"- a\n- b\n",
            b"42\n",
            b"text\n",
            b"null\n",
            b"~\n",
            b"# only a comment\n",
            b"---\n" + data + b"\n---\n" + data,
            b"--- !!map\n" + data,
            b"!!python/object/apply:os.system ['true']\n",
            b"[1, 2\n",
            b"{\n",
            b"data: [students.csv]\n",
            b"data: students.csv\n",
            b"data:\n",
        ]
    )


def yaml_swap_lines(rng: random.Random, data: bytes) -> bytes:
    return swap_rows(rng, data)


def yaml_delete_line(rng: random.Random, data: bytes) -> bytes:
    return delete_row(rng, data)


YAML_FAMILIES: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip_byte": flip_byte,
    "flip_char": flip_char,
    "insert_text": insert_text,
    "truncate_file": truncate_file,
    "truncate_line": truncate_line,
    "empty_file": empty_file,
    "add_bom": add_bom,
    "line_endings": line_endings,
    "control_char": control_char,
    "yaml_value": yaml_value,
    "yaml_duplicate_key": yaml_duplicate_key,
    "yaml_tabs": yaml_tabs,
    "yaml_anchors": yaml_anchors,
    "yaml_deep": yaml_deep,
    "yaml_shape": yaml_shape,
    "yaml_swap_lines": yaml_swap_lines,
    "yaml_delete_line": yaml_delete_line,
}


# ---------------------------------------------------------------------------------------------
# JSON (a run folder's metrics.json)


JSON_VALUES = (
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e400",
    b"1" * 30,
    b'"text"',
    b"null",
    b"[]",
    b"{}",
    b"true",
    b'"\\u0000"',
    b'"\\ud800"',
    b"-0",
    b"[[[[[[]]]]]]",
)


def json_value(rng: random.Random, data: bytes) -> bytes:
    matches = list(re.finditer(rb'(?<=: )(-?[0-9.eE+]+|"[^"\n]*"|true|false|null)', data))
    if not matches:
        return insert_text(rng, data)
    match = rng.choice(matches)
    return data[: match.start()] + rng.choice(JSON_VALUES) + data[match.end() :]


def json_delete_key(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    keyed = [i for i, line in enumerate(lines) if re.match(rb'^\s*"[^"]+": [^\[{]', line)]
    if not keyed:
        return data
    i = rng.choice(keyed)
    del lines[i]
    return b"".join(lines)


def json_shape(rng: random.Random, data: bytes) -> bytes:
    depth = rng.choice([10, 1000, 100000])
    return rng.choice(
        [
            b"[]",
            b"null",
            b"42",
            b'"metrics"',
            b"[" * depth + b"]" * depth,
            b'{"a": ' * 2000 + b"1" + b"}" * 2000,
            b"[" + data + b"]",
            data + data,
            data.replace(b"{", b'{"status": "optimal", ', 1),
        ]
    )


JSON_FAMILIES: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip_byte": flip_byte,
    "flip_char": flip_char,
    "truncate_file": truncate_file,
    "empty_file": empty_file,
    "add_bom": add_bom,
    "control_char": control_char,
    "json_value": json_value,
    "json_delete_key": json_delete_key,
    "json_shape": json_shape,
}


# ---------------------------------------------------------------------------------------------
# The folder: data paths, ids across files, missing and unreadable files


def data_path(rng: random.Random, folder: Path, config: Path) -> None:
    """One data path in the config pointed at a folder, /dev/null, a missing or unreadable file,
    a name with a NUL or a line break, a name too long for the file system, another format."""
    text = config.read_bytes()
    names = sorted({m.group(0) for m in re.finditer(rb"[A-Za-z_./]+\.csv", text)})
    if not names:
        return
    name = rng.choice(names)
    base = config.parent  # data paths are relative to the config's folder
    unreadable = base / "unreadable.csv"
    unreadable.write_bytes(b"student_id\ns1\n")
    unreadable.chmod(0)
    (base / "a_folder").mkdir(exist_ok=True)
    target = rng.choice(
        [
            "a_folder",
            ".",
            "/dev/null",
            "/dev/zero",
            "missing.csv",
            "unreadable.csv",
            "students\x00.csv",
            "students\nx.csv",
            "s" * 5000 + ".csv",
            "x/" * 300 + "y.csv",
            "students.xlsx",
            "students.xls",
            "students.parquet",
            "students.csv#Sheet",
            "students.xlsx#Missing",
            config.name,
            "",
            "🏫.csv",
            "/",
            "/proc/self/status",
        ]
    )
    if target in ("students.xlsx", "students.parquet", "students.xls"):
        source = sorted(folder.rglob("students.csv"))
        text = source[0].read_bytes() if source and rng.random() < 0.5 else b"PK\x03\x04"
        (base / target).write_bytes(text)
    quoted = _encode(json.dumps(target))
    config.write_bytes(text.replace(name, quoted, 1))


def rename_id(rng: random.Random, folder: Path, config: Path) -> None:
    """An id renamed the same way in every file: the data stay consistent, with emoji or
    right-to-left marks in their ids all the way to the report."""
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    tokens = sorted(
        {t for p in files for t in re.findall(rb"(?<=[,\n])[A-Za-z][A-Za-z0-9_]*(?=[,\r\n])", p.read_bytes())}
    )
    if not tokens:
        return
    token = rng.choice(tokens)
    new = _encode(rng.choice(["\u202e", "🏫", "\u200f", "ü", "\u0301", "x" * 300, " ", "<b>", "&amp;", "'\""]))
    new = token + new if rng.random() < 0.7 else new
    for path in files:
        data = path.read_bytes()
        path.write_bytes(re.sub(rb"(?<=[,\n])" + re.escape(token) + rb"(?=[,\r\n])", new, data))


def remove_file(rng: random.Random, folder: Path, config: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p != config)
    if not files:
        return
    victim = rng.choice(files)
    victim.unlink()
    if rng.random() < 0.3:
        victim.mkdir()


FOLDER_FAMILIES: dict[str, Callable[[random.Random, Path, Path], None]] = {
    "data_path": data_path,
    "rename_id": rename_id,
    "remove_file": remove_file,
}


def families_for(path: Path) -> dict[str, Callable[[random.Random, bytes], bytes]]:
    """The byte mutations that fit a file, by its kind."""
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return YAML_FAMILIES
    if suffix == ".json":
        return JSON_FAMILIES
    return CSV_FAMILIES


def apply(folder: Path, target: str, families: list[str], seed: int, config: Path) -> None:
    """Mutate `folder/target` (or, for a folder family, the folder) by each family in turn."""
    rng = random.Random(seed)
    path = folder / target
    for family in families:
        if family in FOLDER_FAMILIES:
            FOLDER_FAMILIES[family](rng, folder, config)
            continue
        if not path.is_file():
            continue
        mutation = families_for(path).get(family) or CSV_FAMILIES.get(family) or flip_byte
        path.write_bytes(mutation(rng, path.read_bytes()))


def make_readable(folder: Path) -> None:
    """Undo chmod 000 so that the temporary folder can be removed."""
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root, name)
            if not path.is_symlink():
                path.chmod(0o644)
