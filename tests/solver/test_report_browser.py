"""The report as a planner sees it: opened in a real headless Chromium (Debian's package, driven by
Playwright pointed at it). The page loads with no console error and no network request, every
section is there, every chart has drawn marks, a table sorts when its header is clicked, and a
screenshot is saved under the test's folder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright import sync_api

import seatplan
from seatplan.solver.cli import main
from seatplan.solver.report import build_report

CHROMIUM = os.environ.get("SEATPLAN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip(
        "Chromium not found: install Debian's chromium (apt-get install -y chromium) to run the browser tests",
        allow_module_level=True,
    )

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "configs"
SECTIONS = ("headline", "choices", "schools", "diversity", "accountability", "compacts", "map", "methods")
#: The flags Chromium needs on a closed network, as root, without a screen.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's report alone, and deferred acceptance, the optimised plan and the stable plan side by side."""
    folder = tmp_path_factory.mktemp("reports")
    da = seatplan.solve(CONFIGS / "scenarios" / "deferred_acceptance.yaml").save(folder / "deferred_acceptance")
    demo = seatplan.solve(CONFIGS / "demo.yaml", solver__time_limit=30).save(folder / "demo")
    stable = seatplan.solve(CONFIGS / "scenarios" / "stable.yaml", solver__time_limit=60).save(folder / "stable")
    build_report([demo]).write(folder / "one.html")
    build_report([da, demo, stable]).write(folder / "three.html")
    return {"one": folder / "one.html", "three": folder / "three.html"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


class Opened:
    """A page opened from a file, with every console error and every request it made."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_function("document.querySelectorAll('.plot .main-svg').length > 0")
        self.page.wait_for_timeout(300)

    def marks(self, chart: str) -> int:
        return int(
            self.page.evaluate(
                f"document.querySelectorAll('#{chart} .main-svg .point path, #{chart} .main-svg .point, "
                f"#{chart} .main-svg .bars path, #{chart} .main-svg .hm image, #{chart} .main-svg .scatterlayer path')"
                ".length"
            )
        )


@pytest.mark.parametrize("which", ["one", "three"])
def test_the_page_loads_offline_with_every_section_and_chart(
    reports: dict[str, Path], browser: Any, which: str, tmp_path: Path
) -> None:
    opened = Opened(browser, reports[which])
    assert opened.errors == []
    assert opened.requests == [reports[which].as_uri()], "the page asks for nothing but itself"
    for section in (*SECTIONS, *(("comparison",) if which == "three" else ())):
        assert opened.page.locator(f"section#{section} h2").count() == 1, section
    charts = opened.page.evaluate("Array.from(document.querySelectorAll('div.plot')).map(node => node.id)")
    assert len(charts) >= 8
    for chart in charts:
        assert opened.marks(chart) > 0, f"{chart} drew nothing"
    shot = tmp_path / f"report-{which}.png"
    opened.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    opened.page.close()


def test_a_table_sorts_when_its_header_is_clicked(reports: dict[str, Path], browser: Any) -> None:
    opened = Opened(browser, reports["one"])
    table = opened.page.locator("#table-schools")
    seats = table.locator("thead tr:last-child th", has_text="seats").first
    index = int(seats.evaluate("th => th.cellIndex"))

    def column() -> list[float]:
        texts = table.locator(f"tbody tr td:nth-child({index + 1})").all_inner_texts()
        return [float(text.replace(",", "")) for text in texts]

    before = column()
    seats.click()
    ascending = column()
    seats.click()
    descending = column()
    assert ascending == sorted(before) and descending == sorted(before, reverse=True)
    assert ascending != before or before == sorted(before)
    assert seats.get_attribute("aria-sort") == "descending"
    opened.page.close()


def test_a_sweeps_report_draws_its_curve_offline(browser: Any, tmp_path: Path) -> None:
    """`seatplan sweep --frontier --report`: the trade-off curve and every point, in the browser."""
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"base: {CONFIGS / 'demo.yaml'}\nvary:\n  diversity[0].scope: [school]\n  diversity[0].weight: [0, 1, 3]\n"
        "  solver.time_limit: [10]\n"
    )
    out = tmp_path / "sweep"
    arguments = ["sweep", str(sweep_file), "--out", str(out), "--quiet", "--report"]
    result = CliRunner().invoke(main, [*arguments, "--frontier", "terms.rank,diversity_shortfall"])
    assert result.exit_code == 0, result.output
    opened = Opened(browser, out / "report.html")
    assert opened.errors == [] and opened.requests == [(out / "report.html").as_uri()]
    for section in ("glance", "tradeoff", "points"):
        assert opened.page.locator(f"section#{section} h2").count() == 1, section
    assert opened.marks("frontier") >= 3
    assert opened.page.locator("#table-points tbody tr").count() == 3
    shot = tmp_path / "sweep-report.png"
    opened.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    opened.page.close()
    # The same page from `seatplan report SWEEP_DIR`.
    again = CliRunner().invoke(main, ["report", str(out), "--out", str(tmp_path / "again.html")])
    assert again.exit_code == 0, again.output
    assert 'data-figure="frontier"' in (tmp_path / "again.html").read_text()
