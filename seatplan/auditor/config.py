"""The config as the auditor reads it: straight from the YAML nodes.

Nodes, not `safe_load`, because the contract compares `category` as the text written
(`1` and `"1"` mean the same category) and reads `max_share` and `under_selected_ratio`
as exact decimals, and because every problem should name its line.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from seatplan.auditor.errors import AuditInputError, Problems
from seatplan.auditor.tables import split_sheet

DATA_REQUIRED = ("students", "schools", "preferences")
COMPACT_KEYS = (
    "min_families",
    "max_families",
    "require_under_selected",
    "under_selected_ratio",
    "max_share",
)
DIVERSITY_KEYS = ("attribute", "category", "scope", "band", "around_district", "mode", "weight")
TERMS = (
    "rank",
    "unassigned",
    "distance",
    "broken_compact",
    "outside_cluster",
    "diversity",
    "blocking_pairs",
    "split_families",
)
# Terms metrics.json has had from the start; the two later ones may be absent from older runs.
FIRST_TERMS = TERMS[:6]
# diversity weights live on each rule; blocking_pairs and split_families in their own sections
WEIGHT_KEYS = TERMS[:5]
DEFAULT_WEIGHTS = {
    "rank": 1,
    "unassigned": 100,
    "distance": 0,
    "broken_compact": 0,
    "outside_cluster": 0,
}
# Top-level keys the auditor knows it does not need; any other unknown key is noted.
KNOWN_UNUSED = ("name",)
CLUSTER_KEYS = ("mode", "feeder_priority")
STABILITY_KEYS = ("mode", "weight")
FAMILIES_KEYS = ("together", "weight")
MECHANISMS = ("optimize", "deferred_acceptance", "school_proposing", "immediate_acceptance", "top_trading_cycles")
LOTTERY_KINDS = ("single", "per_school", "family")
PRECEDENCES = ("reserve_first", "open_first")
UNFILLED = ("revert", "hold")
RESERVES_KEYS = ("precedence", "unfilled", "members")
#: The mechanisms reserves apply to (the others are refused with reserves).
RESERVE_MECHANISMS = ("optimize", "deferred_acceptance")
#: The mechanisms whose assignment is stable (no blocking pair may exist).
STABLE_MECHANISMS = ("deferred_acceptance", "school_proposing")


@dataclass(frozen=True)
class DiversityRule:
    """One diversity rule; `band` is None when it is given `around_district`."""

    number: int
    attribute: str
    category: str
    scope: str
    band: tuple[int, int] | None
    around_district: int | None
    mode: str
    weight: int
    line: int

    @property
    def label(self) -> str:
        return f"{self.attribute}={self.category} by {self.scope}"


@dataclass(frozen=True)
class ReserveMembers:
    """`reserves.members`: every student whose students.csv `column` reads `value` is a member of
    `reserve` at every school (compared as the text written, like a diversity category)."""

    reserve: str
    column: str
    value: str
    line: int


@dataclass(frozen=True)
class AuditConfig:
    path: Path
    data: dict[str, Path]  # the files themselves: what is opened and hashed
    data_lines: dict[str, int]
    min_families: int = 2
    max_families: int = 11
    require_under_selected: bool = True
    under_selected_ratio: Fraction = Fraction(1)
    max_share: Fraction = Fraction(100)
    clusters_mode: str = "off"
    feeder_priority: int = 0
    stability_mode: str = "off"
    stability_weight: int = 1
    families_mode: str = "off"
    families_weight: int = 1
    mechanism: str = "optimize"
    seed: int = 0
    diversity: tuple[DiversityRule, ...] = ()
    weights: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    data_sha256: dict[str, str] | None = None
    data_sha256_line: int | None = None
    notes: tuple[str, ...] = ()
    # The sheet a data file's `book.xlsx#Sheet` path names; absent: the workbook's first sheet.
    data_sheets: dict[str, str] = field(default_factory=dict)
    lottery_kind: str = "single"
    lottery_kind_line: int | None = None  # where lottery.kind is written (a family without family_id)
    reserve_precedence: str = "reserve_first"
    reserve_unfilled: str = "revert"
    reserve_members: tuple[ReserveMembers, ...] = ()

    @property
    def reserves_given(self) -> bool:
        """Reserves are on when the config names a reserves file (the section alone seats nobody)."""
        return "reserves" in self.data

    @property
    def deferred_acceptance(self) -> bool:
        """The assignment claims to come from a mechanism (deferred acceptance, schools proposing,
        immediate acceptance, top trading cycles), not from the optimiser: compacts, bands, clusters
        and families are not applied by it."""
        return self.mechanism != "optimize"

    @property
    def stable_mechanism(self) -> bool:
        """The assignment claims to come from a stable mechanism: no blocking pair may exist."""
        return self.mechanism in STABLE_MECHANISMS


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _value(node: yaml.Node) -> Any:
    return SafeConstructor().construct_object(node, deep=True)


def _nearest(key: str, valid: tuple[str, ...]) -> str:
    near = difflib.get_close_matches(key, valid, n=1)
    return f" (did you mean {near[0]}?)" if near else f" (expected one of {', '.join(valid)})"


class _Reader:
    """Reads typed values off nodes, collecting problems with their lines."""

    def __init__(self, where: str, problems: Problems) -> None:
        self.where = where
        self.problems = problems

    def add(self, node: yaml.Node, message: str) -> None:
        self.problems.add(self.where, message, _line(node))

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """Key text -> (key node, value node); None (and a problem) when not a mapping."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.add(node, f"expected {what} to be a mapping")
            return None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if name in result:
                self.add(key, f"duplicate key {name}")
            result[name] = (key, value)
        return result

    def integer(self, node: yaml.Node, what: str, low: int | None = 0, high: int | None = None) -> int | None:
        value = _value(node) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        bounds = f" ≥ {low}" if low is not None and high is None else ""
        if low is not None and high is not None:
            bounds = f" from {low} to {high}"
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or (low is not None and value < low)
            or (high is not None and value > high)
        ):
            self.add(node, f"expected {what} to be an integer{bounds}, got {_show(node)}")
            return None
        return value

    def decimal(self, node: yaml.Node, what: str, high: int | None = None) -> Fraction | None:
        """An exact non-negative number from the text as written (0.3 stays 3/10)."""
        value = _value(node) if isinstance(node, yaml.ScalarNode) else None
        result: Fraction | None = None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                result = Fraction(str(node.value).replace("_", ""))
            except (ValueError, ZeroDivisionError):
                # 1e400 is written as a number but reads as inf, which no Fraction is (nor nan).
                result = Fraction(repr(value)) if math.isfinite(value) else None
        if result is None or result < 0 or (high is not None and result > high):
            limit = f" from 0 to {high}" if high is not None else " ≥ 0"
            self.add(node, f"expected {what} to be a number{limit}, got {_show(node)}")
            return None
        return result

    def boolean(self, node: yaml.Node, what: str) -> bool | None:
        value = _value(node) if isinstance(node, yaml.ScalarNode) else None
        if not isinstance(value, bool):
            self.add(node, f"expected {what} to be true or false, got {_show(node)}")
            return None
        return value

    def text(self, node: yaml.Node, what: str) -> str | None:
        """The scalar exactly as written, without quotes: how CSV text is compared."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.add(node, f"expected {what} to be a value, got {_show(node)}")
            return None
        return str(node.value)

    def mode(self, node: yaml.Node, what: str, choices: tuple[str, ...]) -> str | None:
        # YAML 1.1 reads a bare `off` as false; the contract means the word.
        value = _value(node) if isinstance(node, yaml.ScalarNode) else None
        if value is False and "off" in choices:
            return "off"
        if not isinstance(value, str) or value not in choices:
            self.add(node, f"expected {what} to be one of {', '.join(choices)}, got {_show(node)}")
            return None
        return value


def _show(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        return f'"{node.value}"'
    return "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"


#: Lists and mappings inside each other past this depth are no config (PyYAML's scanner slows with
#: the square of the depth, and its composer recurses).
MAX_DEPTH = 64
_BRACKET_OR_QUOTE = re.compile(r"""[\[\]{}"'#\n]""")


