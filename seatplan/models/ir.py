"""The neutral form of the integer program: variable blocks, blocks of linear rows, named objective terms.

Everything is integer: coefficients are int64, the objective is in hundredths (cents) of the objective
the config describes, so that it is exact. Rows are stored row-compressed (CSR: `indptr`, `indices`,
`coefs`) and built from (row, variable, coefficient) triplets with numpy, never term by term.
A backend reads this and nothing else; it never needs to know what a row means. Each row block
carries the *role* its rule gave it, and the solver's steps that need particular rows (the flow, the
LP bound, Lagrangian prices) select them by role, never by name: names are for people.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

Labeller = Callable[[int], str]


class Role(StrEnum):
    """What a block of rows is to the solver's steps (set by the rule that makes it)."""

    #: Each student takes at most one seat: the supply side of the transportation problem.
    ASSIGNMENT = "assignment"
    #: The seats of a school (and grade): the arcs into the sink of the transportation problem.
    CAPACITY = "capacity"
    #: A side rule over the placements (bands, compact shares, families): priced by LP duals and
    #: Lagrange multipliers when the flow runs without it.
    SIDE = "side"
    #: Valid for every whole-number solution and implied by the other rows; tightens relaxations.
    #: A cut implied by a hard rule's rows carries that rule's units (HardUnits), so that it is
    #: relaxed with them; a cut without units must hold whichever hard rules are relaxed.
    CUT = "cut"
    #: Equalities that define running-sum variables: long chains, slow in an LP.
    RUNNING_SUM = "running_sum"
    #: Stability's comb rows over running sums: slow in an LP.
    COMB = "comb"


#: The rows of the transportation core: a program with only these (and placement variables) is a flow.
TRANSPORTATION_ROLES = frozenset({Role.ASSIGNMENT, Role.CAPACITY})


@dataclass(frozen=True)
class VariableBlock:
    """A contiguous range of variables of one kind, e.g. `assign[student=S1,school=J3]`."""

    name: str
    start: int
    size: int
    labels: Labeller

    def label(self, offset: int) -> str:
        return f"{self.name}[{self.labels(offset)}]"


@dataclass(frozen=True)
class HardUnits:
    """Which instance of a hard rule each row of a block belongs to, so that a planner can be told
    *which* rules collide when a program is infeasible: `key` is the config setting that makes the
    rule hard (`stability.mode`, `diversity[1].mode`), `of_row` the unit of each row (an integer
    the rule chooses), `describe` a unit in words."""

    key: str
    of_row: np.ndarray
    describe: Callable[[int], str]


@dataclass(frozen=True)
class RowBlock:
    """Linear rows `lower ≤ Σ coefs·x[indices] ≤ upper` of one kind, e.g. `capacity[school=S12,grade=K]`."""

    name: str
    role: Role
    indptr: np.ndarray
    indices: np.ndarray
    coefs: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    labels: Labeller
    #: For the rows of a hard rule a planner could relax: the rule instance of each row.
    hard: HardUnits | None = None

    @property
    def size(self) -> int:
        return len(self.lower)

    def label(self, row: int) -> str:
        return f"{self.name}[{self.labels(row)}]"

    def activity(self, values: np.ndarray) -> np.ndarray:
        """Σ coefs·x for every row of the block, for an integer solution `values`."""
        products = self.coefs * np.asarray(values, dtype=np.int64)[self.indices]
        rows = np.repeat(np.arange(self.size), np.diff(self.indptr))
        sums = np.zeros(self.size, dtype=np.int64)
        np.add.at(sums, rows, products)
        return sums

    def violations(self, values: np.ndarray) -> list[str]:
        """Labels of the rows that `values` breaks."""
        activity = self.activity(values)
        bad = np.flatnonzero((activity < self.lower) | (activity > self.upper))
        return [f"{self.label(int(r))}: {int(activity[r])} not in [{self.lower[r]:g}, {self.upper[r]:g}]" for r in bad]


@dataclass(frozen=True)
class Term:
    """One named term of the objective, in cents: `constant + Σ coefs·x[indices]`."""

    name: str
    indices: np.ndarray
    coefs: np.ndarray
    constant: int = 0

    def value(self, values: np.ndarray) -> int:
        return int(self.constant + int(np.dot(self.coefs, values[self.indices])))


