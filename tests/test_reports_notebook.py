"""A rubric's visible tests run from a notebook cell give the grader's verdicts, and render.

The same buggy file is graded by the grader (in its sandbox) and by ``visible_tests`` (in this
process): every test's points must agree. A correct function passes every visible test with no
heatmap; hidden tests are never shown.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gradcheck.grading import DEFAULT_RUBRIC, assess, discover, limits_for, parse_rubric
from gradcheck.grading.notebook import visible_tests
from gradcheck.loading import load_target

CORPUS = Path(__file__).parent / "corpus"
RUBRIC = parse_rubric(DEFAULT_RUBRIC.replace("max_examples = 50", "max_examples = 0"), "test rubric")


def _function(name: str):
    return load_target(str(CORPUS / name), "forward_backward").function


def test_visible_tests_give_the_graders_points(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(CORPUS / "buggy" / "single_entry_error.py", folder)
    (source,), _ = discover(folder)
    graded = assess(source, RUBRIC, limits=limits_for(RUBRIC))
    mine = visible_tests(_function("buggy/single_entry_error.py"), rubric=RUBRIC)
    assert {t.test.name: t.score for t in mine.score.tests} == {t.test.name: t.score for t in graded.score.tests}
    assert 0 < mine.points[0] < mine.points[1]
    html = mine._repr_html_()
    failed = [t for t in mine.tests if not t.ok]
    assert failed and html.count('data-ok="false"') == len(failed) + sum(p.finding.violated for p in mine.policies)
    assert "single-entry-error" in html and "<figure" in html
    assert "✗" in str(mine) and str(mine).startswith(f"{RUBRIC.name}: ")


def test_a_correct_function_passes_every_visible_test():
    result = visible_tests(_function("correct/loops.py"), rubric=RUBRIC)
    got, top = result.points
    assert got == top > 0 and all(t.ok for t in result.tests)
    html = result._repr_html_()
    assert 'data-ok="false"' not in html and "<figure" not in html


def test_hidden_tests_are_not_shown():
    text = DEFAULT_RUBRIC.replace("max_examples = 50", "max_examples = 0").replace(
        'name = "Loss value"', 'name = "Loss value"\nvisibility = "hidden"'
    )
    result = visible_tests(_function("correct/loops.py"), rubric=parse_rubric(text, "hidden rubric"))
    assert "Loss value" not in {t.test.name for t in result.tests}
    assert "Loss value" not in result._repr_html_() and "Loss value" not in str(result)


def test_bad_arguments_are_one_clear_error():
    with pytest.raises(TypeError, match="fn must be the function"):
        visible_tests("forward_backward")
    with pytest.raises(TypeError, match="rubric must be"):
        visible_tests(_function("correct/loops.py"), rubric=3)
