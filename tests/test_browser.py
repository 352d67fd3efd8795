"""The pages in a real browser: headless Chromium (Debian's ``chromium`` and ``chromium-driver``)
driven through Selenium.

The class report of a small graded batch must load without a console error and show, per
diagnosis, the counts ``summary.json`` holds; a ``gradcheck check --html`` page must load
without a console error with every heatmap decoded. A page with a planted error proves the
console is really read. Skipped, with the reason, only where no browser or driver is installed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")

from helpers import graded_batch  # noqa: E402

import gradcheck  # noqa: E402
from gradcheck.cases import CaseSpec  # noqa: E402 - after the skip
from gradcheck.reports import write_html  # noqa: E402
from gradcheck.reports.batch import REPORT_HTML, SUMMARY_JSON  # noqa: E402
from gradcheck.reports.heatmap import plots_available  # noqa: E402

CORPUS = Path(__file__).parent / "corpus"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _executable(names: tuple[str, ...]) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser():
    binary, driver_path = _executable(BROWSERS), _executable(("chromedriver",))
    if binary is None or driver_path is None:
        pytest.skip(
            "no headless browser: install Debian's chromium and chromium-driver "
            f"(found browser {binary}, driver {driver_path})"
        )
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    yield driver
    driver.quit()


def _errors(driver) -> list[str]:
    """The console's errors since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _load(driver, path: Path) -> list[str]:
    _errors(driver)
    driver.get(path.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    return _errors(driver)


def test_the_console_is_really_read(browser, tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>")
    assert any("undefinedFunction" in e for e in _load(browser, page))


def test_the_class_report_loads_cleanly_and_shows_the_counts(browser):
    out = graded_batch()
    summary = json.loads((out / SUMMARY_JSON).read_text(encoding="utf-8"))
    assert _load(browser, out / REPORT_HTML) == []
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#diagnoses tr[data-diagnosis]')).map("
        "tr => [tr.dataset.diagnosis, tr.querySelector('.count').innerText.trim(),"
        " Array.from(tr.querySelectorAll('a')).map(a => a.innerText.trim())])"
    )
    assert summary["diagnoses"], "the batch has buggy files: there are diagnoses to show"
    assert shown == [[d["id"], str(d["count"]), d["submissions"]] for d in summary["diagnoses"]]
    assert browser.find_element("id", "diagnoses").is_displayed()
    bins = browser.execute_script(
        "return Array.from(document.querySelectorAll('g.bin')).map(g => Number(g.dataset.count))"
    )
    assert bins == [b["count"] for b in summary["scores"]["histogram"]]
    assert browser.find_element("id", "n-submissions").text == str(summary["submissions"])


def test_a_feedback_link_opens_the_students_feedback(browser):
    out = graded_batch()
    _load(browser, out / REPORT_HTML)
    link = browser.find_element("css selector", "#diagnoses a")
    name = link.text
    link.click()
    assert browser.current_url == (out / name / "feedback.md").resolve().as_uri()
    assert f"# Feedback: {name}" in browser.find_element("tag name", "body").text


def test_the_check_page_loads_cleanly_with_its_heatmaps(browser, tmp_path):
    report = gradcheck.check(
        str(CORPUS / "buggy" / "single_entry_error.py"), cases=[CaseSpec((3, 1, 4, 2))], max_examples=0
    )
    page = tmp_path / "check.html"
    write_html(report, page)
    assert _load(browser, page) == []
    assert browser.execute_script("return document.querySelector('.gc').dataset.verdict") == "fail"
    figures = browser.find_elements("css selector", "figure.heatmap")
    assert figures, "a failing value check draws its gradient"
    if plots_available():
        decoded = browser.execute_script(
            "return Array.from(document.querySelectorAll('figure.heatmap img')).map(i => i.complete && i.naturalWidth)"
        )
        assert len(decoded) == len(figures) and all(width > 0 for width in decoded)
