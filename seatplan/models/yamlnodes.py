"""YAML read with line numbers, so that every config problem can be reported as `file:line: message`.

`yaml.safe_load` forgets where a value came from; we compose the node tree with the safe loader
instead and keep, for every path of keys and list indexes, the line it was written on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from seatplan.models.errors import ConfigError, Problem

Path_ = tuple[str | int, ...]

#: Tags a mapping or list may carry: the ones YAML gives them when none is written.
PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
#: A config is a few sections of a few keys: nesting deeper than this is a mistake, not a config
#: (and PyYAML's composer, which recurses, would run out of stack on it).
MAX_DEPTH = 64
#: Values a config may hold, an alias counted each time it is used: anchors that name aliases that
#: name anchors ("a billion laughs") would otherwise expand without end.
MAX_VALUES = 100_000
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPENING = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSING = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


@dataclass
class LocatedYaml:
    """A plain Python value read from YAML, with the line of each key and the raw text of each scalar."""

    value: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)
    quoted: set[Path_] = field(default_factory=set)
    #: Paths whose value was set by an override, not read from the file.
    overridden: set[Path_] = field(default_factory=set)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest written ancestor."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def override_of(self, path: Path_) -> Path_ | None:
        """The overridden path that `path` is (or lies under), if any."""
        while path:
            if path in self.overridden:
                return path
            path = path[:-1]
        return None

    def override(self, path: Path_, value: Any) -> str | None:
        """Set `path` to `value` in place of what the file says (creating mappings on the way).
        Returns why it cannot be set, or None."""
        if not path:
            return "expected a key path, got nothing"
        if self.value is None:
            self.value = {}
        node = self.value
        for depth, part in enumerate(path[:-1]):
            child = _child(node, part)
            if child is _MISSING:
                if isinstance(node, dict) and isinstance(part, str):
                    node[part] = {}
                    child = node[part]
                else:
                    return _cannot(path[: depth + 1], node)
            node = child
        last = path[-1]
        if value is None and isinstance(node, dict):
            node.pop(last, None)  # as if the file did not say it
        elif value is None:
            return f"expected a value at {dotted(path)}, got None (to switch a rule off, set its mode to 'off')"
        elif _child(node, last) is _MISSING and not (isinstance(node, dict) and isinstance(last, str)):
            return _cannot(path, node)
        else:
            node[last] = value
        for known in (self.lines, self.raw):
            for key in [key for key in known if key[: len(path)] == path]:
                del known[key]
        self.quoted -= {key for key in self.quoted if key[: len(path)] == path}
        self.overridden.add(path)
        return None


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict) and isinstance(part, str):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def _cannot(path: Path_, node: Any) -> str:
    where = dotted(path)
    if isinstance(node, list):
        return f"expected an index from 0 to {len(node) - 1} at {where}, got {path[-1]!r}"
    return f"expected {dotted(path[:-1]) or 'the config'} to be a mapping to set {where} in, got {type(node).__name__}"


def dotted(path: Path_) -> str:
    """A key path as written in messages: `diversity[0].weight`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_dotted(key: str) -> Path_ | None:
    """A key path as written, back to its parts: `diversity[0].weight` -> ("diversity", 0, "weight");
    None when it is not one (the inverse of `dotted`)."""
    parts: list[str | int] = []
    for piece in key.split("."):
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)", piece)
        if match is None:
            return None
        parts.append(match.group(1))
        parts += [int(number) for number in re.findall(r"\[(\d+)\]", match.group(2))]
    return tuple(parts)


