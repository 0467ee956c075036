"""A lower bound at city scale without solving the LP: Lagrangian relaxation over the flow.

The side rows (diversity bands, compact shares) are priced by multipliers λ and moved into the
objective; what is left is the transportation core, a min-cost flow. A compact's shared variable
is split into one copy per member, each carrying its share of the compact's cost and rows (every
assignment of the model is still one of the relaxation, at the same cost). For any λ of the right
signs,

    L(λ) = c0 + Σ_r (λ_r·L_r if λ_r > 0 else λ_r·U_r) + min-cost flow with arc costs c_e − Σ_r λ_r·a_re
           + Σ_z min(d_z·l_z, d_z·u_z)        (z: the auxiliary variables, d_z their priced costs)

is a lower bound of the optimum (weak duality). Flow costs are scaled to thousandths of a cent and
rounded down, which can only lower L. λ is improved by subgradient steps (Polyak's rule against
the best known solution); every step's prices also give a candidate solution (warmstart.py).
At district size the LP relaxation is cheaper to solve exactly (lp.py); at metro size (a million
options) one flow takes seconds where the LP takes minutes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seatplan.models.formulation import Model
from seatplan.models.instance import Instance
from seatplan.models.ir import TRANSPORTATION_ROLES
from seatplan.solver import interrupt
from seatplan.solver.flow import seat_flow

#: Flow costs are in cents × SCALE, rounded down.
SCALE = 1000


@dataclass
class LagrangianBound:
    """The best bound found (whole cents) and the multipliers (one per row of the model) behind it."""

    bound: int
    duals: np.ndarray
    compact_share: np.ndarray  # per compact: share of members the relaxation places at its school
    iterations: int
    seconds: float


class _SideRows:
    """The side rows of a model as one CSR matrix, with the seats' coefficients in them."""

    def __init__(self, model: Model) -> None:
        formulation = model.formulation
        blocks = [b for b in formulation.rows if b.role not in TRANSPORTATION_ROLES]
        self.offsets = []  # position of each side block among all rows, for the full dual vector
        offset = 0
        for block in formulation.rows:
            if block.role not in TRANSPORTATION_ROLES:
                self.offsets.append((offset, block.size))
            offset += block.size
        self.n_all_rows = offset
        self.n = sum(b.size for b in blocks)
        self.lower = np.concatenate([b.lower for b in blocks]) if blocks else np.zeros(0)
        self.upper = np.concatenate([b.upper for b in blocks]) if blocks else np.zeros(0)
        rows, cols, vals = [], [], []
        start = 0
        for b in blocks:
            rows.append(start + np.repeat(np.arange(b.size), np.diff(b.indptr)))
            cols.append(b.indices)
            vals.append(b.coefs.astype(float))
            start += b.size
        self.rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self.cols = np.concatenate(cols) if cols else np.zeros(0, np.int64)
        self.vals = np.concatenate(vals) if vals else np.zeros(0)
        self.n_vars = formulation.n_vars

    def priced(self, lam: np.ndarray) -> np.ndarray:
        """Σ_r λ_r·a_rv for every variable v."""
        return np.bincount(self.cols, weights=self.vals * lam[self.rows], minlength=self.n_vars)

    def activity(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.rows, weights=self.vals * values[self.cols], minlength=self.n)

    def full(self, lam: np.ndarray) -> np.ndarray:
        """λ as a dual vector over every row of the model (0 on the transportation rows)."""
        out = np.zeros(self.n_all_rows)
        start = 0
        for offset, size in self.offsets:
            out[offset : offset + size] = lam[start : start + size]
            start += size
        return out


