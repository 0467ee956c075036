"""The error hierarchy. The CLI catches `SeatplanError` once and prints its lines; anything else is a bug."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input, located as precisely as we can: file and line."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return printable(f"{where}: {self.message}")


def printable(text: str) -> str:
    """`text` with every character a terminal would not show as itself escaped (`\\n`, `\\x00`,
    `\\u202e`): a problem stays one line, and a value read from a file cannot break it in two,
    reorder it (a right-to-left override) or hide in it (a zero-width space)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if char in "\t\n\r":
        return repr(char)[1:-1]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class SeatplanError(Exception):
    """Base of every error seatplan raises on purpose."""

    exit_code = 1

    def lines(self) -> list[str]:
        """What to print, one line per problem."""
        return str(self).splitlines()


class InputError(SeatplanError):
    """Bad input: carries every problem found, so a planner can fix the files in one pass."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class ConfigError(InputError):
    """The YAML config is malformed or breaks a rule of its schema.

    `partial` is the config read with defaults in place of the bad values, when its data files are
    still known: `validate` then checks the data too, so every problem is reported in one pass.
    """

    def __init__(self, problems: Iterable[Problem], partial: Any = None) -> None:
        super().__init__(problems)
        self.partial = partial


class DataError(InputError):
    """A CSV file is missing, malformed, or inconsistent with the others or with the config."""


class InfeasibleError(SeatplanError):
    """The hard rules cannot all hold at once: there is no assignment to write."""


class NoSolutionError(SeatplanError):
    """No assignment was found within the time limit: there is none to write."""


class Interrupted(SeatplanError):
    """Stopped by a signal (Ctrl-C, SIGTERM) before there was an assignment to write; the exit code
    is the shell's for that signal (130, 143)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class BackendUnavailable(SeatplanError):
    """A solver backend cannot be imported or run on this machine."""


def in_order(problems: list[Problem]) -> list[Problem]:
    """Problems without repeats, grouped by file (in the order files were first named) and by line.

    A problem without a line (a summary such as "… and 40 more rows") stays after the line before it.
    """
    unique = list(dict.fromkeys(problems))
    file_order: dict[str, int] = {}
    last_line: dict[str, int] = {}
    keys = []
    for number, problem in enumerate(unique):
        order = file_order.setdefault(problem.file, len(file_order))
        if problem.line is not None:
            last_line[problem.file] = problem.line
        keys.append((order, last_line.get(problem.file, 0), number))
    return [problem for _, problem in sorted(zip(keys, unique, strict=True), key=lambda pair: pair[0])]
