"""YAML read with line numbers, so that every config problem can be reported as `file:line: message`.

`yaml.safe_load` forgets where a value came from; we compose the node tree with the safe loader
instead and keep, for every path of keys and list indexes, the line it was written on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from models.errors import ConfigError, Problem

Path_ = tuple[str | int, ...]


@dataclass
class LocatedYaml:
    """A plain Python value read from YAML, with the line of each key and the raw text of each scalar."""

    value: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)

    def line(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest written ancestor."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def load_yaml(text: str, file: str) -> LocatedYaml:
    """Parse `text` with the YAML safe loader; malformed YAML and duplicate keys raise ConfigError."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = mark.line + 1 if mark is not None else None
            what = error.problem or error.context or "cannot be parsed"
            raise ConfigError([Problem(file, line, f"malformed YAML: {what}")]) from None
        except yaml.YAMLError as error:
            raise ConfigError([Problem(file, None, f"malformed YAML: {error}")]) from None
        located = LocatedYaml(None)
        if node is None:
            return located
        problems: list[Problem] = []
        located.value = _convert(loader, node, (), located, problems, file)
        if problems:
            raise ConfigError(problems)
        return located
    finally:
        loader.dispose()


def _convert(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    path: Path_,
    located: LocatedYaml,
    problems: list[Problem],
    file: str,
) -> Any:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        loader.flatten_mapping(node)
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
            except yaml.YAMLError as error:
                problems.append(Problem(file, key_node.start_mark.line + 1, f"malformed YAML: {error}"))
                continue
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, "expected a plain key")
                )
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in result:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, f"duplicate key '{key}'")
                )
                continue
            child = (*path, key)
            located.lines[child] = key_node.start_mark.line + 1
            result[key] = _convert(loader, value_node, child, located, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(loader, item, (*path, index), located, problems, file)
            for index, item in enumerate(node.value)
        ]
    located.raw[path] = node.value
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as error:
        problems.append(Problem(file, node.start_mark.line + 1, f"malformed YAML: {error}"))
        return None
