"""Unreadable input: the one exception the auditor raises on purpose.

A broken rule is not an error (it goes in the Report); an input the auditor cannot
read is, because then there is nothing trustworthy to check against.
"""

from __future__ import annotations

# A file with thousands of bad rows should not bury the other files' problems.
MAX_PROBLEMS_PER_FILE = 20


class AuditInputError(Exception):
    """Input the auditor cannot read: missing or malformed file, missing column, bad key.

    Every problem found is collected first, so one run names them all.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        """One line per problem, `file:line: message` where the line is known."""
        return [printable(problem) for problem in self.problems]


def printable(text: str) -> str:
    """`text` with every character a terminal would not show as itself escaped (`\\n`, `\\x00`,
    `\\u202e`): a problem stays one line, whatever a file it quotes holds."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if char in "\t\n\r":
        return repr(char)[1:-1]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class Problems:
    """Collects input problems across files, then raises them once."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._per_file: dict[str, int] = {}

    def add(self, where: str, message: str, line: int | None = None) -> None:
        count = self._per_file.get(where, 0) + 1
        self._per_file[where] = count
        if count <= MAX_PROBLEMS_PER_FILE:
            self._items.append(f"{where}:{line}: {message}" if line else f"{where}: {message}")

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if not self._items:
            return
        items = list(self._items)
        for where, count in self._per_file.items():
            if count > MAX_PROBLEMS_PER_FILE:
                items.append(f"{where}: … and {count - MAX_PROBLEMS_PER_FILE} more problems")
        raise AuditInputError(items)
