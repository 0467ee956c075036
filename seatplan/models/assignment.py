"""An assignment: where each student is placed, and whether through its honored compact."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Assignment:
    """Where each student is placed (-1 when unplaced) and whether through its honored compact."""

    school: np.ndarray
    via_compact: np.ndarray