def lagrangian_bound(
    model: Model,
    instance: Instance,
    time_limit: float,
    upper_bound: Callable[[], int],
    target_gap: float = 0.0,
    on_prices: Callable[[np.ndarray, np.ndarray], None] | None = None,
    max_iterations: int = 200,
) -> LagrangianBound:
    """Subgradient ascent on L(λ) for at most `time_limit` seconds.

    `upper_bound()` returns the best objective known (it may improve while this runs, e.g. through
    `on_prices(duals, compact_share)`, called with each new best λ). Stops early when the bound is
    within `target_gap` of it.
    """
    start = time.perf_counter()
    formulation = model.formulation
    seats = model.seats
    side = _SideRows(model)
    coefs, constant = formulation.objective()
    coefs = coefs.astype(float)

    # Seats: options keep their variable; a compact's variable is split over its members.
    members = np.bincount(seats.compact[seats.compact >= 0], minlength=seats.n_compacts)
    share = np.ones(len(seats.var))
    compact_seat = seats.compact >= 0
    share[compact_seat] = 1.0 / members[seats.compact[compact_seat]]
    placement = np.zeros(formulation.n_vars, dtype=bool)
    placement[seats.var] = True
    aux = np.flatnonzero(~placement)
    aux_lower, aux_upper = (
        formulation.lower[aux].astype(float),
        formulation.upper[aux].astype(float),
    )

    lam = np.zeros(side.n)
    can_rise = np.isfinite(side.lower)
    can_fall = np.isfinite(side.upper)
    best = -math.inf
    best_lam = lam.copy()
    best_share = np.zeros(seats.n_compacts)
    theta = 1.0
    stalled = 0
    iterations = 0
    while iterations < max_iterations and time.perf_counter() - start < time_limit and interrupt.requested() is None:
        iterations += 1
        reduced = coefs - side.priced(lam)
        seat_cost = np.floor(reduced[seats.var] * share * SCALE).astype(np.int64)
        arc_flow, flow_cost = seat_flow(instance, seats.student, seats.school, seat_cost)
        aux_reduced = reduced[aux]
        aux_value = np.where(aux_reduced < 0, aux_upper, aux_lower)
        row_part = np.where(
            lam > 0,
            lam * np.where(can_rise, side.lower, 0.0),
            lam * np.where(can_fall, side.upper, 0.0),
        )
        value = constant + row_part.sum() + flow_cost / SCALE + float(aux_reduced @ aux_value)
        scale = abs(constant) + np.abs(row_part).sum() + abs(flow_cost) / SCALE + 1.0
        value -= 1e-9 * scale + 1e-6

        # The relaxation's point: seat copies on their variables (each carrying its share).
        point = np.zeros(formulation.n_vars)
        np.add.at(point, seats.var, arc_flow * share)
        point[aux] = aux_value
        if value > best + 1e-9:
            best, best_lam, stalled = value, lam.copy(), 0
            best_share = np.bincount(
                seats.compact[compact_seat],
                weights=arc_flow[compact_seat],
                minlength=seats.n_compacts,
            ) / np.maximum(members, 1)
            if on_prices is not None:
                on_prices(side.full(best_lam), best_share)
        else:
            stalled += 1
            if stalled >= 3:
                theta, stalled = theta / 2, 0
        ceiling = upper_bound()
        if ceiling - best <= target_gap * max(100.0, abs(ceiling)) or theta < 1e-4:
            break

        # Subgradient: how far each row is from its bounds at the relaxation's point.
        act = side.activity(point)
        grad = np.zeros(side.n)
        below = can_rise & (act < side.lower)
        above = can_fall & (act > side.upper)
        grad[below] = (side.lower - act)[below]
        grad[above] = (side.upper - act)[above]
        inside = ~below & ~above
        up = inside & (lam > 0)
        down = inside & (lam < 0)
        grad[up] = (np.where(can_rise, side.lower, act) - act)[up]
        grad[down] = (np.where(can_fall, side.upper, act) - act)[down]
        norm = float(grad @ grad)
        if norm == 0:
            break
        step = theta * max(ceiling - value, 1.0) / norm
        lam = lam + step * grad
        lam = np.where(can_rise, lam, np.minimum(lam, 0.0))
        lam = np.where(can_fall, lam, np.maximum(lam, 0.0))
        lam = _keep_auxiliary_bounded(lam, side, coefs, aux)

    return LagrangianBound(
        bound=math.ceil(best) if math.isfinite(best) else -(2**62),
        duals=side.full(best_lam),
        compact_share=best_share,
        iterations=iterations,
        seconds=time.perf_counter() - start,
    )


def _keep_auxiliary_bounded(lam: np.ndarray, side: _SideRows, coefs: np.ndarray, aux: np.ndarray) -> np.ndarray:
    """Scale down the multipliers on rows of an auxiliary variable whose priced cost would turn
    negative: it would jump to its upper bound and make the bound worthless. (A shortfall costs w
    and sits in two rows: their multipliers may add up to w, not more.)"""
    if len(aux) == 0:
        return lam
    is_aux = np.zeros(side.n_vars, dtype=bool)
    is_aux[aux] = True
    entries = is_aux[side.cols] & (side.vals > 0) & (lam[side.rows] > 0)
    if not entries.any():
        return lam
    pressure = np.bincount(
        side.cols[entries],
        weights=side.vals[entries] * lam[side.rows[entries]],
        minlength=side.n_vars,
    )
    factor = np.ones(side.n_vars)
    over = is_aux & (pressure > coefs) & (pressure > 0)
    factor[over] = np.maximum(coefs[over], 0.0) / pressure[over]
    row_factor = np.ones(side.n)
    np.minimum.at(row_factor, side.rows[entries], factor[side.cols[entries]])
    return np.where(lam > 0, lam * row_factor, lam)
