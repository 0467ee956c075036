"""The rule `reserves`, re-derived from the raw files (hard, on whenever data.reserves is given).

(a) Members first: for every reserve R with r seats at a cell (school j, grade g), and every member m
    of R at j who is eligible at j, lists j, is neither placed at j nor at a school it lists above j,
    and is not placed through an honored compact: the members of R placed at (j, g) number ≥ r.
    (A member kept out while the reserve's seats went to others.)
(b) With `unfilled: hold` only: the regular students placed at a cell can all be seated by its
    choice: C_j(μ_reg(j, g)) = μ_reg(j, g), the honored compacts' seats set aside first. (A reserve
    seat held for members was given to a non-member.)

Mechanisms satisfy both; the optimiser must.
"""

from __future__ import annotations

from seatplan.auditor.config import AuditConfig
from seatplan.auditor.district import District
from seatplan.auditor.report import RuleResult
from seatplan.auditor.reserves import Cell, Reserves, cell_words, seat_count
from seatplan.auditor.rules import Placements
from seatplan.auditor.stability import ReserveJudge, cells_of


def reserves_rule(district: District, config: AuditConfig, placements: Placements) -> RuleResult:
    """(a) members first at every reserve; (b) with hold, every cell's regular students seated."""
    assert district.reserves is not None
    reserves = district.reserves
    result = RuleResult("reserves")
    cells = cells_of(district, placements)
    judge = ReserveJudge(district, cells.regular, cells.holds)
    listing = _listing(district)
    for cell in sorted(reserves.seats):
        for reserve, seats in reserves.seats[cell]:
            at_cell = [s for s in cells.placed.get(cell, []) if reserves.is_member(s, cell[0], reserve)]
            _members_first(district, placements, listing, cell, (reserve, seats, len(at_cell)), result)
        if reserves.hold:
            _hold_seating(judge, reserves, cell, cells.regular.get(cell, []), result)
    result.info.append(_summary(reserves, config))
    return result


def _summary(reserves: Reserves, config: AuditConfig) -> str:
    total = sum(n for listed in reserves.seats.values() for _r, n in listed)
    schools = {school for school, _grade in reserves.seats}
    order = {p: sum(1 for s in schools if reserves.precedence.get(s) == p) for p in ("reserve_first", "open_first")}
    return (
        f"{len(reserves.order)} reserve{'s' if len(reserves.order) != 1 else ''} ({', '.join(reserves.order)}), "
        f"{total} seats at {len(reserves.seats)} cells of {len(schools)} schools; precedence reserve_first at "
        f"{order['reserve_first']}, open_first at {order['open_first']}; unfilled {config.reserve_unfilled}"
    )


def _listing(district: District) -> dict[str, list[str]]:
    """school -> the students that list it, in students.csv order."""
    listing: dict[str, list[str]] = {}
    for student in district.students:
        for school in district.lists.get(student, []):
            listing.setdefault(school, []).append(student)
    return listing


def _kept_out(district: District, placements: Placements, student: str, school: str) -> bool:
    """A member who wants `school`, may go there, and is not placed there or better (nor by a compact)."""
    if student in placements.through_compact or not district.eligible(student, school):
        return False
    placed = placements.placed(student)
    if placed is None:
        return True
    if placed == school:
        return False
    position = district.position(student, placed)
    return position is None or position > (district.position(student, school) or 0)


def _members_first(
    district: District,
    placements: Placements,
    listing: dict[str, list[str]],
    cell: Cell,
    counts: tuple[str, int, int],
    result: RuleResult,
) -> None:
    """(a): a kept-out member of the reserve while the cell holds fewer members than its seats.

    `counts`: the reserve, its seats, and how many of its members the cell holds."""
    assert district.reserves is not None
    school, grade = cell
    reserve, seats, members_placed = counts
    is_member = district.reserves.is_member
    if members_placed >= seats:
        return
    out = [
        s
        for s in listing.get(school, [])
        if (district.grade is None or district.grade[s] == grade)
        and is_member(s, school, reserve)
        and _kept_out(district, placements, s, school)
    ]
    if not out:
        return
    more = f" (and {len(out) - 1} more members kept out)" if len(out) > 1 else ""
    result.fail(
        f"{cell_words(school, grade)}: reserve {reserve} has {seats} seats but {members_placed} members placed, "
        f"while member {out[0]} {_whereabouts(district, placements, out[0], school)}{more}",
        seats - members_placed,
        school_id=school,
        grade=grade or None,
        reserve=reserve,
        seats=seats,
        members_placed=members_placed,
        kept_out=out,
    )


def _whereabouts(district: District, placements: Placements, student: str, school: str) -> str:
    listed = f"lists {school} at position {district.position(student, school)}"
    placed = placements.placed(student)
    if placed is None:
        return f"{listed} and is unplaced"
    position = district.position(student, placed)
    return f"{listed} and is at {placed}" + (f" position {position}" if position else " (not on its list)")


def _hold_seating(judge: ReserveJudge, reserves: Reserves, cell: Cell, regular: list[str], result: RuleResult) -> None:
    """(b): C_j(μ_reg) = μ_reg; a regular student its choice leaves out sits in a held seat."""
    slots = judge.slots(cell)
    seated = set(reserves.choose(cell[0], slots, regular).students)
    unseated = [s for s in regular if s not in seated]
    if not unseated:
        return
    held = ", ".join(f"{r} {n}" for r, n in reserves.seats[cell])
    shown = ", ".join(unseated[:6]) + (f", … ({len(unseated)} in all)" if len(unseated) > 6 else "")
    result.fail(
        f"{cell_words(*cell)}: its choice seats {len(seated)} of the {len(regular)} regular students placed "
        f"({seat_count(slots):,} seats after compacts; reserves held for members: {held}); {shown} cannot be seated",
        len(unseated),
        school_id=cell[0],
        grade=cell[1] or None,
        regular=len(regular),
        seated=len(seated),
        unseated=unseated,
    )
