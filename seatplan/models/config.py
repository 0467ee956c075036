"""The YAML config, read into frozen dataclasses.

Every key is checked in one place, here. Every problem is collected and reported together as
`file:line: expected …, got …`; an unknown key names the nearest valid one.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, get_args

from seatplan.models.errors import ConfigError, Problem, in_order
from seatplan.models.yamlnodes import LocatedYaml, Path_, dotted, load_yaml

if TYPE_CHECKING:
    from seatplan.models.rules.families import FamilySettings
    from seatplan.models.rules.reserves import ReserveSettings
    from seatplan.models.rules.stability import LotterySettings, StabilitySettings

#: How a rule applies: not at all, as a cost in the objective, or as a hard rule.
Mode = Literal["off", "soft", "hard"]
#: What a diversity band is measured over.
Scope = Literal["school", "cluster", "sector"]
#: How the assignment is made: optimised, or by deferred acceptance (the district's usual mechanism).
Mechanism = Literal["optimize", "deferred_acceptance", "school_proposing", "immediate_acceptance", "top_trading_cycles"]
Backend = Literal["auto", "cpsat", "pulp", "highs"]
PulpSolver = Literal["cbc", "highs"]
TieBreak = Literal["canonical", "off"]

BACKENDS: tuple[str, ...] = get_args(Backend)
PULP_SOLVERS: tuple[str, ...] = get_args(PulpSolver)
TIE_BREAKS: tuple[str, ...] = get_args(TieBreak)
CLUSTER_MODES: tuple[str, ...] = get_args(Mode)
RULE_MODES: tuple[str, ...] = get_args(Mode)
SCOPES: tuple[str, ...] = get_args(Scope)
MECHANISMS: tuple[str, ...] = get_args(Mechanism)
DATA_FILES = ("students", "schools", "preferences", "seats", "compacts", "priorities", "reserves", "reserve_members")
#: File name endings read as Excel workbooks, whose path may name a sheet: `students.xlsx#Sheet1`.
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
REQUIRED_DATA_FILES = ("students", "schools", "preferences")
#: The largest weight of an objective term: costs are summed in 64-bit integers of cents, and a
#: million students at a weight past this could overflow them (solvers refuse such models).
MAX_WEIGHT = 1_000_000
#: CP-SAT takes its seed and its number of threads as 32-bit integers.
MAX_SEED = 2**31 - 1
MAX_WORKERS = 1024


def split_sheet(written: str) -> tuple[str, str | None]:
    """`students.xlsx#Sheet1` -> (`students.xlsx`, `Sheet1`): a sheet is named after the last `#`
    of an Excel file's name only; any other path is kept whole."""
    file, mark, sheet = written.rpartition("#")
    if mark and file.lower().endswith(EXCEL_SUFFIXES):
        return file, sheet
    return written, None


@dataclass(frozen=True)
class DataFiles:
    """Where the data files are: absolute paths, resolved against the config file's folder, and the
    sheet named for an Excel file (by data key; the first sheet when none is named)."""

    students: Path
    schools: Path
    preferences: Path
    seats: Path | None = None
    compacts: Path | None = None
    priorities: Path | None = None
    reserves: Path | None = None
    reserve_members: Path | None = None
    sheets: Mapping[str, str] = field(default_factory=dict)

    def named(self) -> dict[str, Path]:
        """The files that are set, by their key in the config."""
        return {key: getattr(self, key) for key in DATA_FILES if getattr(self, key) is not None}

    def written(self, key: str, path: str) -> str:
        """`path` as the config writes it: with `#sheet` when the key names one."""
        return f"{path}#{self.sheets[key]}" if key in self.sheets else path


@dataclass(frozen=True)
class CompactSettings:
    """Parent compacts: group size limits, where they may go, and how much of a school they may take."""

    min_families: int = 2
    max_families: int = 11
    require_under_selected: bool = True
    under_selected_ratio: Fraction = Fraction(1)
    max_share: Fraction = Fraction(100)


@dataclass(frozen=True)
class ClusterSettings:
    """Community clusters: `off`, `soft` (a cost per student outside), or `hard` (forbidden); and
    the priority a school gives the students of the schools that feed it."""

    mode: Mode = "off"
    feeder_priority: int = 0


