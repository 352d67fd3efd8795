"""Grading a hostile class: text, names, links, sizes and stored results that come from
submissions never stop, skew or leak through the batch.

Each test stands for one breach class and fails on the grader without its fix: a lone
surrogate that aborted every run, a grader-side failure that aborted the batch, links that were
followed (to a root-only file, to the reference), names that faked progress lines or ran as
spreadsheet formulas, reserved names dropped without a word, unbounded parsing of huge files,
forged results trusted by a resumed run, and non-finite numbers in the grader's own inputs.
Fixtures are in ``tests/hostile/grading/``; the rest are built here.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from gradcheck import cli
from gradcheck.grading import DEFAULT_RUBRIC, grade_batch, parse_rubric
from gradcheck.grading.assess import limits_for
from gradcheck.grading.discover import Source
from gradcheck.grading.escape import FORMULA_STARTS, csv_cell, safe_name, safe_text
from gradcheck.grading.outputs import write_grades_csv
from gradcheck.grading.policies import check_policies
from gradcheck.grading.rubric import Policy
from gradcheck.grading.seal import KEY_FILE, shielded
from gradcheck.grading.vet import Caps, inspect_policies, vet
from gradcheck.sandbox import Isolation

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile" / "grading"
CORPUS = ROOT / "tests" / "corpus"
CORRECT = CORPUS / "correct" / "loops.py"
RUBRIC_TEXT = (
    DEFAULT_RUBRIC.replace("max_examples = 50", "max_examples = 0")
    .replace("timeout = 10 ", "timeout = 3 ")
    .replace("memory_mb = 1024", "memory_mb = 512")
)
RUBRIC = parse_rubric(RUBRIC_TEXT, "test rubric")
LIMITS = limits_for(RUBRIC)
UNSHIELDED = Isolation(subreaper=True)  # no namespaces, the grader's own user: the documented fallback


def _grade(folder: Path, out: Path, **kwargs) -> tuple:
    log = io.StringIO()
    batch = grade_batch(folder, out, RUBRIC, limits=LIMITS, stream=log, **kwargs)
    return batch, log.getvalue()


def _csv(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def _every_output(out: Path) -> str:
    texts = (p for p in out.rglob("*") if p.is_file() and p.name != KEY_FILE and p.suffix != ".png")  # PNG: pictures
    return "".join(p.read_text(encoding="utf-8") for p in texts)


# -- 1. containment ----------------------------------------------------------------------------------


def test_lone_surrogates_and_undecodable_names_never_abort_a_batch_or_its_reruns(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    shutil.copy(HOSTILE / "lone_surrogate.py", folder / "lone_surrogate.py")
    (Path(os.fsdecode(bytes(folder) + b"/\xff.py"))).write_bytes(CORRECT.read_bytes())  # not valid UTF-8
    batch, log = _grade(folder, out)
    assert batch.errors == {} and sorted(batch.graded) == sorted(["lone_surrogate.py", "\udcff.py"])
    rows = _csv(out)
    assert float(rows["lone_surrogate.py"]["score"]) == 0 and float(rows["\\xff.py"]["score"]) == 12
    feedback = (out / "lone_surrogate.py" / "feedback.md").read_text(encoding="utf-8")
    assert "\\ud800 lone surrogate \\x1b[2J\\u202eevil" in feedback and "\x1b" not in feedback
    results = (out / "lone_surrogate.py" / "results.json").read_text(encoding="utf-8")
    assert "\\ud800" in json.loads(results)["tests"][0]["output"]  # escaped text, not an escaped surrogate
    assert "\x1b" not in log and "[9/9] someone.py" not in log.splitlines()
    again, _ = _grade(folder, out)  # the rerun goes through again (and trusts what it wrote, where it can)
    assert again.errors == {} and sorted(again.skipped + again.graded) == sorted(batch.graded)
    assert again.skipped == (sorted(batch.graded) if shielded(again.isolation) else [])


def test_a_grader_side_failure_is_that_submissions_row_and_the_batch_goes_on(tmp_path, monkeypatch):
    from gradcheck.grading import grade as grade_module

    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    for name in ("a.py", "b.py"):
        shutil.copy(CORRECT, folder / name)
    real = grade_module.row_from_results

    def failing(name, results, rubric):
        if name == "a.py":
            raise RuntimeError("a grader bug on a.py")
        return real(name, results, rubric)

    monkeypatch.setattr(grade_module, "row_from_results", failing)
    batch, log = _grade(folder, out)
    assert list(batch.errors) == ["a.py"] and "RuntimeError: a grader bug on a.py" in batch.errors["a.py"]
    rows = _csv(out)
    assert float(rows["a.py"]["score"]) == 0 and rows["a.py"]["note"].startswith("internal error: writing its results")
    assert float(rows["b.py"]["score"]) == 12 and rows["b.py"]["note"] == ""
    assert json.loads((out / "a.py" / "results.json").read_text())["score"] == 0
    assert "a.py: INTERNAL ERROR" in log and "b.py: 12/12" in log
    monkeypatch.setattr(grade_module, "row_from_results", real)
    again, _ = _grade(folder, out)  # the failed one is retried (its results are not sealed), the other kept
    assert "a.py" in again.graded and again.errors == {}
    assert again.skipped == (["b.py"] if shielded(again.isolation) else [])
    assert float(_csv(out)["a.py"]["score"]) == 12


# -- 2. the submissions folder is input ------------------------------------------------------------


def test_top_level_links_are_refused_never_followed(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FIRST-LINE the grader's private file\n")
    secret.chmod(0o600)
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(CORRECT, outside / "backprop.py")
    (folder / "secret.py").symlink_to(secret)  # its first line would be quoted in the SyntaxError
    (folder / "ref.py").symlink_to(ROOT / "reference_impl" / "__init__.py")  # the reference: full marks
    (folder / "bob").symlink_to(outside)  # a linked student folder
    shutil.copy(CORPUS / "buggy" / "sign_flip.py", folder / "real.py")
    batch, log = _grade(folder, out)
    assert batch.graded == ["real.py"] and sorted(batch.refused) == ["bob", "ref.py", "secret.py"]
    rows = _csv(out)
    for name in ("bob", "ref.py", "secret.py"):
        assert float(rows[name]["score"]) == 0 and rows[name]["note"].startswith("refused: a symbolic link")
        assert f"refused {name}: a symbolic link" in log and not (out / name).exists()
    assert "SECRET-FIRST-LINE" not in _every_output(out) + log


def test_names_are_escaped_in_progress_feedback_and_csv(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    fake = "[2\u22152] forged.py: 12\u221512 (0.1 s)"  # a division slash: a file name cannot hold "/"
    forged = f"ok.py\n{fake}\n\x1b[1Ax.py"
    formula = '=HYPERLINK("evil")&"x".py'
    for name in (formula, forged):
        (folder / name).write_text("this is not python (\n")
    batch, log = _grade(folder, out)
    assert len(batch.graded) == 2 and batch.errors == {}
    lines = log.splitlines()
    assert not any(line.startswith(fake) for line in lines) and "\x1b" not in log
    assert sorted(line.rsplit(": ", 1)[0] for line in lines if line.startswith("[")) == sorted(
        [f"[1/2] {safe_name(formula)}", f"[2/2] {safe_name(forged)}"]
    )
    rows = _csv(out)
    assert sorted(rows) == sorted(["'" + formula, safe_name(forged)])
    feedback = (out / forged / "feedback.md").read_text(encoding="utf-8")
    assert feedback.startswith(f"# Feedback: {safe_name(forged)}\n") and "\x1b" not in feedback


def test_formula_cells_are_text_and_escaping_is_one_to_one(tmp_path):
    rows = [{"submission": f"{start}cmd|' /C calc'!A0", "score": -1.0, "max_score": 12.0} for start in FORMULA_STARTS]
    write_grades_csv(tmp_path, rows, RUBRIC)
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as f:
        cells = [row["submission"] for row in csv.DictReader(f)]
    assert len(cells) == len(FORMULA_STARTS) and not any(cell.startswith(FORMULA_STARTS) for cell in cells)
    assert "'=cmd|' /C calc'!A0" in cells and "\\rcmd|' /C calc'!A0" in cells  # a carriage return is escaped
    assert csv_cell(-1.0) == -1.0 and csv_cell("plain.py") == "plain.py"
    assert safe_name("a\\nb") != safe_name("a\nb") and safe_name("\udcff") == "\\xff"
    assert safe_text("line one\nline\ttwo") == "line one\nline\ttwo" and safe_text("\ud800\x07") == "\\ud800\\x07"


def test_reserved_and_hidden_names_are_reported_not_dropped(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    (folder / "grades.csv").mkdir(parents=True)  # a student folder whose outputs would be DIR/grades.csv
    shutil.copy(CORRECT, folder / "grades.csv" / "backprop.py")
    (folder / ".carol").mkdir()
    shutil.copy(CORRECT, folder / ".carol" / "backprop.py")
    batch, log = _grade(folder, out)
    assert batch.graded == [] and list(batch.refused) == ["grades.csv"]
    assert _csv(out)["grades.csv"]["note"].startswith("refused: the name is reserved")
    assert "refused grades.csv: the name is reserved" in log and "ignored .carol: hidden" in log
    assert batch.ignored == ["ignored .carol: hidden (a name starting with '.' or '__')"]


def _notebook(path: Path, cells: int) -> None:
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None}
    path.write_text(json.dumps({"cells": [cell] * cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4}))


def test_oversized_files_and_notebooks_are_refused_before_anything_parses_them(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    _notebook(folder / "many_cells.ipynb", 5_000)  # the default cap is 1,000 cells
    (folder / "huge.py").write_text("#" * (11 << 20) + "\n")  # the default cap is 10 MB
    _notebook(folder / "small.ipynb", 3)
    batch, _ = _grade(folder, out, caps=Caps(max_cells=2))
    outputs = {n: json.loads((out / n / "results.json").read_text())["output"] for n in batch.graded}
    assert "has 5000 cells, over the limit of 2 (--max-cells)" in outputs["many_cells.ipynb"]
    assert "has 3 cells, over the limit of 2" in outputs["small.ipynb"]
    assert "huge.py is 11.0 MB, over the limit of 10 MB (--max-file-mb)" in outputs["huge.py"]
    assert all(float(row["score"]) == 0 for row in _csv(out).values())


def test_a_notebook_the_library_cannot_read_in_time_is_refused(tmp_path):
    path = tmp_path / "wide.ipynb"
    cell = {"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": [], "execution_count": None}
    metadata = {f"key{i}": i for i in range(100_000)}  # few cells, but slow to validate
    path.write_text(json.dumps({"cells": [cell], "metadata": metadata, "nbformat": 4, "nbformat_minor": 4}))
    source = Source("wide.ipynb", path, path)
    assert vet(source, Caps(parse_seconds=0.01)) == "wide.ipynb could not be read as a notebook within 0.01 s"
    assert vet(source, Caps(parse_seconds=600)) is None


def test_policy_parsing_runs_in_a_child_with_a_time_limit():
    policies = [Policy("no autograd", "forbid-autograd"), Policy("no harness", "forbid-imports")]
    sources = [("a.py", "import gradcheck\ndef f(x):\n    x.backward()\n")]
    assert inspect_policies(policies, sources, 60) == check_policies(policies, sources)
    slow = inspect_policies(policies, [("big.py", "x = 1\n" * 400_000)], 0.05)
    assert [f.note for f in slow] == ["not inspected: parsing the code took longer than 0.05 s"] * 2
    assert not any(f.violated for f in slow)


# -- 3. stored results --------------------------------------------------------------------------------


def test_a_resume_never_trusts_results_a_submission_could_have_rewritten(tmp_path, monkeypatch):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    shutil.copy(CORPUS / "buggy" / "sign_flip.py", folder / "victim.py")
    _grade(folder, out)  # with whatever isolation this machine has
    honest = float(_csv(out)["victim.py"]["score"])
    assert honest < 12
    attacker = (HOSTILE / "forges_resumed_results.py").read_text().replace("OUT_DIR = None", f"OUT_DIR = {str(out)!r}")
    (folder / "zz_attacker.py").write_text(attacker)
    with monkeypatch.context() as patch:  # the documented fallback: the sandbox can write the output folder
        patch.setattr("gradcheck.grading.grade.probe", lambda: UNSHIELDED)
        patch.setattr("gradcheck.grading.grade._restore", lambda *_: None)  # as if the attacker killed the grader
        second, log = _grade(folder, out)
    assert second.skipped == [] and sorted(second.graded) == ["victim.py", "zz_attacker.py"]
    assert "none is trusted" in log and not (out / KEY_FILE).exists()  # the key left the disk before the attack
    assert json.loads((out / "victim.py" / "results.json").read_text())["score"] == 12  # forged on disk...
    third, _ = _grade(folder, out)
    assert "victim.py" in third.graded  # ... and never trusted
    assert (out / KEY_FILE).exists() == shielded(third.isolation)
    assert float(_csv(out)["victim.py"]["score"]) == honest
    assert json.loads((out / "victim.py" / "results.json").read_text())["score"] == honest


def test_results_edited_by_hand_or_copied_are_graded_again(tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "out"
    folder.mkdir()
    shutil.copy(CORPUS / "buggy" / "sign_flip.py", folder / "a.py")
    shutil.copy(CORPUS / "buggy" / "sign_flip.py", folder / "b.py")
    _grade(folder, out)
    path = out / "a.py" / "results.json"
    results = json.loads(path.read_text())
    honest = results["score"]
    results["score"] = 12.0  # fingerprint, settings and seal kept: only the grade changed
    path.write_text(json.dumps(results))
    shutil.copy(path, out / "b.py" / "results.json")
    again, _ = _grade(folder, out)
    assert sorted(again.graded) == ["a.py", "b.py"] and again.skipped == []
    assert [float(r["score"]) for r in _csv(out).values()] == [honest, honest]


# -- 4. the grader's own inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, rubric, message",
    [
        (["grade", "SUBS", "--out", "FILE"], None, "is a file; it must be a folder"),
        (["grade", "SUBS", "--out", "OUT", "--timeout", "inf"], None, "'inf' is not a finite positive number"),
        (["grade", "SUBS", "--out", "OUT", "--timeout", "nan"], None, "'nan' is not a"),
        (["grade", "SUBS", "--out", "OUT", "--max-file-mb", "inf"], None, "'inf' is not a finite positive number"),
        (["gradescope", "--root", "OUT", "--timeout", "inf"], None, "'inf' is not a finite positive number"),
        (["grade", "SUBS", "--out", "OUT"], ("points = 1\nchecks", "points = nan\nchecks"), "tests[0].points is nan"),
        (["grade", "SUBS", "--out", "OUT"], ("timeout = 3 ", "timeout = inf "), "sandbox.timeout is inf"),
        (["grade", "SUBS", "--out", "OUT"], ("points = 0\n", "points = inf\n"), "policies[0].points is inf"),
    ],
)
def test_the_graders_own_inputs_are_checked(tmp_path, capsys, args, rubric, message):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.py").write_text("x = 1\n")  # a submission: each check must come before grading
    (tmp_path / "file").write_text("not a folder")
    arguments = [
        {"SUBS": str(tmp_path / "subs"), "OUT": str(tmp_path / "out"), "FILE": str(tmp_path / "file")}.get(a, a)
        for a in args
    ]
    if rubric is not None:
        assert rubric[0] in RUBRIC_TEXT
        (tmp_path / "rubric.toml").write_text(RUBRIC_TEXT.replace(*rubric, 1))
        arguments += ["--rubric", str(tmp_path / "rubric.toml")]
    try:
        code = cli.main(arguments)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