def rows_from_triplets(
    name: str,
    role: Role,
    n_rows: int,
    row: np.ndarray,
    var: np.ndarray,
    coef: np.ndarray,
    lower: np.ndarray | float,
    upper: np.ndarray | float,
    labels: Labeller,
    hard: HardUnits | None = None,
) -> RowBlock:
    """Build a RowBlock from triplets: duplicate (row, var) entries are summed, zeros dropped."""
    row = np.asarray(row, dtype=np.int64)
    var = np.asarray(var, dtype=np.int64)
    coef = np.asarray(coef, dtype=np.int64)
    indices, coefs, counts = _merge(row, var, coef, n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return RowBlock(
        name=name,
        role=role,
        indptr=indptr,
        indices=indices,
        coefs=coefs,
        lower=np.broadcast_to(np.asarray(lower, dtype=float), (n_rows,)).copy(),
        upper=np.broadcast_to(np.asarray(upper, dtype=float), (n_rows,)).copy(),
        labels=labels,
        hard=hard,
    )


def _merge(
    row: np.ndarray, var: np.ndarray, coef: np.ndarray, n_rows: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort triplets by (row, var), sum duplicates, drop zeros: (vars, coefs, entries per row).

    Most blocks arrive sorted already (built row by row), and the rest have few rows: both cases
    skip the general two-key sort, which is most of the time of building a million-option model."""
    if len(row) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(n_rows, np.int64)
    n_vars = int(var.max()) + 1
    single_key = int(var.min()) >= 0 and int(row.min()) >= 0 and n_rows * n_vars < 2**62
    key = row * n_vars + var if single_key else None
    if key is not None and bool(np.all(key[1:] > key[:-1])):
        # Sorted, no (row, var) twice: nothing to sum.
        summed = coef
    else:
        if key is not None and n_rows <= np.iinfo(np.int16).max and bool(np.all(var[1:] > var[:-1])):
            # A stable sort by row alone keeps the variables in order; on 16-bit keys it is a radix sort.
            order = np.argsort(row.astype(np.int16), kind="stable")
        elif key is not None:
            order = np.argsort(key, kind="stable")
        else:
            order = np.lexsort((var, row))
        row, var, coef = row[order], var[order], coef[order]
        new = np.ones(len(row), dtype=bool)
        new[1:] = (row[1:] != row[:-1]) | (var[1:] != var[:-1])
        starts = np.flatnonzero(new)
        summed = np.add.reduceat(coef, starts)
        row, var = row[starts], var[starts]
    keep = summed != 0
    if not keep.all():
        row, var, summed = row[keep], var[keep], summed[keep]
    counts = np.bincount(row, minlength=n_rows).astype(np.int64)
    return var, summed, counts


def term_from_pairs(name: str, var: np.ndarray, coef: np.ndarray, constant: int = 0) -> Term:
    """A term with duplicate variables summed."""
    indices, coefs, _ = _merge(np.zeros(len(var), np.int64), np.asarray(var, np.int64), np.asarray(coef, np.int64), 1)
    return Term(name, indices, coefs, int(constant))


@dataclass
class Formulation:
    """The whole program: variables (all integer), row blocks, objective terms (to minimise, in cents)."""

    lower: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    upper: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    blocks: list[VariableBlock] = field(default_factory=list)
    rows: list[RowBlock] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    #: Variables whose value follows from others through equality rows (running sums): each entry
    #: is (their indexes, a function of the solution vector that returns their values). Used to
    #: complete a solution given its placements (warm starts), never by a backend.
    derived: list[tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]] = field(default_factory=list)

    @property
    def n_vars(self) -> int:
        return len(self.lower)

    @property
    def n_rows(self) -> int:
        return sum(block.size for block in self.rows)

    def add_variables(
        self,
        name: str,
        size: int,
        lower: np.ndarray | int,
        upper: np.ndarray | int,
        labels: Labeller,
    ) -> int:
        """Append a block of integer variables; returns the index of its first variable."""
        start = self.n_vars
        self.lower = np.concatenate([self.lower, np.broadcast_to(np.asarray(lower, np.int64), (size,))])
        self.upper = np.concatenate([self.upper, np.broadcast_to(np.asarray(upper, np.int64), (size,))])
        self.blocks.append(VariableBlock(name, start, size, labels))
        return start

    def add_rows(self, block: RowBlock) -> None:
        if block.size:
            self.rows.append(block)

    def rows_with(self, roles: frozenset[Role] | set[Role]) -> list[RowBlock]:
        """The row blocks whose role is one of `roles`, in order."""
        return [block for block in self.rows if block.role in roles]

    def without_rows(self, roles: frozenset[Role] | set[Role]) -> Formulation:
        """The same program without the row blocks of some roles: a relaxation (its bounds hold for
        the whole program). The formulation itself when no block is left out."""
        kept = [block for block in self.rows if block.role not in roles]
        if len(kept) == len(self.rows):
            return self
        return Formulation(self.lower, self.upper, self.blocks, kept, self.terms, self.derived)

    def row_offsets(self) -> list[int]:
        """The index of each row block's first row among all rows (as in `matrix()`)."""
        return np.cumsum([0] + [block.size for block in self.rows[:-1]]).astype(int).tolist() if self.rows else []

    def add_term(self, term: Term) -> None:
        self.terms.append(term)

    def variable_label(self, index: int) -> str:
        for block in self.blocks:
            if block.start <= index < block.start + block.size:
                return block.label(index - block.start)
        raise IndexError(index)

    def objective(self) -> tuple[np.ndarray, int]:
        """The objective in cents as a dense coefficient vector and a constant."""
        coefs = np.zeros(self.n_vars, dtype=np.int64)
        constant = 0
        for term in self.terms:
            np.add.at(coefs, term.indices, term.coefs)
            constant += term.constant
        return coefs, constant

    def matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """All rows as one CSR matrix: (indptr, indices, coefs, lower, upper)."""
        if not self.rows:
            return (
                np.zeros(1, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
                np.zeros(0),
                np.zeros(0),
            )
        offsets = np.cumsum([0] + [len(b.indices) for b in self.rows[:-1]])
        indptr = np.concatenate([[0]] + [b.indptr[1:] + off for b, off in zip(self.rows, offsets, strict=True)])
        return (
            indptr.astype(np.int64),
            np.concatenate([b.indices for b in self.rows]),
            np.concatenate([b.coefs for b in self.rows]),
            np.concatenate([b.lower for b in self.rows]),
            np.concatenate([b.upper for b in self.rows]),
        )

    def evaluate(self, values: np.ndarray) -> dict[str, int]:
        """Each objective term's value in cents, by name (terms of one name are summed)."""
        out: dict[str, int] = {}
        for term in self.terms:
            out[term.name] = out.get(term.name, 0) + term.value(values)
        return out

    def violations(self, values: np.ndarray) -> list[str]:
        """Every row and bound that `values` breaks, by label. Empty for a feasible solution."""
        found = []
        bad = np.flatnonzero((values < self.lower) | (values > self.upper))
        found += [f"bound of {self.variable_label(int(i))}: {values[i]}" for i in bad[:20]]
        for block in self.rows:
            found += block.violations(values)
        return found


def labels_from(*columns: Sequence[object] | np.ndarray, keys: Sequence[str]) -> Labeller:
    """A labeller `key1=value1,key2=value2` reading the i-th entry of each column."""

    def label(i: int) -> str:
        return ",".join(f"{k}={col[i]}" for k, col in zip(keys, columns, strict=True))

    return label


def restricted(program: Formulation, free: np.ndarray, name: str = "objective") -> Formulation:
    """`program` over its `free` variables only: the fixed ones' share moved into the row bounds and
    into the objective's constant (one term, `name`), so a solution's objective is the same in both.
    Rows without a free variable are dropped (HiGHS' presolve would spend most of its time on them):
    they hold or not whatever is chosen, and a caller keeps a solution only after checking it
    against the whole program."""
    indptr, indices, coefs, lower, upper = program.matrix()
    rows = np.repeat(np.arange(len(lower)), np.diff(indptr))
    fixed_part = np.bincount(rows, weights=coefs * program.lower[indices] * ~free[indices], minlength=len(lower))
    keep = free[indices]
    column = np.cumsum(free) - 1
    kept_rows = np.unique(rows[keep])
    renumber = np.full(len(lower), -1, dtype=np.int64)
    renumber[kept_rows] = np.arange(len(kept_rows))
    block = rows_from_triplets(
        "rows over the free variables",
        Role.SIDE,
        len(kept_rows),
        renumber[rows[keep]],
        column[indices[keep]],
        coefs[keep],
        lower[kept_rows] - fixed_part[kept_rows],
        upper[kept_rows] - fixed_part[kept_rows],
        lambda row: f"row[{row}]",
    )
    objective, constant = program.objective()
    placed = np.flatnonzero(objective[free])
    fixed_cost = constant + int(objective[~free] @ program.lower[~free])
    return Formulation(
        program.lower[free],
        program.upper[free],
        [],
        [block],
        [Term(name, placed, objective[free][placed], fixed_cost)],
    )