@dataclass(frozen=True)
class DiversityRule:
    """One band on the share of a category of students, at every school, cluster or sector."""

    attribute: str
    category: str
    scope: Scope = "school"
    band: tuple[int, int] | None = None
    around_district: int | None = None
    mode: Mode = "soft"
    weight: int = 1
    line: int | None = None

    @property
    def label(self) -> str:
        """A short name that reads like the rule: `ses=low by school`."""
        return f"{self.attribute}={self.category} by {self.scope}"


@dataclass(frozen=True)
class ObjectiveWeights:
    """Integer weights of the objective's terms."""

    rank: int = 1
    unassigned: int = 100
    distance: int = 0
    broken_compact: int = 0
    outside_cluster: int = 0


@dataclass(frozen=True)
class SolverSettings:
    """How to solve: backend, limits, reproducibility."""

    backend: Backend = "auto"
    time_limit: float = 60.0
    gap: float = 0.0
    workers: int = 2
    seed: int = 0
    pulp_solver: PulpSolver = "cbc"
    #: Among equal optima, the one the documented tie-break picks (solver/canonical.py), or "off":
    #: whichever optimum the search found.
    tie_break: TieBreak = "canonical"


@dataclass(frozen=True)
class Config:
    """A whole, validated config. `source` is the YAML file; `lines` locates its keys for messages."""

    name: str
    source: Path
    data: DataFiles
    compacts: CompactSettings = CompactSettings()
    clusters: ClusterSettings = ClusterSettings()
    diversity: tuple[DiversityRule, ...] = ()
    objective: ObjectiveWeights = ObjectiveWeights()
    solver: SolverSettings = SolverSettings()
    mechanism: Mechanism = "optimize"

    @property
    def is_mechanism(self) -> bool:
        """Placed by a mechanism districts run (deferred acceptance, schools proposing), not by the
        optimiser: no program, no bound; compacts, bands, clusters and families are not applied."""
        return self.mechanism != "optimize"

    @property
    def is_stable_mechanism(self) -> bool:
        """Placed by a stable mechanism (deferred acceptance, schools proposing): each school admits
        in its own order, so cutoffs explain every placement."""
        return self.mechanism in ("deferred_acceptance", "school_proposing")

    data_sha256: Mapping[str, str] = field(default_factory=dict)
    #: The settings of the sections rule families declare (see `Section`), by their key.
    sections: Mapping[str, Any] = field(default_factory=dict)
    lines: Mapping[Path_, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def stability(self) -> StabilitySettings:
        return SECTIONS["stability"].of(self)

    @property
    def families(self) -> FamilySettings:
        return SECTIONS["families"].of(self)

    @property
    def lottery(self) -> LotterySettings:
        return SECTIONS["lottery"].of(self)

    @property
    def reserves(self) -> ReserveSettings:
        return SECTIONS["reserves"].of(self)

    @property
    def display_name(self) -> str:
        """The config file as the user named it, for messages."""
        return display_path(self.source)

    def line(self, *path: str | int) -> int | None:
        """Line of a key in the config file (or of its nearest written parent)."""
        key: Path_ = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


def display_path(path: Path) -> str:
    """A path as short as it can be said from the current folder."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# reading


class Checker:
    """Type checks that record a problem (with the line of the offending key) and return a default."""

    def __init__(self, file: str, doc: LocatedYaml, base: Path | None = None) -> None:
        self.file = file
        self.doc = doc
        #: The folder paths in the file are relative to (the config file's own).
        self.base = base if base is not None else Path(".")
        self.problems: list[Problem] = []

    def problem(self, path: Path_, message: str) -> None:
        overridden = self.doc.override_of(path)
        if overridden is not None:
            # Said where the planner wrote it: the override, not the file.
            self.problems.append(Problem(f"override {dotted(overridden)}", None, message))
        else:
            self.problems.append(Problem(self.file, self.doc.line(path), message))

    @staticmethod
    def dotted(path: Path_) -> str:
        return dotted(path)

    def got(self, path: Path_, value: Any) -> str:
        raw = self.doc.raw.get(path)
        if value is None and not raw:
            return "nothing"
        quoted = self._quoted_number(path, value)
        if quoted is not None:
            return quoted
        if raw is not None:
            return f'"{raw}"'
        if isinstance(value, dict):
            return "a mapping"
        if isinstance(value, list):
            return "a list"
        return repr(value)

    def _quoted_number(self, path: Path_, value: Any) -> str | None:
        if path in self.doc.quoted and isinstance(value, str) and NUMBER.fullmatch(value.strip()):
            return f'"{value}" in quotes, which is text (remove the quotes)'
        return None

    def mapping(self, path: Path_, value: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
        """A mapping whose keys are all in `allowed`; unknown keys name the nearest valid one."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.problem(
                path,
                f"expected {self.dotted(path) or 'the config'} to be a mapping, got {self.got(path, value)}",
            )
            return {}
        for key in value:
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
                hint = f"; did you mean '{near[0]}'?" if near else f"; valid keys: {', '.join(allowed)}"
                where = self.dotted(path)
                self.problem((*path, key), f"unknown key '{key}'{' in ' + where if where else ''}{hint}")
        return {k: v for k, v in value.items() if k in allowed}

    def integer(
        self,
        path: Path_,
        value: Any,
        default: int,
        minimum: int | None = 0,
        maximum: int | None = None,
        limit: int | None = None,
    ) -> int:
        """An integer in [minimum, maximum]; `limit` is a ceiling no sensible value comes near (the
        integers seatplan computes with must fit in 64 bits), said only to the value past it."""
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, float) and value.is_integer():
            ok, value = True, int(value)
        if ok and limit is not None and value > limit:
            self.problem(path, f"expected {self.dotted(path)} to be at most {limit:,}, got {self.got(path, value)}")
            return default
        if ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum):
            return int(value)
        self.problem(
            path,
            f"expected {self.dotted(path)} to be {_range('an integer', minimum, maximum)}, got {self.got(path, value)}",
        )
        return default

    def number(
        self,
        path: Path_,
        value: Any,
        default: float,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
    ) -> float:
        if isinstance(value, str) and path not in self.doc.quoted and NUMBER.fullmatch(value):
            value = float(value)  # YAML 1.1 reads `1e3` (no dot) as text
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if ok and positive and value <= 0:
            ok = False
        if ok and minimum is not None and value < minimum:
            ok = False
        if ok and maximum is not None and value > maximum:
            ok = False
        if ok:
            return float(value)
        what = "a number > 0" if positive else _range("a number", minimum, maximum)
        self.problem(path, f"expected {self.dotted(path)} to be {what}, got {self.got(path, value)}")
        return default

    def exact(self, path: Path_, value: Any, default: Fraction, minimum: int, maximum: int | None = None) -> Fraction:
        """A number kept exact, as written in the YAML, so floors of it are reproducible."""
        before = len(self.problems)
        number = self.number(path, value, float(default), minimum, maximum)
        if len(self.problems) > before:
            return default
        try:
            return Fraction(self.doc.raw.get(path, str(number)))
        except ValueError:
            return Fraction(number)

    def choice(self, path: Path_, value: Any, options: tuple[str, ...], default: str) -> str:
        if isinstance(value, str) and value in options:
            return value
        if isinstance(value, bool) and self.doc.raw.get(path) in options:
            return str(self.doc.raw[path])  # YAML 1.1 reads `off` as false
        self.problem(
            path,
            f"expected {self.dotted(path)} to be one of {' | '.join(options)}, got {self.got(path, value)}",
        )
        return default

    def boolean(self, path: Path_, value: Any, default: bool) -> bool:
        if isinstance(value, bool):
            return value
        self.problem(path, f"expected {self.dotted(path)} to be true or false, got {self.got(path, value)}")
        return default

    def file_path(self, path: Path_, value: Any) -> Path | None:
        """A file path, resolved against the config file's folder (as data paths are)."""
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            self.problem(path, f"expected {self.dotted(path)} to be a file path, got {self.got(path, value)}")
            return None
        resolved = (self.base / value).resolve() if not Path(value).is_absolute() else Path(value)
        try:
            found, folder = resolved.is_file(), resolved.is_dir()
        except OSError as error:  # a name too long for the file system, a loop of links
            self.problem(path, f"expected {self.dotted(path)} to name an existing file, got {value} ({error.strerror})")
            return None
        if not found:
            why = "a folder" if folder else "no such file"
            self.problem(path, f"expected {self.dotted(path)} to name an existing file, got {value} ({why})")
            return None
        return resolved

    def text(self, path: Path_, value: Any, default: str) -> str:
        """A scalar taken as the text it was written as (`1` is "1", `01` is "01")."""
        if isinstance(value, dict | list) or value is None:
            self.problem(
                path,
                f"expected {self.dotted(path)} to be a text value, got {self.got(path, value)}",
            )
            return default
        raw = self.doc.raw.get(path)
        return str(raw) if raw is not None else str(value)


