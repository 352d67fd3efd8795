"""The pictures and pages: the data each heatmap plots, the one-implementation page, the
Jupyter fragment, ``gradcheck check --html`` and the class report's summary.

Pictures are tested as data (the field plotted, the entry marked), never as pixels; each page
is proven twice: a correct implementation gives a pass and no heatmap, a buggy one the heatmap
of the right (layer, parameter) with the worst entry marked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import torch

import gradcheck
from gradcheck.cases import CaseSpec
from gradcheck.cli import EXIT_USAGE, EXIT_WRONG, main
from gradcheck.reports import (
    PLOTS_MISSING,
    Outcome,
    SubmissionRow,
    error_field,
    heatmap_png,
    render_class_report,
    report_html,
    summarise,
    view,
)
from gradcheck.reports.classreport import HISTOGRAM_BINS, SCHEMA
from gradcheck.reports.heatmap import SCALE_CAP
from gradcheck.reports.sources import failing_gradients, page_from_report, submission_row

CORPUS = Path(__file__).parent / "corpus"
PNG = b"\x89PNG\r\n\x1a\n"
CASES = [CaseSpec((3, 1, 4, 2)), CaseSpec((4, 3, 2))]


def _check(name: str):
    return gradcheck.check(str(CORPUS / name), cases=CASES, max_examples=0, devices=["cpu"])


@pytest.fixture(scope="module")
def correct():
    return _check("correct/loops.py")


@pytest.fixture(scope="module")
def single_entry():
    return _check("buggy/single_entry_error.py")


@pytest.fixture(scope="module")
def sign_flip():
    return _check("buggy/sign_flip.py")


# -- the field a heatmap plots --------------------------------------------------------------------


def test_a_sign_flip_is_a_uniform_field_of_minus_two():
    true = torch.tensor([[0.5, -1.0, 2.0], [0.25, 3.0, -0.75]], dtype=torch.float64)
    field = error_field(-true, true)
    assert torch.allclose(field.values, torch.full((2, 3), -2.0, dtype=torch.float64))
    assert field.worst == (1, 1)  # the largest absolute error: |−3 − 3|
    assert field.limit == pytest.approx(2.0)


def test_one_wrong_entry_is_one_hot_cell_and_it_is_marked():
    true = torch.arange(1.0, 13.0, dtype=torch.float64).reshape(3, 4)
    returned = true.clone()
    returned[2, 1] *= 1.5
    field = error_field(returned, true)
    assert field.worst == (2, 1) and field.worst_cell == (2, 1)
    assert field.worst_value == pytest.approx(0.5)
    assert int((field.values != 0).sum()) == 1


def test_a_vector_is_drawn_as_a_column_and_the_given_worst_index_wins():
    true = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    returned = torch.tensor([1.0, 3.0, 4.5], dtype=torch.float64)
    assert error_field(returned, true).worst == (1,)
    field = error_field(returned, true, worst=(2,))
    assert field.values.shape == (3, 1)
    assert field.worst == (2,) and field.worst_cell == (2, 0)


def test_a_wrong_value_where_the_truth_is_zero_still_shows():
    true = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    field = error_field(torch.tensor([[0.3, 1.0]], dtype=torch.float64), true)
    assert field.worst == (0, 0) and field.worst_value > 1e3
    assert field.limit == SCALE_CAP and field.clipped  # that one entry does not wash out the scale
    assert not error_field(-true, true).clipped


@pytest.mark.parametrize(
    ("returned", "true", "kwargs", "message"),
    [
        (torch.zeros(2, 3), torch.zeros(3, 2), {}, "not comparable"),
        (torch.zeros(0), torch.zeros(0), {}, "empty"),
        (torch.zeros(2, 2), torch.zeros(2, 2), {"worst": (2, 0)}, "worst=(2, 0)"),
        ([1.0], torch.zeros(1), {}, "must be tensors"),
    ],
)
def test_bad_input_is_one_clear_error(returned, true, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        error_field(returned, true, **kwargs)


def test_the_heatmap_is_a_png_and_needs_a_title():
    pytest.importorskip("matplotlib")
    true = torch.randn(4, 3, dtype=torch.float64)
    assert heatmap_png(2 * true, true, title="W[0]").startswith(PNG)
    with pytest.raises(ValueError, match="title"):
        heatmap_png(true, true, title="")


def test_without_matplotlib_there_is_no_picture_and_the_page_says_why(single_entry, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    true = torch.ones(2, 2, dtype=torch.float64)
    assert heatmap_png(true, true, title="W[0]") is None
    html = report_html(single_entry)
    assert PLOTS_MISSING in html and "data:image/png" not in html


# -- the one-implementation page ----------------------------------------------------------------


def test_a_correct_implementation_passes_with_no_heatmap(correct):
    page = page_from_report(correct)
    assert page.passed and not page.problems and not page.pictures
    html = report_html(correct)
    assert 'data-verdict="pass"' in html and "<figure" not in html and "PASS" in html


def test_a_single_entry_error_draws_that_gradient_with_its_worst_entry_marked(single_entry):
    failing = {(f.layer, f.param): f for f in single_entry.failures if f.check == "gradient-values"}
    assert failing, "the buggy file must fail the value check"
    pairs = failing_gradients(single_entry)
    assert {(p.layer, p.param) for p in pairs} == set(failing)
    for pair in pairs:
        f = failing[(pair.layer, pair.param)]
        assert pair.worst == tuple(f.mismatch.worst_index)
        field = error_field(pair.returned, pair.true, worst=pair.worst)
        assert int((field.values.abs() > 1e-9).sum()) == 1  # one hot cell: the wrong entry
        assert abs(field.worst_value) == pytest.approx(float(field.values.abs().max()))
    html = report_html(single_entry)
    assert 'data-verdict="fail"' in html and "single-entry-error" in html
    for pair in pairs:
        worst = ",".join(map(str, pair.worst))
        assert re.search(rf'data-layer="{pair.layer}" data-param="{pair.param}"\s+data-worst="{worst}"', html)


def test_a_sign_flip_draws_a_uniform_field(sign_flip):
    pairs = failing_gradients(sign_flip)
    assert pairs
    for pair in pairs:
        values = error_field(pair.returned, pair.true).values
        assert torch.allclose(values, torch.full_like(values, -2.0), atol=1e-6)


def test_the_page_is_self_contained(single_entry):
    html = report_html(single_entry)
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)=\"(https?:)?//", html) and "<script" not in html
    if "data:image/png;base64," not in html:
        assert PLOTS_MISSING in html


def test_the_notebook_shows_the_report_as_a_fragment(single_entry, correct):
    fragment = view(single_entry)._repr_html_()
    assert "<!DOCTYPE" not in fragment and "<html" not in fragment
    assert 'class="gc"' in fragment and 'data-verdict="fail"' in fragment
    assert "<style>" in fragment and "single-entry-error" in fragment
    assert 'data-verdict="pass"' in view(correct)._repr_html_()


def test_check_html_writes_the_page(tmp_path, capsys):
    page = tmp_path / "report.html"
    target = str(CORPUS / "buggy" / "single_entry_error.py")
    code = main(["check", target, "--widths", "3,1,4,2", "--device", "cpu", "--html", str(page)])
    assert code == EXIT_WRONG
    html = page.read_text(encoding="utf-8")
    assert 'data-verdict="fail"' in html and "single_entry_error.py" in html
    assert "FAIL" in capsys.readouterr().out  # the terminal report is still printed


def test_check_html_into_an_impossible_path_is_one_line(tmp_path, capsys):
    target = str(CORPUS / "correct" / "loops.py")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    page = blocker / "report.html"  # its folder is a file: no one, not even root, can write it
    code = main(["check", target, "--widths", "3,1", "--device", "cpu", "--html", str(page)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE
    assert err.startswith(f"gradcheck: --html {page}: cannot write it") and err.count("\n") == 1


# -- the class report -------------------------------------------------------------------------


def _rows() -> list[SubmissionRow]:
    loss = ("Loss value", 1.0)
    return [
        SubmissionRow("ann.py", 10.0, 10.0, 1.5, (Outcome(*loss, 1.0, True),), (), "ann.py/feedback.md"),
        SubmissionRow("bob.py", 4.0, 10.0, 3.0, (Outcome(*loss, 0.0, False),), ("sign-flip",), "bob.py/feedback.md"),
        SubmissionRow(
            "cat.py", 6.5, 10.0, 2.0, (Outcome(*loss, 1.0, True),), ("sign-flip", "sign-flip", "factor-two"), ""
        ),
    ]


def test_the_summary_counts_students_per_diagnosis_and_tests_passed():
    s = summarise(_rows(), rubric="r", max_score=10.0, isolation_lines=["no network"], version="9")
    assert s["schema"] == SCHEMA and s["submissions"] == 3
    assert s["diagnoses"] == [
        {"id": "sign-flip", "count": 2, "submissions": ["bob.py", "cat.py"]},
        {"id": "factor-two", "count": 1, "submissions": ["cat.py"]},
    ]
    assert s["tests"] == [{"name": "Loss value", "max_score": 1.0, "passed": 2, "total": 3, "pass_rate": 0.6667}]
    histogram = s["scores"]["histogram"]
    assert len(histogram) == HISTOGRAM_BINS and sum(b["count"] for b in histogram) == 3
    assert histogram[-1]["count"] == 1 and histogram[4]["count"] == 1 and histogram[6]["count"] == 1
    assert s["scores"]["full_marks"] == 1 and s["seconds"]["total"] == 6.5


def test_the_class_page_shows_the_summary():
    html = render_class_report(summarise(_rows(), rubric="Backprop <1>", max_score=10.0))
    assert "Backprop &lt;1&gt;" in html  # escaped
    row = re.search(r'<tr data-diagnosis="sign-flip">.*?</tr>', html, re.S).group(0)
    assert '<td class="num count">2</td>' in row
    assert 'href="bob.py/feedback.md"' in row and 'href="cat.py/feedback.md"' in row
    assert [int(c) for c in re.findall(r'class="bin" data-count="(\d+)"', html)].count(1) == 3
    assert "<script" not in html and "http" not in html


def test_a_class_page_without_bugs_says_so_and_a_foreign_summary_is_refused():
    html = render_class_report(summarise(_rows()[:1], rubric="r", max_score=10.0))
    assert 'id="diagnoses-none"' in html
    with pytest.raises(ValueError, match="schema"):
        render_class_report({"schema": "other"})


def test_a_row_comes_from_results_json():
    results = {
        "score": 3.5,
        "execution_time": 2.25,
        "tests": [{"name": "Loss value", "score": 1.0, "max_score": 1.0, "status": "passed"}, "junk"],
        "extra_data": {"gradcheck": {"max_score": 12.0, "diagnoses": ["sign-flip", 3]}},
    }
    row = submission_row("bob", results)
    assert (row.score, row.max_score, row.seconds, row.diagnoses) == (3.5, 12.0, 2.25, ("sign-flip",))
    assert row.tests == (Outcome("Loss value", 1.0, 1.0, True),) and row.feedback == "bob/feedback.md"


def test_a_notebook_cell_renders_the_report_as_html(single_entry):
    """What IPython does with a cell's last value: its display formatter picks ``text/html``."""
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    shell.user_ns["report"] = single_entry
    result = shell.run_cell("from gradcheck.reports import view\nview(report)")
    assert result.success
    data, _ = shell.display_formatter.format(view(single_entry))
    assert data["text/html"] == view(single_entry)._repr_html_()
    assert 'data-verdict="fail"' in data["text/html"]
