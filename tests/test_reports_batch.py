"""``gradcheck grade`` writes the class report and each student's pictures.

One small batch of the corpus (correct and buggy files) is graded once per process
(:func:`graded_batch`, also used by the browser test) under the built-in rubric without the
hypothesis search: ``summary.json`` must count what each ``results.json`` says, ``report.html``
must show it, and each failing test's feedback must link a heatmap that exists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import FILES, graded_batch

from gradcheck.reports.batch import REPORT_HTML, SUMMARY_JSON
from gradcheck.reports.heatmap import plots_available

PNG = b"\x89PNG\r\n\x1a\n"


def _results(out: Path) -> dict[str, dict]:
    return {p.parent.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*/results.json"))}


@pytest.fixture(scope="module")
def out() -> Path:
    return graded_batch()


def test_the_summary_counts_what_the_results_say(out):
    summary = json.loads((out / SUMMARY_JSON).read_text(encoding="utf-8"))
    results = _results(out)
    assert summary["submissions"] == len(results) == len(FILES)
    expected: dict[str, list[str]] = {}
    for name, r in results.items():
        for d in r["extra_data"]["gradcheck"]["diagnoses"]:
            expected.setdefault(d, []).append(name)
    assert {d["id"]: d["submissions"] for d in summary["diagnoses"]} == expected
    assert {d["id"]: d["count"] for d in summary["diagnoses"]} == {k: len(v) for k, v in expected.items()}
    assert {r["submission"]: r["score"] for r in summary["rows"]} == {n: r["score"] for n, r in results.items()}
    assert sum(b["count"] for b in summary["scores"]["histogram"]) == len(FILES)
    assert summary["isolation_lines"], "the isolation the batch used is recorded"


def test_each_bug_is_named_once_for_its_student_and_correct_code_has_none(out):
    results = _results(out)
    diagnoses = {name: r["extra_data"]["gradcheck"]["diagnoses"] for name, r in results.items()}
    assert diagnoses["loops.py"] == [] and diagnoses["einsum.py"] == []
    assert diagnoses["sign_flip.py"] == ["sign-flip"]
    assert diagnoses["single_entry_error.py"] == ["single-entry-error"]
    assert "layer0-uses-wrong-input" in diagnoses["seed_bug.py"]


def test_the_class_page_shows_the_counts_and_links_the_feedback(out):
    summary = json.loads((out / SUMMARY_JSON).read_text(encoding="utf-8"))
    html = (out / REPORT_HTML).read_text(encoding="utf-8")
    for d in summary["diagnoses"]:
        row = re.search(rf'<tr data-diagnosis="{re.escape(d["id"])}">.*?</tr>', html, re.S).group(0)
        assert f'<td class="num count">{d["count"]}</td>' in row
        for name in d["submissions"]:
            assert f'href="{name}/feedback.md"' in row and (out / name / "feedback.md").exists()
    for t in summary["tests"]:
        assert f"{t['passed']} / {t['total']}" in html


def test_failing_feedback_links_its_heatmaps_and_passing_feedback_has_none(out):
    assert not list((out / "loops.py").glob("*.png"))
    assert "![" not in (out / "loops.py" / "feedback.md").read_text(encoding="utf-8")
    feedback = (out / "single_entry_error.py" / "feedback.md").read_text(encoding="utf-8")
    if not plots_available():
        assert "pip install gradcheck-harness[plots]" in feedback
        return
    linked = re.findall(r"!\[.*?\]\((heatmap-[Wb]\d+\.png)\)", feedback)
    assert linked, "a failing value test links its picture"
    for name in linked:
        assert (out / "single_entry_error.py" / name).read_bytes().startswith(PNG)
    assert set(linked) == {p.name for p in (out / "single_entry_error.py").glob("*.png")}