def load_yaml(text: str, file: str) -> LocatedYaml:
    """Parse `text` with the YAML safe loader; malformed YAML and duplicate keys raise ConfigError."""
    too_deep = _brackets_too_deep(text, file)
    if too_deep is not None:
        raise ConfigError([too_deep])
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        # PyYAML's reader refuses control characters (a NUL, a stray escape) before parsing begins.
        at_line = text[: error.position or 0].count("\n") + 1
        raise ConfigError(
            [
                Problem(
                    file,
                    at_line,
                    f"expected printable text, got the control character U+{error.character:04X} "
                    f"(remove it, or save the file again as plain UTF-8 text)",
                )
            ]
        ) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            line, message = _explain(error)
            raise ConfigError([Problem(file, line, f"malformed YAML: {message}")]) from None
        except yaml.YAMLError as error:
            raise ConfigError([Problem(file, None, f"malformed YAML: {_words(error)}")]) from None
        except RecursionError:
            raise ConfigError([_too_deep(text, file)]) from None
        located = LocatedYaml(None)
        if node is None:
            return located
        problems: list[Problem] = []
        try:
            located.value = _convert(loader, node, (), located, problems, file, _Walk())
        except RecursionError:
            # A merge key (`<<: *a`) inside the mapping it names: PyYAML's flattening recurses.
            raise ConfigError([_too_deep(text, file)]) from None
        if problems:
            raise ConfigError(problems)
        return located
    finally:
        loader.dispose()


_BRACKET_OR_QUOTE = re.compile(r"""[\[\]{}"'#\n]""")


def _brackets_too_deep(text: str, file: str) -> Problem | None:
    """Brackets nested past MAX_DEPTH, found before PyYAML reads them: its scanner takes time that
    grows with the square of the depth (seconds for a few thousand), before its composer runs out
    of stack. Quotes and comments are skipped; a bracket inside a plain value may be counted, but no
    config nests 64 deep."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None
    depth, quote, comment = 0, "", False
    for match in _BRACKET_OR_QUOTE.finditer(text):
        char, at = match.group(0), match.start()
        if char == "\n":
            comment = False
            quote = "" if quote == "'" else quote  # a single-quoted value may not span a line here
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
                line = text.count("\n", 0, at) + 1
                return Problem(
                    file, line, f"expected at most {MAX_DEPTH} levels of lists and mappings, got more on this line"
                )
        else:
            depth = max(0, depth - 1)
    return None


def _too_deep(text: str, file: str) -> Problem:
    """Nesting past MAX_DEPTH, said on the line where it goes past (or, for an alias inside what it
    names, on the first line: the text itself is not deep)."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPENING):
                depth += 1
                if depth > MAX_DEPTH:
                    return Problem(
                        file,
                        token.start_mark.line + 1,
                        f"expected at most {MAX_DEPTH} levels of lists and mappings, got more from this line",
                    )
            elif isinstance(token, _CLOSING):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Problem(file, None, "expected a value that does not contain itself, got an alias inside its own anchor")


@dataclass
class _Walk:
    """What _convert has seen so far: values made (aliases counted every time) and the lists and
    mappings it is inside."""

    values: int = 0
    inside: set[int] = field(default_factory=set)


def _explain(error: yaml.MarkedYAMLError) -> tuple[int | None, str]:
    """PyYAML's parser words, said for a planner, on the line where the fix goes.

    An unclosed bracket or quote is reported where it was opened (PyYAML notices it lines later);
    an indentation slip where it happened.
    """
    problem = error.problem or ""
    context = error.context or ""
    at = error.problem_mark.line + 1 if error.problem_mark is not None else None
    opened = error.context_mark.line + 1 if error.context_mark is not None else None
    found = re.search(r"(?:but got|but found) (.+)$", problem)
    token = found.group(1) if found else ""
    if token == "'<stream end>'":
        token = "the end of the file"
    elif token:
        token = f"{token} on line {at}"
    if context.startswith("while parsing a flow") and opened is not None and problem.startswith("expected ','"):
        bracket = "{" if "mapping" in context else "["
        closer = "}" if bracket == "{" else "]"
        return (
            opened,
            f"expected '{closer}' to close the '{bracket}' opened on this line, got {token}",
        )
    if context.startswith("while scanning a quoted scalar") and opened is not None:
        return opened, "expected a closing quote for the quoted value that starts on this line"
    if problem.startswith("mapping values are not allowed"):
        return at, ("unexpected ':' on this line; check its indentation, or quote a value that contains ': '")
    if problem.startswith("expected <block end>"):
        if token.startswith(("']'", "'}'")):
            return (
                at,
                f"unexpected {token.split(' on line')[0]} on this line, with no bracket open to close",
            )
        return at, "expected this line to line up with the keys above it; check its indentation"
    if "'\\t'" in problem or "\\t" in problem:
        return at, "expected spaces for indentation, got a tab"
    started = re.search(r"found character (.+) that cannot start any token", problem)
    if started:
        return at, f"a value cannot start with {started.group(1)}; quote it"
    where = at if at is not None else opened
    text = problem or context or "cannot be parsed"
    if context and problem:
        text = f"{problem} ({context})"
    return where, text