def _range(kind: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {_bound(minimum)} to {_bound(maximum)}"
    if minimum is not None:
        return f"{kind} ≥ {_bound(minimum)}"
    if maximum is not None:
        return f"{kind} ≤ {_bound(maximum)}"
    return kind


def _bound(value: float) -> str:
    """A bound as a planner writes it: 2,147,483,647 rather than 2.14748e+09."""
    return f"{int(value):,}" if float(value).is_integer() and abs(value) >= 10_000 else f"{value:g}"


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

Settings = TypeVar("Settings")
#: Reads one key of a section: (checker, key path, value as written, default) -> value.
FieldReader = Callable[[Checker, Path_, Any, Any], Any]


def mode_reader(options: tuple[str, ...] = RULE_MODES) -> FieldReader:
    """A key whose value is one of `options` (`mode: off` as written, though YAML reads it false).
    Reader factories like this one are what a rule's `Section` is declared with."""
    return lambda check, path, value, default: check.choice(path, value, options, default)


def integer_reader(minimum: int | None = 0, maximum: int | None = None, limit: int | None = None) -> FieldReader:
    return lambda check, path, value, default: check.integer(path, value, default, minimum, maximum, limit)


def boolean_reader() -> FieldReader:
    return lambda check, path, value, default: check.boolean(path, value, default)


@dataclass(frozen=True)
class Section(Generic[Settings]):
    """A top-level config section a rule family owns, declared in its module: its key, its
    settings (a frozen dataclass whose defaults are the section's), and how each key is read. The
    config reads it, checks it, writes it out in a run's config.yaml, and `of(config)` gives it back."""

    key: str
    settings: type[Settings]
    readers: Mapping[str, FieldReader]

    def read(self, check: Checker, value: Any) -> Settings:
        section = check.mapping((self.key,), value, tuple(self.readers))
        defaults = self.settings()
        values = {
            name: self.readers[name](check, (self.key, name), raw, getattr(defaults, name))
            for name, raw in section.items()
        }
        return self.settings(**values)

    def write(self, settings: Settings, where: Callable[[Path], str]) -> Any:
        """The settings as plain data for a run's config.yaml (`where` writes a file's path)."""
        return {f.name: _plain_number(getattr(settings, f.name)) for f in fields(settings)}  # type: ignore[arg-type]

    def present(self, settings: Settings) -> bool:
        """Whether a run's config.yaml writes the section (a section that is off may be left out)."""
        return True

    def of(self, config: Config) -> Settings:
        found = config.sections.get(self.key)
        return found if found is not None else self.settings()


def number_reader(minimum: float | None = None, maximum: float | None = None, positive: bool = False) -> FieldReader:
    return lambda check, path, value, default: check.number(path, value, default, minimum, maximum, positive)


def exact_reader(minimum: int, maximum: int | None = None) -> FieldReader:
    """A number kept exact as written (a Fraction), so that floors of it are reproducible."""
    return lambda check, path, value, default: check.exact(path, value, default, minimum, maximum)


COMPACTS_SECTION = Section(
    "compacts",
    CompactSettings,
    {
        "min_families": integer_reader(1),
        "max_families": integer_reader(1),
        "require_under_selected": boolean_reader(),
        "under_selected_ratio": exact_reader(0),
        "max_share": exact_reader(0, 100),
    },
)
CLUSTERS_SECTION = Section(
    "clusters", ClusterSettings, {"mode": mode_reader(CLUSTER_MODES), "feeder_priority": integer_reader(0)}
)
OBJECTIVE_SECTION = Section(
    "objective", ObjectiveWeights, {f.name: integer_reader(0, limit=MAX_WEIGHT) for f in fields(ObjectiveWeights)}
)
SOLVER_SECTION = Section(
    "solver",
    SolverSettings,
    {
        "backend": mode_reader(BACKENDS),
        "time_limit": number_reader(positive=True),
        "gap": number_reader(0.0, 1.0),
        "workers": integer_reader(1, limit=MAX_WORKERS),
        "seed": integer_reader(0, limit=MAX_SEED),
        "pulp_solver": mode_reader(PULP_SOLVERS),
        "tie_break": mode_reader(TIE_BREAKS),
    },
)

#: The sections rule families declare, in registry order (rule modules add theirs when imported;
#: importing seatplan.models imports every rule module).
SECTIONS: dict[str, Section[Any]] = {}


def register_section(section: Section[Settings]) -> Section[Settings]:
    """Add a rule family's config section (at import of its module)."""
    if section.key in CORE_KEYS or (section.key in SECTIONS and SECTIONS[section.key] is not section):
        raise ValueError(f"config section {section.key!r} is declared twice")
    SECTIONS[section.key] = section
    return section


#: The keys config.py reads itself, in the order messages list them; rule sections go after diversity.
CORE_KEYS = ("name", "data", "mechanism", "compacts", "clusters", "diversity", "objective", "solver", "data_sha256")


def top_keys() -> tuple[str, ...]:
    """Every key a config may have: the core ones, with the rule families' sections after diversity."""
    at = CORE_KEYS.index("diversity") + 1
    return (*CORE_KEYS[:at], *SECTIONS, *CORE_KEYS[at:])


def _plain_number(value: Any) -> Any:
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else float(value)
    return value


#: Overrides as a planner writes them: `solver__time_limit=30`, `solver={"time_limit": 30}`.
Overrides = Mapping[str, Any]
#: The same, as (key path, value) pairs applied in order.
OverridePaths = tuple[tuple[Path_, Any], ...]

_INDEX = re.compile(r"[0-9]+")


def override_paths(overrides: Overrides, before: OverridePaths = ()) -> OverridePaths:
    """Overrides as (key path, value) pairs, after those `before`: `solver__time_limit=30` and
    `solver={"time_limit": 30}` are both (("solver", "time_limit"), 30); `diversity__0__weight=5` is
    (("diversity", 0, "weight"), 5). A mapping is merged key by key into what the file says (an empty
    one changes nothing); any other value replaces it, and `None` removes the key. A later pair wins
    over an earlier one at the same path or under it."""
    pairs: list[tuple[Path_, Any]] = list(before)

    def walk(path: Path_, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk((*path, str(key)), inner)
            return
        pairs[:] = [(known, old) for known, old in pairs if known[: len(path)] != path]
        pairs.append((path, _plain(value)))

    for key, value in overrides.items():
        walk(tuple(int(part) if _INDEX.fullmatch(part) else part for part in str(key).split("__")), value)
    return tuple(pairs)


def _plain(value: Any) -> Any:
    """A Python value as YAML would have given it: paths as text, tuples as lists, numpy numbers
    as Python numbers."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value


def load_config(path: str | os.PathLike[str], overrides: Overrides | OverridePaths | None = None) -> Config:
    """Read and check a YAML config, with `overrides` (see override_paths) set in place of what the
    file says. Raises ConfigError listing every problem found."""
    source = Path(path)
    file = display_path(source)
    if source.is_dir():
        raise ConfigError([Problem(file, None, "expected a YAML config file, got a folder")])
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise ConfigError([Problem(file, None, "expected a YAML config file, got no file at this path")]) from None
    except OSError as error:
        raise ConfigError([Problem(file, None, f"cannot read config file: {error.strerror or error}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        bad = raw[error.start : error.start + 1].hex()
        raise ConfigError(
            [
                Problem(
                    file,
                    line,
                    f"expected UTF-8 text, got the byte 0x{bad} (save the file as UTF-8)",
                )
            ]
        ) from None
    doc = load_yaml(text, file)
    problems = []
    pairs = override_paths(overrides) if isinstance(overrides, Mapping) else tuple(overrides or ())
    for key_path, value in pairs:
        refused = doc.override(key_path, value)
        if refused is not None:
            problems.append(Problem(f"override {dotted(key_path)}", None, refused))
    if problems:
        raise ConfigError(problems)
    return parse_config(doc, source)


def parse_config(doc: LocatedYaml, source: Path) -> Config:
    """Build a Config from YAML already read; every problem is collected, then raised at once."""
    file = display_path(source)
    check = Checker(file, doc, source.parent)
    if doc.value is None:
        raise ConfigError(
            [
                Problem(
                    file,
                    None,
                    "expected a YAML mapping with at least a 'data' key, got an empty file",
                )
            ]
        )
    top = check.mapping((), doc.value, top_keys())
    if check.problems and not isinstance(doc.value, dict):
        raise ConfigError(check.problems)

    name = check.text(("name",), top["name"], source.stem) if "name" in top else source.stem
    data = _read_data(check, top.get("data"), source)
    compacts = COMPACTS_SECTION.read(check, top.get("compacts"))
    if compacts.min_families > compacts.max_families:
        check.problem(
            ("compacts", "min_families"),
            f"expected compacts.min_families ≤ max_families, got {compacts.min_families} > {compacts.max_families}",
        )
    clusters = CLUSTERS_SECTION.read(check, top.get("clusters"))
    sections = {key: section.read(check, top.get(key)) for key, section in SECTIONS.items()}
    mechanism = (
        cast(Mechanism, check.choice(("mechanism",), top["mechanism"], MECHANISMS, "optimize"))
        if "mechanism" in top
        else "optimize"
    )
    diversity = _read_diversity(check, top.get("diversity"))
    objective = OBJECTIVE_SECTION.read(check, top.get("objective"))
    solver = SOLVER_SECTION.read(check, top.get("solver"))
    sha = top.get("data_sha256") or {}
    if not isinstance(sha, dict) or not all(isinstance(v, str) for v in sha.values()):
        check.problem(("data_sha256",), "expected data_sha256 to map data keys to hex digests")
        sha = {}
    _reserve_conflicts(check, data, mechanism, sections)
    check.problems = in_order(check.problems)
    if data is None:
        raise ConfigError(check.problems)
    config = Config(
        name=name,
        source=source,
        data=data,
        compacts=compacts,
        clusters=clusters,
        diversity=diversity,
        objective=objective,
        solver=solver,
        mechanism=mechanism,
        data_sha256=dict(sha),
        sections=sections,
        lines=dict(doc.lines),
    )
    if check.problems:
        raise ConfigError(check.problems, partial=config)
    return config


def _reserve_conflicts(check: Checker, data: DataFiles | None, mechanism: str, sections: Mapping[str, Any]) -> None:
    """What seatplan does not run with reserves, said where the planner chose it."""
    if data is None or data.reserves is None:
        return
    if mechanism in ("school_proposing", "immediate_acceptance", "top_trading_cycles"):
        check.problem(
            ("mechanism",),
            f"expected mechanism deferred_acceptance or optimize with data.reserves (reserves apply to the "
            f"school's choice in deferred acceptance and the optimiser), got {mechanism}",
        )
    stability = sections.get("stability")
    mode = getattr(stability, "mode", "off")
    if mode == "soft":
        check.problem(
            ("stability", "mode"),
            "expected stability.mode off or hard with data.reserves (blocking pairs under reserves are a hard "
            "rule only), got soft",
        )
    reserves = sections.get("reserves")
    if getattr(reserves, "unfilled", "revert") == "hold" and data.compacts is not None and mechanism == "optimize":
        check.problem(
            ("reserves", "unfilled"),
            "expected reserves.unfilled revert with data.compacts in the optimiser (held seats and compacts' "
            "set-aside seats are not combined), got hold",
        )
    if mode == "hard" and data.compacts is not None and mechanism == "optimize":
        check.problem(
            ("data", "reserves"),
            "expected data.reserves without data.compacts under stability.mode hard (the optimiser does not "
            "combine compacts' set-aside seats with the school's choice by reserves), got both",
        )


def _read_data(check: Checker, value: Any, source: Path) -> DataFiles | None:
    if value is None:
        check.problem((), "expected a 'data' mapping naming students, schools and preferences files")
        return None
    if not isinstance(value, dict):
        check.mapping(("data",), value, DATA_FILES)
        return None
    section = check.mapping(("data",), value, DATA_FILES)
    base = source.parent
    paths: dict[str, Path] = {}
    sheets: dict[str, str] = {}
    for key, raw in section.items():
        if not isinstance(raw, str) or not raw.strip():
            check.problem(
                ("data", key),
                f"expected data.{key} to be a file path, got {check.got(('data', key), raw)}",
            )
            continue
        if "\x00" in raw:
            # No file system takes a NUL in a name (os.stat would refuse it with a ValueError).
            check.problem(("data", key), f"expected data.{key} to be a file path, got a name with a NUL character")
            continue
        file, sheet = split_sheet(raw)
        if sheet is not None:
            sheets[key] = sheet
        paths[key] = (base / file).resolve() if not Path(file).is_absolute() else Path(file)
    missing = [k for k in REQUIRED_DATA_FILES if k not in section]
    if missing:
        check.problem(
            ("data",),
            f"expected data to name the {', '.join(missing)} file{'s' if len(missing) > 1 else ''}",
        )
    if any(k not in paths for k in REQUIRED_DATA_FILES):
        return None
    return DataFiles(**paths, sheets=sheets)


def _read_diversity(check: Checker, value: Any) -> tuple[DiversityRule, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        check.problem(
            ("diversity",),
            f"expected diversity to be a list of rules, got {check.got(('diversity',), value)}",
        )
        return ()
    rules = []
    allowed = ("attribute", "category", "scope", "band", "around_district", "mode", "weight")
    for index, item in enumerate(value):
        base: Path_ = ("diversity", index)
        section = check.mapping(base, item, allowed)
        if not isinstance(item, dict):
            continue
        attribute = ""
        if "attribute" not in section:
            check.problem(base, f"expected diversity[{index}] to name an attribute (a students.csv column)")
        else:
            attribute = check.text((*base, "attribute"), section["attribute"], "")
        category = ""
        if "category" not in section:
            check.problem(base, f"expected diversity[{index}] to name a category")
        else:
            category = check.text((*base, "category"), section["category"], "")
        scope = cast(Scope, check.choice((*base, "scope"), section.get("scope", "school"), SCOPES, "school"))
        mode = cast(Mode, check.choice((*base, "mode"), section.get("mode", "soft"), RULE_MODES, "soft"))
        weight = check.integer((*base, "weight"), section.get("weight", 1), 1, 0, limit=MAX_WEIGHT)
        band: tuple[int, int] | None = None
        around: int | None = None
        if ("band" in section) == ("around_district" in section):
            check.problem(base, f"expected diversity[{index}] to have exactly one of band and around_district")
        if "band" in section:
            raw = section["band"]
            path = (*base, "band")
            if not isinstance(raw, list) or len(raw) != 2:
                check.problem(
                    path,
                    f"expected diversity[{index}].band to be [lo, hi], two integer percents, "
                    f"got {check.got(path, raw)}",
                )
            else:
                lo = check.integer((*path, 0), raw[0], 0, 0, 100)
                hi = check.integer((*path, 1), raw[1], 100, 0, 100)
                if lo > hi:
                    check.problem(path, f"expected diversity[{index}].band to have lo ≤ hi, got [{lo}, {hi}]")
                band = (lo, hi)
        if "around_district" in section:
            around = check.integer((*base, "around_district"), section["around_district"], 0, 0, 100)
        rules.append(
            DiversityRule(
                attribute=attribute,
                category=category,
                scope=scope,
                band=band,
                around_district=around,
                mode=mode,
                weight=weight,
                line=check.doc.line(base),
            )
        )
    return tuple(rules)


def resolved_config(
    config: Config, run_folder: Path | None = None, name_file: Callable[[Path], str] | None = None
) -> dict[str, Any]:
    """The config with every default written out, as plain data for the run folder's config.yaml.

    Data paths are written relative to `run_folder` (so the run folder and the data can move together),
    or as absolute paths when there is no run folder, or as `name_file` names them (by their content,
    for the config's hash).
    """

    def where(path: Path) -> str:
        if name_file is not None:
            return name_file(path)
        if run_folder is None:
            return str(path)
        return os.path.relpath(path, run_folder.resolve())

    out: dict[str, Any] = {
        "name": config.name,
        "data": {key: config.data.written(key, where(path)) for key, path in config.data.named().items()},
        "compacts": {f.name: _plain_number(getattr(config.compacts, f.name)) for f in fields(config.compacts)},
        "mechanism": config.mechanism,
        "clusters": {
            "mode": config.clusters.mode,
            "feeder_priority": config.clusters.feeder_priority,
        },
        "diversity": [
            {
                "attribute": rule.attribute,
                "category": rule.category,
                "scope": rule.scope,
                **({"band": list(rule.band)} if rule.band is not None else {}),
                **({"around_district": rule.around_district} if rule.around_district is not None else {}),
                "mode": rule.mode,
                "weight": rule.weight,
            }
            for rule in config.diversity
        ],
        **{
            key: section.write(section.of(config), where)
            for key, section in SECTIONS.items()
            if section.present(section.of(config))
        },
        "objective": {f.name: getattr(config.objective, f.name) for f in fields(config.objective)},
        "solver": {f.name: getattr(config.solver, f.name) for f in fields(config.solver)},
    }
    return out
