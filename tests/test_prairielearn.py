"""``gradcheck prairielearn``: PrairieLearn's external-grader ``results.json`` from ``/grade``.

The output is validated against PrairieLearn's documented results format (externalGrading:
``score`` in [0, 1], ``gradable``, ``format_errors``, ``message``, ``output``, ``images`` as
``{label, url}``, ``tests`` with ``name``, ``description``, ``points``, ``max_points``,
``message``, ``output``, ``images``; at most 1 MB), written here as a JSON Schema. A correct
submission gets 1 and no picture, a buggy one partial points and the heatmap of its failing
gradient, one that cannot load ``gradable: false``.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from gradcheck.cli import main
from gradcheck.grading import load_rubric
from gradcheck.grading.prairielearn import run_prairielearn
from gradcheck.reports.heatmap import plots_available

CORPUS = Path(__file__).parent / "corpus"
EXAMPLE = Path(__file__).parent.parent / "examples" / "prairielearn"
RUBRIC = EXAMPLE / "questions" / "backprop" / "tests" / "rubric.toml"
MAX_BYTES = 1_000_000
PNG = b"\x89PNG\r\n\x1a\n"

_IMAGE = {
    "type": "object",
    "required": ["url"],
    "properties": {"label": {"type": "string"}, "url": {"type": "string", "pattern": "^data:image/png;base64,"}},
}
_TEST = {
    "type": "object",
    "required": ["name", "points", "max_points"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "points": {"type": "number", "minimum": 0},
        "max_points": {"type": "number", "minimum": 0},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "images": {"type": "array", "items": _IMAGE},
    },
}
RESULTS_SCHEMA = {
    "type": "object",
    "properties": {
        "gradable": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "format_errors": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "images": {"type": "array", "items": _IMAGE},
        "tests": {"type": "array", "items": _TEST},
    },
    "if": {"properties": {"gradable": {"const": False}}, "required": ["gradable"]},
    "then": {"required": ["format_errors"]},
    "else": {"required": ["score"]},
}


def _job(tmp_path: Path, student: str | None, rubric: Path | None = RUBRIC) -> Path:
    """A /grade folder: the student's file as backprop.py and the question's tests folder."""
    root = tmp_path / "grade"
    (root / "student").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "serverFilesCourse").mkdir()
    if student is not None:
        shutil.copy(CORPUS / student, root / "student" / "backprop.py")
    if rubric is not None:
        shutil.copy(rubric, root / "tests" / "rubric.toml")
    return root


def _results(root: Path) -> dict:
    path = root / "results" / "results.json"
    assert path.stat().st_size < MAX_BYTES
    results = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(results, RESULTS_SCHEMA)
    return results


def test_the_schema_rejects_what_prairielearn_would():
    for bad in ({"score": 1.5}, {"gradable": False}, {"score": 0.5, "tests": [{"name": "t", "points": 1}]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, RESULTS_SCHEMA)


@pytest.fixture(scope="module")
def correct(tmp_path_factory) -> dict:
    root = _job(tmp_path_factory.mktemp("correct"), "correct/loops.py")
    assert run_prairielearn(root) == 0
    return _results(root)


@pytest.fixture(scope="module")
def buggy(tmp_path_factory) -> dict:
    root = _job(tmp_path_factory.mktemp("buggy"), "buggy/single_entry_error.py")
    assert main(["prairielearn", "--root", str(root)]) == 0
    return _results(root)


def test_a_correct_submission_scores_one_with_no_picture(correct):
    assert correct["gradable"] is True and correct["score"] == 1.0
    assert correct["tests"] and all(t["points"] == t["max_points"] for t in correct["tests"])
    assert all(t["images"] == [] and t["message"] == "passed" for t in correct["tests"])


def test_a_buggy_submission_gets_partial_points_and_its_heatmap(buggy):
    rubric = load_rubric(RUBRIC)
    assert 0 < buggy["score"] < 1
    points = sum(t["points"] for t in buggy["tests"])
    assert buggy["score"] == pytest.approx(points / rubric.max_score)
    assert sum(t["max_points"] for t in buggy["tests"]) == rubric.max_score
    values = next(t for t in buggy["tests"] if t["name"].endswith("Gradient values"))
    assert values["message"] == "failed" and values["points"] < values["max_points"]
    assert "single-entry-error" in values["output"]
    if not plots_available():
        assert values["images"] == []
        return
    assert values["images"], "the failing value test carries its picture"
    for image in values["images"]:
        assert base64.b64decode(image["url"].split(",", 1)[1]).startswith(PNG)
        assert image["label"].startswith(("W[", "b["))
    passing = [t for t in buggy["tests"] if t["message"] == "passed"]
    assert passing and all(t["images"] == [] for t in passing)


def test_a_submission_that_cannot_load_is_not_gradable(tmp_path):
    root = _job(tmp_path, None)
    (root / "student" / "backprop.py").write_text("def forward_backward(x, y, W, b)\n    return 1\n")
    assert run_prairielearn(root) == 0
    results = _results(root)
    assert results["gradable"] is False and results["format_errors"]
    assert "SyntaxError" in results["format_errors"][0] or "syntax" in results["format_errors"][0].lower()


def test_an_empty_submission_is_not_gradable(tmp_path):
    root = _job(tmp_path, None)
    assert run_prairielearn(root) == 0
    results = _results(root)
    assert results["gradable"] is False and "forward_backward" in results["format_errors"][0]


def test_a_bad_rubric_still_writes_results_and_exits_2(tmp_path, capsys):
    root = _job(tmp_path, "correct/loops.py", rubric=None)
    (root / "tests" / "rubric.toml").write_text("[[tests]]\nname = 1\n")
    assert run_prairielearn(root) == 2
    results = _results(root)
    assert results["gradable"] is False and "misconfigured" in results["message"]
    assert capsys.readouterr().err.startswith("gradcheck: ")


def test_the_example_course_is_consistent():
    info = json.loads((EXAMPLE / "questions" / "backprop" / "info.json").read_text(encoding="utf-8"))
    options = info["externalGradingOptions"]
    assert options["enabled"] is True and 0 < options["timeout"] <= 600
    entry = options["entrypoint"].removeprefix("/grade/serverFilesCourse/")
    script = EXAMPLE / "serverFilesCourse" / entry
    assert script.is_file() and "gradcheck prairielearn --root /grade" in script.read_text(encoding="utf-8")
    assert all((EXAMPLE / "serverFilesCourse" / d).is_dir() for d in options["serverFilesCourse"])
    assert load_rubric(RUBRIC).max_score > 0
