"""Honest scores: tests of form and hygiene (inputs not modified, same result on a repeated call,
shapes and dtypes) earn their points only where the implementation's gradients are right in at
least one case (``requires_correct_gradients``, on by default), so garbage earns 0.

Scored in process on trusted files (fast); the sandboxed batch in ``test_grading.py`` grades the
same hostile files end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import gradcheck
from gradcheck.grading import DEFAULT_RUBRIC, RubricError, parse_rubric
from gradcheck.grading.policies import check_policies
from gradcheck.grading.score import score_submission

ROOT = Path(__file__).resolve().parents[1]
GARBAGE = ROOT / "tests" / "hostile" / "garbage_random_tensors.py"
ZEROS = ROOT / "tests" / "hostile" / "patches_comparisons.py"
CORPUS = ROOT / "tests" / "corpus"
RUBRIC = parse_rubric(DEFAULT_RUBRIC, "the default rubric")
HYGIENE = ("Gradient shapes and dtypes (every network)", "Inputs not modified", "Same result on a repeated call")
UNGATED = parse_rubric(
    DEFAULT_RUBRIC.replace("[[tests]]\n", "[[tests]]\nrequires_correct_gradients = false\n"), "ungated rubric"
)


def _score(target: Path, rubric=RUBRIC):
    report = gradcheck.check(str(target), devices=("cpu",), max_examples=0, timeout=5)
    return score_submission(rubric, report, check_policies(rubric.policies, [("s.py", target.read_text())]))


@pytest.mark.parametrize("target", [GARBAGE, ZEROS], ids=["random tensors", "zeros"])
def test_garbage_of_the_right_shapes_earns_nothing(target):
    score = _score(target)
    assert score.total == 0
    by_name = {t.test.name: t for t in score.tests}
    assert all("gradients are right in no case" in by_name[name].note for name in HYGIENE)


@pytest.mark.parametrize("target", [GARBAGE, ZEROS], ids=["random tensors", "zeros"])
def test_without_the_rule_the_same_garbage_collects_the_hygiene_points(target):
    """The rule is what takes them away: lifted, the three form and hygiene tests pay again."""
    score = _score(target, UNGATED)
    earned = {t.test.name for t in score.tests if t.score > 0}
    assert earned == set(HYGIENE) and score.total == 3


def test_a_real_implementation_with_a_bug_keeps_its_hygiene_points():
    """The seed bug gets W[0] wrong but the other gradients right: its hygiene counts."""
    by_name = {t.test.name: t for t in _score(CORPUS / "buggy" / "seed_bug.py").tests}
    assert by_name["Inputs not modified"].score == 1 and by_name["Same result on a repeated call"].score == 1


def test_a_sign_flip_is_right_nowhere_and_earns_no_hygiene_points():
    by_name = {t.test.name: t for t in _score(CORPUS / "buggy" / "sign_flip.py").tests}
    assert [by_name[name].score for name in HYGIENE] == [0, 0, 0]
    assert by_name["Loss value"].score == 1  # judged on its own values, untouched by the rule


def test_the_rule_is_per_test_and_only_where_no_values_are_judged():
    assert [t.gated for t in RUBRIC.tests if t.name in HYGIENE] == [True, True, True]
    assert not any(t.gated for t in RUBRIC.tests if t.name not in HYGIENE)
    assert not any(t.gated for t in UNGATED.tests)


@pytest.mark.parametrize("value", ['"yes"', "1", "0.5"])
def test_requires_correct_gradients_must_be_a_bool(value):
    text = f"[[tests]]\nname = 'a'\nchecks = ['input-mutation']\nrequires_correct_gradients = {value}\n"
    with pytest.raises(RubricError, match="'requires_correct_gradients' must be a bool"):
        parse_rubric(text)
