"""The CSV guard's fast path (first characters compared in Arrow) gives pandas' startswith answer,
missing cells included (a regression: a column of text with a missing cell crashed the fast path)."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd

from seatplan.models.tables import _GUARDED, GUARD, _starts_with


def pandas_answer(series: pd.Series, starts: str | tuple[str, ...]) -> np.ndarray:
    return np.array([isinstance(v, str) and v.startswith(starts) for v in series.to_numpy(dtype=object)], dtype=bool)


def test_the_fast_path_agrees_with_startswith() -> None:
    rng = random.Random(7)
    pieces = ["=", "+", "-", "@", "\t", "\r", "'", "a", "é", "7", " ", ""]
    for _ in range(200):
        cells: list[object] = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 3))) for _ in range(30)]
        for i in rng.sample(range(30), rng.randint(0, 4)):
            cells[i] = rng.choice([None, np.nan, pd.NA])
        for dtype in (object, "string"):
            series = pd.Series(cells, dtype=dtype)
            for starts in (_GUARDED, GUARD):
                assert (_starts_with(series, starts) == pandas_answer(series, starts)).all(), (cells, dtype)
