"""Shared helpers: tiny hand-made instances written as CSV text, solved through the public API."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from seatplan.models.config import Config, load_config

#: Every backend seatplan can emit to; the backend suite runs each test on all of them.
BACKENDS = ("cpsat", "pulp", "pulp_highs", "highs")


def write_case(
    folder: Path,
    students: str,
    schools: str,
    preferences: str,
    compacts: str | None = None,
    seats: str | None = None,
    config: dict[str, Any] | None = None,
    name: str = "case",
) -> Path:
    """Write CSV texts (dedented) and a config naming them into `folder`; return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    data = {}
    for key, text in (
        ("students", students),
        ("schools", schools),
        ("preferences", preferences),
        ("compacts", compacts),
        ("seats", seats),
    ):
        if text is not None:
            (folder / f"{key}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
            data[key] = f"{key}.csv"
    document: dict[str, Any] = {"name": name, "data": data}
    document.update(config or {})
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def settings_for(config_path: Path, backend: str, **solver: Any) -> Config:
    """A config loaded from disk with its solver settings replaced for a test."""
    from dataclasses import replace

    config = load_config(config_path)
    pulp_solver = "highs" if backend == "pulp_highs" else "cbc"
    name = "pulp" if backend == "pulp_highs" else backend
    return replace(
        config,
        solver=replace(
            config.solver,
            backend=name,
            pulp_solver=pulp_solver,
            time_limit=solver.get("time_limit", 30.0),
            workers=solver.get("workers", 1),
            seed=solver.get("seed", 0),
        ),
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