def _nested_too_deep(text: str) -> int | None:
    """The line where brackets nest past MAX_DEPTH, skipping quoted text and comments (a bracket in a
    plain value may be counted: no config nests that deep anyway)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, quote, comment = 0, "", False
    for match in _BRACKET_OR_QUOTE.finditer(text):
        char, at = match.group(0), match.start()
        if char == "\n":
            comment = False
            quote = "" if quote == "'" else quote
        elif comment:
            continue
        elif quote:
            if char == quote and (quote == "'" or text[at - 1] != "\\"):
                quote = ""
        elif char in "\"'":
            quote = char if at == 0 or text[at - 1] in " \t\n[{,:" else ""
        elif char == "#":
            comment = at == 0 or text[at - 1] in " \t\n"
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, at) + 1
        else:
            depth = max(0, depth - 1)
    return None


def read_config(path: Path) -> AuditConfig:
    """Parse a config file; raise AuditInputError naming every problem at once."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AuditInputError([f"{where}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise AuditInputError([f"{where}: cannot read the file ({error})"]) from None
    deep = _nested_too_deep(text)
    if deep is not None:
        raise AuditInputError([f"{where}:{deep}: expected at most {MAX_DEPTH} levels of lists and mappings"])
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as error:  # a control character, before any parsing
        at = text[: error.position or 0].count("\n") + 1
        raise AuditInputError(
            [f"{where}:{at}: expected printable text, got the control character U+{error.character:04X}"]
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"{mark.line + 1}:" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise AuditInputError([f"{where}:{line} malformed YAML: {problem}"]) from None
    except RecursionError:  # an alias inside the value its anchor names, merged into itself
        raise AuditInputError([f"{where}: expected YAML whose values do not contain themselves"]) from None
    problems = Problems()
    reader = _Reader(where, problems)
    if root is None or not isinstance(root, yaml.MappingNode):
        raise AuditInputError([f"{where}: expected a YAML mapping with a data: section"])
    top = reader.mapping(root, "the config") or {}
    notes: list[str] = []
    ignored = [
        key
        for key in top
        if key
        not in (
            *KNOWN_UNUSED,
            "data",
            "data_sha256",
            "compacts",
            "clusters",
            "diversity",
            "objective",
            "stability",
            "families",
            "mechanism",
            "solver",
            "sections",
            "lottery",
            "reserves",
        )
    ]
    if ignored:
        notes.append(f"config keys the auditor does not use were ignored: {', '.join(ignored)}")
    settings: dict[str, Any] = {}

    data, data_lines, data_sheets = _read_data(top, path, reader)
    settings.update(_read_compacts(top, reader))
    settings.update(_read_clusters(top, reader))
    settings.update(_read_choice(top, reader))
    settings.update(_read_lottery(top, reader))
    settings.update(_read_reserves(top, reader))
    _refuse_mechanism_with_reserves(top, data, settings.get("mechanism", "optimize"), reader)
    settings["diversity"] = _read_diversity(top, reader)
    weights, weight_notes = _read_objective(top, reader)
    notes.extend(weight_notes)
    digests, digests_line = _read_digests(top, reader)
    problems.raise_if_any()
    return AuditConfig(
        path=path,
        data=data,
        data_lines=data_lines,
        data_sheets=data_sheets,
        weights=weights,
        data_sha256=digests,
        data_sha256_line=digests_line,
        notes=tuple(notes),
        **settings,
    )


def _read_data(top: dict, path: Path, reader: _Reader) -> tuple[dict[str, Path], dict[str, int], dict[str, str]]:
    """Each data file's path, the line naming it, and the sheet a workbook path names."""
    data: dict[str, Path] = {}
    lines: dict[str, int] = {}
    sheets: dict[str, str] = {}
    if "data" not in top:
        reader.problems.add(reader.where, "missing key data (the students, schools and preferences files)")
        return data, lines, sheets
    key_node, node = top["data"]
    entries = reader.mapping(node, "data")
    if entries is None:
        return data, lines, sheets
    for name, (key, value) in entries.items():
        written = reader.text(value, f"data.{name}")
        if written is None:
            continue
        # `book.xlsx#Sheet`: the file is what exists and is hashed; the sheet is read from it.
        file, sheet = split_sheet(written)
        if sheet is not None:
            sheets[name] = sheet
        # Paths are relative to the config file's folder (a run folder's config.yaml too).
        data[name] = Path(path.parent, file) if not Path(file).is_absolute() else Path(file)
        lines[name] = _line(key)
    for name in DATA_REQUIRED:
        if name not in entries:
            reader.add(key_node, f"missing key data.{name}")
    return data, lines, sheets


def _read_compacts(top: dict, reader: _Reader) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if "compacts" not in top:
        return result
    entries = reader.mapping(top["compacts"][1], "compacts")
    for name, (key, value) in (entries or {}).items():
        number: int | bool | Fraction | None
        if name in ("min_families", "max_families"):
            number = reader.integer(value, f"compacts.{name}")
        elif name == "require_under_selected":
            number = reader.boolean(value, f"compacts.{name}")
        elif name == "under_selected_ratio":
            number = reader.decimal(value, f"compacts.{name}")
        elif name == "max_share":
            number = reader.decimal(value, f"compacts.{name}", high=100)
        else:
            reader.add(key, f"unknown key compacts.{name}{_nearest(name, COMPACT_KEYS)}")
            continue
        if number is not None:
            result[name] = number
    return result


def _read_clusters(top: dict, reader: _Reader) -> dict[str, Any]:
    if "clusters" not in top:
        return {}
    entries = reader.mapping(top["clusters"][1], "clusters")
    result: dict[str, Any] = {}
    for name, (key, value) in (entries or {}).items():
        if name == "mode":
            mode = reader.mode(value, "clusters.mode", ("off", "soft", "hard"))
            if mode is not None:
                result["clusters_mode"] = mode
        elif name == "feeder_priority":
            bonus = reader.integer(value, "clusters.feeder_priority")
            if bonus is not None:
                result["feeder_priority"] = bonus
        else:
            reader.add(key, f"unknown key clusters.{name}{_nearest(name, CLUSTER_KEYS)}")
    return result


def _read_choice(top: dict, reader: _Reader) -> dict[str, Any]:
    """stability, families, mechanism, and solver.seed (it draws the lottery when none is given)."""
    result: dict[str, Any] = {}
    sections = (
        ("stability", "mode", STABILITY_KEYS),
        ("families", "together", FAMILIES_KEYS),
    )
    for section, mode_key, keys in sections:
        if section not in top:
            continue
        entries = reader.mapping(top[section][1], section)
        for name, (key, value) in (entries or {}).items():
            if name == mode_key:
                mode = reader.mode(value, f"{section}.{name}", ("off", "soft", "hard"))
                if mode is not None:
                    result[f"{section}_mode"] = mode
            elif name == "weight":
                weight = reader.integer(value, f"{section}.weight")
                if weight is not None:
                    result[f"{section}_weight"] = weight
            else:
                reader.add(key, f"unknown key {section}.{name}{_nearest(name, keys)}")
    if "mechanism" in top:
        mechanism = reader.mode(top["mechanism"][1], "mechanism", MECHANISMS)
        if mechanism is not None:
            result["mechanism"] = mechanism
    if "solver" in top:
        # Only the seed matters to the audit; the solver's other settings are its own business.
        entries = reader.mapping(top["solver"][1], "solver")
        if entries is not None and "seed" in entries:
            seed = reader.integer(entries["seed"][1], "solver.seed")
            if seed is not None:
                result["seed"] = seed
    return result


def _read_lottery(top: dict, reader: _Reader) -> dict[str, Any]:
    """`lottery: {kind: single | per_school | family}` (single when absent)."""
    if "lottery" not in top:
        return {}
    result: dict[str, Any] = {}
    for name, (key, value) in (reader.mapping(top["lottery"][1], "lottery") or {}).items():
        if name != "kind":
            reader.add(key, f"unknown key lottery.{name}{_nearest(name, ('kind',))}")
            continue
        kind = reader.mode(value, "lottery.kind", LOTTERY_KINDS)
        if kind is not None:
            result["lottery_kind"] = kind
            result["lottery_kind_line"] = _line(value)
    return result


def _read_reserves(top: dict, reader: _Reader) -> dict[str, Any]:
    """`reserves: {precedence, unfilled, members}`; the seats themselves are in data.reserves."""
    if "reserves" not in top:
        return {}
    result: dict[str, Any] = {}
    for name, (key, value) in (reader.mapping(top["reserves"][1], "reserves") or {}).items():
        if name == "precedence":
            precedence = reader.mode(value, "reserves.precedence", PRECEDENCES)
            if precedence is not None:
                result["reserve_precedence"] = precedence
        elif name == "unfilled":
            unfilled = reader.mode(value, "reserves.unfilled", UNFILLED)
            if unfilled is not None:
                result["reserve_unfilled"] = unfilled
        elif name == "members":
            result["reserve_members"] = _read_members(value, reader)
        else:
            reader.add(key, f"unknown key reserves.{name}{_nearest(name, RESERVES_KEYS)}")
    return result


def _read_members(node: yaml.Node, reader: _Reader) -> tuple[ReserveMembers, ...]:
    """`reserve: "column=value"` entries; the column is split off at the first `=`."""
    found: list[ReserveMembers] = []
    for name, (_key, value) in (reader.mapping(node, "reserves.members") or {}).items():
        written = reader.text(value, f"reserves.members.{name}")
        if written is None:
            continue
        column, mark, wanted = written.partition("=")
        if not mark or not column.strip():
            reader.add(value, f'expected reserves.members.{name} to be "column=value", got {_show(value)}')
            continue
        found.append(ReserveMembers(name, column.strip(), wanted.strip(), _line(value)))
    return tuple(found)


def _refuse_mechanism_with_reserves(top: dict, data: dict[str, Path], mechanism: str, reader: _Reader) -> None:
    """Reserves shape DA's choice and the optimiser's rows; the other mechanisms have no slot order."""
    if "reserves" not in data or mechanism in RESERVE_MECHANISMS:
        return
    reader.add(
        top["mechanism"][1],
        f"expected mechanism {' or '.join(RESERVE_MECHANISMS)} with data.reserves (reserves apply to "
        f'deferred_acceptance and optimize), got "{mechanism}"',
    )


def _read_diversity(top: dict, reader: _Reader) -> tuple[DiversityRule, ...]:
    if "diversity" not in top:
        return ()
    node = top["diversity"][1]
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return ()
    if not isinstance(node, yaml.SequenceNode):
        reader.add(node, "expected diversity to be a list of rules")
        return ()
    rules: list[DiversityRule] = []
    for number, item in enumerate(node.value, start=1):
        what = f"diversity rule {number}"
        entries = reader.mapping(item, what)
        if entries is None:
            continue
        fields: dict[str, Any] = {
            "scope": "school",
            "mode": "soft",
            "weight": 1,
            "band": None,
            "around_district": None,
        }
        ok = True
        for name, (key, value) in entries.items():
            parsed: Any
            if name == "attribute":
                parsed = reader.text(value, f"{what}: attribute")
            elif name == "category":
                parsed = reader.text(value, f"{what}: category")
            elif name == "scope":
                parsed = reader.mode(value, f"{what}: scope", ("school", "cluster", "sector"))
            elif name == "mode":
                parsed = reader.mode(value, f"{what}: mode", ("off", "soft", "hard"))
            elif name == "weight":
                parsed = reader.integer(value, f"{what}: weight")
            elif name == "around_district":
                parsed = reader.integer(value, f"{what}: around_district", 0, 100)
            elif name == "band":
                parsed = _read_band(value, what, reader)
            else:
                reader.add(key, f"unknown key {name} in {what}{_nearest(name, DIVERSITY_KEYS)}")
                ok = False
                continue
            if parsed is None:
                ok = False
            fields[name] = parsed
        for name in ("attribute", "category"):
            if name not in entries:
                reader.add(item, f"{what}: missing key {name}")
                ok = False
        if ("band" in entries) == ("around_district" in entries):
            reader.add(item, f"{what}: expected exactly one of band and around_district")
            ok = False
        if ok:
            rules.append(DiversityRule(number=number, line=_line(item), **fields))
    return tuple(rules)


def _read_band(node: yaml.Node, what: str, reader: _Reader) -> tuple[int, int] | None:
    if not isinstance(node, yaml.SequenceNode) or len(node.value) != 2:
        reader.add(node, f"expected {what}: band to be [low, high], got {_show(node)}")
        return None
    low = reader.integer(node.value[0], f"{what}: band low", 0, 100)
    high = reader.integer(node.value[1], f"{what}: band high", 0, 100)
    if low is None or high is None:
        return None
    if low > high:
        reader.add(node, f"expected {what}: band low ≤ high, got [{low}, {high}]")
        return None
    return (low, high)


def _read_objective(top: dict, reader: _Reader) -> tuple[dict[str, int], list[str]]:
    weights = dict(DEFAULT_WEIGHTS)
    notes: list[str] = []
    if "objective" not in top:
        return weights, notes
    entries = reader.mapping(top["objective"][1], "objective")
    for name, (key, value) in (entries or {}).items():
        weight = reader.integer(value, f"objective.{name}")
        if weight is None:
            continue
        if name in WEIGHT_KEYS:
            weights[name] = weight
        elif weight == 0:
            # A later version's term, switched off: it cannot change the objective.
            notes.append(f"objective.{name} is 0 and unknown to the auditor: ignored")
        else:
            reader.add(
                key,
                f"unknown objective term {name} (weight {weight}): the auditor cannot "
                f"recompute it{_nearest(name, WEIGHT_KEYS)}",
            )
    return weights, notes


_HEX = re.compile(r"[0-9a-fA-F]{64}")


def _read_digests(top: dict, reader: _Reader) -> tuple[dict[str, str] | None, int | None]:
    if "data_sha256" not in top:
        return None, None
    key_node, node = top["data_sha256"]
    entries = reader.mapping(node, "data_sha256")
    digests: dict[str, str] = {}
    for name, (_key, value) in (entries or {}).items():
        digest = reader.text(value, f"data_sha256.{name}")
        if digest is None:
            continue
        if not _HEX.fullmatch(digest):
            reader.add(value, f'expected data_sha256.{name} to be 64 hex digits, got "{digest}"')
            continue
        digests[name] = digest.lower()
    return digests, _line(key_node)