def _convert(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path_,
    located: LocatedYaml,
    problems: list[Problem],
    file: str,
    walk: _Walk,
) -> Any:
    walk.values += 1
    if walk.values > MAX_VALUES:
        if walk.values == MAX_VALUES + 1:
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    f"expected a config of at most {MAX_VALUES:,} values, got more by this line "
                    f"(an alias repeats its anchor's whole value every time it is used)",
                )
            )
        return None
    if len(path) > MAX_DEPTH:
        problems.append(
            Problem(file, node.start_mark.line + 1, f"expected at most {MAX_DEPTH} levels of lists and mappings")
        )
        walk.values = MAX_VALUES + 1
        return None
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in walk.inside:
            problems.append(
                Problem(
                    file,
                    node.start_mark.line + 1,
                    "expected an alias outside the value its anchor names, got one inside it (it would never end)",
                )
            )
            return None
        walk.inside.add(id(node))
        try:
            return _convert_collection(loader, node, path, located, problems, file, walk)
        finally:
            walk.inside.discard(id(node))
    return _convert_scalar(loader, node, path, located, problems, file)


def _convert_collection(
    loader: yaml.SafeLoader,
    node: yaml.MappingNode | yaml.SequenceNode,
    path: Path_,
    located: LocatedYaml,
    problems: list[Problem],
    file: str,
    walk: _Walk,
) -> Any:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in PLAIN_TAGS:
        # The safe loader never runs a tag, but a tagged mapping or list would otherwise be read
        # as a plain one and the tag silently ignored.
        problems.append(Problem(file, node.start_mark.line + 1, f"expected plain YAML, got the tag '{node.tag}'"))
        return None
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError as error:
                problems.append(Problem(file, key_node.start_mark.line + 1, f"malformed YAML: {_words(error)}"))
                continue
            if isinstance(key, str) and _SURROGATE.search(key):
                problems.append(Problem(file, key_node.start_mark.line + 1, _half_character(key)))
                continue
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(Problem(file, key_node.start_mark.line + 1, "expected a plain key"))
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        f"expected each key once, got '{key}' again (first on line {located.lines[(*path, key)]})",
                    )
                )
                continue
            child = (*path, key)
            located.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, child, located, problems, file, walk)
        return result
    return [
        _convert(loader, item, (*path, index), located, problems, file, walk) for index, item in enumerate(node.value)
    ]


def _convert_scalar(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path_,
    located: LocatedYaml,
    problems: list[Problem],
    file: str,
) -> Any:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if _SURROGATE.search(str(node.value)):
        problems.append(Problem(file, node.start_mark.line + 1, _half_character(str(node.value))))
        return None
    located.raw[path] = node.value
    if getattr(node, "style", None) in ("'", '"'):
        located.quoted.add(path)
    try:
        return loader.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as error:
        message = _words(error)
        if "could not determine a constructor" in message:
            message = f"expected plain YAML, got the tag '{node.tag}'"
        else:
            message = f"malformed YAML: {message}"
        problems.append(Problem(file, node.start_mark.line + 1, message))
        return None
    except yaml.YAMLError as error:
        problems.append(Problem(file, node.start_mark.line + 1, f"malformed YAML: {_words(error)}"))
        return None


def _half_character(text: str) -> str:
    """A YAML escape of one half of a UTF-16 pair (`"\\ud83c"`) is no character at all."""
    half = _SURROGATE.search(text)
    code = ord(half.group(0)) if half else 0
    return (
        f"expected text, got the escape \\u{code:04x}, half of a UTF-16 pair, which is no character "
        f"(write the character itself, or \\U and its eight hex digits)"
    )


def _words(error: yaml.YAMLError) -> str:
    """The one-line gist of a YAML error (its str() spans several lines, with a caret)."""
    if isinstance(error, yaml.MarkedYAMLError) and (error.problem or error.context):
        return str(error.problem or error.context)
    return str(error).splitlines()[0]
