"""Grading: rubrics, policies, scores, outputs, and a whole batch of correct, buggy and hostile
submissions, graded end to end, killed with SIGKILL and resumed.

The batch is graded once (a module fixture, two workers) and several tests read what it wrote.
Scores are exact: each hostile submission's expected grade is derived in its comment from the
default rubric (12 points: loss 1, six per-layer gradients 1 each, shapes 1, robustness 2,
inputs untouched 1, repeatable 1; two informational policies).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import gradcheck
from gradcheck import cli
from gradcheck.cases import builtin_cases
from gradcheck.grading import (
    DEFAULT_RUBRIC,
    GradeError,
    RubricError,
    grade_batch,
    load_rubric,
    parse_rubric,
    run_gradescope,
)
from gradcheck.grading.assess import limits_for
from gradcheck.grading.policies import check_policies
from gradcheck.grading.score import score_submission
from gradcheck.sandbox import Isolation

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile"
CORPUS = ROOT / "tests" / "corpus"
FAST_RUBRIC = (
    DEFAULT_RUBRIC.replace("max_examples = 50", "max_examples = 5")
    .replace("timeout = 10 ", "timeout = 3 ")
    .replace("memory_mb = 1024", "memory_mb = 512")
)
RUBRIC = parse_rubric(FAST_RUBRIC, "test rubric")
LIMITS = limits_for(RUBRIC)
MARKER = "gradcheck-hostile-marker"

# Submission -> expected score under the default rubric (see the module doc for the points).
EXPECTED = {
    # correct: every point
    "loops.py": 12,
    "einsum.py": 12,
    "alice": 12,
    "student.ipynb": 12,
    # in-place SGD step on W and b: only "inputs not modified" lost
    "input_mutation_sgd.py": 11,
    # crashes, hangs, exits, runaway recursion or memory: nothing is ever checked
    **{
        f"{name}.py": 0
        for name in (
            "crash_on_import",
            "crash_in_call",
            "segfault",
            "hang",
            "sleeps",
            "memory_hog",
            "exit_sys",
            "exit_os",
            "exit_at_import",
            "recursion",
            "deep_recursion",
            "ignores_sigterm",
            "fake_reply_fd",
        )
    },
    # right gradients, whatever they print or start on the side
    "flood_stdout.py": 12,
    "fake_json_prints.py": 12,
    "detached_children.py": 12,
    # zeros: right shapes, inputs untouched, repeatable; every value wrong, so no hygiene points
    # either (requires_correct_gradients): 0
    "patches_comparisons.py": 0,
    "imports_reference.py": 0,
    "fake_results.py": 0,
    "garbage_random_tensors.py": 0,
    # zeros in a lying subclass: no plain tensor at all, and no right gradient: 0
    "lying_subclass.py": 0,
    # right gradients; IPC objects and nested user namespaces are their own business
    "ipc_shared_memory.py": 12,
    "ipc_nested_user_namespace.py": 12,
    # forged replies beyond the wire's limits: every call fails
    "wire_huge_integer.py": 0,
    "wire_deep_nesting.py": 0,
    "wire_huge_string.py": 0,
}
TIMED_OUT = {"hang.py", "sleeps.py", "ignores_sigterm.py"}
CRASHED = {"segfault.py", "exit_os.py", "deep_recursion.py", "fake_reply_fd.py"}

CORRECT = (Path(__file__).parent / "corpus" / "correct" / "compact.py").read_text()  # a correct submission


def _notebook(path: Path, cells: list[str]) -> None:
    cells_json = [
        {"id": f"c{i}", "cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
        for i, c in enumerate(cells)
    ]
    path.write_text(json.dumps({"cells": cells_json, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))


def _running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _submissions(folder: Path, out: Path) -> Path:
    folder.mkdir()
    for path in HOSTILE.glob("*.py"):
        shutil.copy(path, folder / path.name)
    planted = (folder / "fake_results.py").read_text().replace("OUT_DIR = None", f"OUT_DIR = {str(out)!r}")
    (folder / "fake_results.py").write_text(planted)
    for name in ("correct/loops.py", "correct/einsum.py", "buggy/seed_bug.py", "buggy/input_mutation_sgd.py"):
        shutil.copy(CORPUS / name, folder / Path(name).name)
    student = folder / "alice"
    student.mkdir()
    (student / "backprop.py").write_text(CORRECT)
    (student / "main.py").write_text("from backprop import forward_backward  # noqa: F401\n")
    _notebook(folder / "student.ipynb", ["%matplotlib inline\nimport torch", CORRECT, "print(forward_backward)"])
    (folder / "notes.txt").write_text("not a submission")
    return folder


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The whole corpus above, graded once with two workers."""
    base = tmp_path_factory.mktemp("batch")
    out = base / "out"
    folder = _submissions(base / "submissions", out)
    tmp = base / "tmp"
    tmp.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp))  # the workers' sandboxes work there; checked empty afterwards
        result = grade_batch(folder, out, RUBRIC, limits=LIMITS, jobs=2)
    return result, folder, out, tmp


def _results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text())


# -- rubric ----------------------------------------------------------------------------------------


def test_default_rubric():
    rubric = load_rubric()
    assert rubric.max_score == 12 and len(rubric.tests) == 11 and len(rubric.policies) == 2
    assert {t.visibility for t in rubric.tests} == {"visible"}
    assert [t.partial for t in rubric.tests if t.layers] == [False] * 6
    assert rubric.columns[0] == "Loss value" and rubric.columns[-1] == "Policy: no harness imports"


def test_rubric_visibility_partial_credit_and_numbers():
    rubric = parse_rubric("""
        [[tests]]
        name = "values"
        points = 3
        checks = ["gradient-values"]
        visibility = "after_due_date"
        [[tests]]
        name = "hidden values"
        points = 2
        partial = false
        checks = ["gradient-values"]
        visibility = "hidden"
        [[policies]]
        rule = "forbid-autograd"
        points = 1
        zero_score = true
    """)
    assert [(t.name, t.number, t.visibility, t.partial) for t in rubric.tests] == [
        ("values", "1", "after_due_date", True),
        ("hidden values", "2", "hidden", False),
    ]
    assert (
        rubric.policies[0].name == "Policy: forbid-autograd"
        and rubric.policies[0].number == "3"
        and rubric.max_score == 6
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("name = ", "not valid TOML"),
        ("[[tests]]\nname = 'a'\nchecks = ['loss-value']\ncolour = 'red'", "unknown key 'colour'"),
        ("[[tests]]\nname = 'a'\nchecks = ['loss']", "'checks' must list some of"),
        ("[[tests]]\nname = 'a'\nchecks = ['loss-value']\nvisibility = 'secret'", "visibility 'secret' is not one of"),
        ("[[tests]]\nname = 'a'\nchecks = ['loss-value']\npoints = 'ten'", "'points' must be a float"),
        (
            "[[tests]]\nname = 'a'\nchecks = ['loss-value']\n[[tests]]\nname = 'a'\nchecks = ['loss-value']",
            "two tests are named 'a'",
        ),
        (
            "[[tests]]\nname = 'a'\nchecks = ['gradient-values']\nwidths = [[9, 9]]",
            "applies to none of the built-in cases",
        ),
        ("[[tests]]\nname = 'a'\nchecks = ['gradient-values']\nlayers = [7]", "applies to none of the built-in cases"),
        ("[[tests]]\nname = 'a'\nchecks = ['loss-value']\n[[policies]]\nrule = 'forbid-fun'", "'rule' must be one of"),
        ("name = 'no tests'", "has no [[tests]]"),
    ],
)
def test_rubric_errors_are_one_clear_line(text, message):
    with pytest.raises(RubricError) as error:
        parse_rubric(text)
    assert message in str(error.value) and "\n" not in str(error.value)


# -- policies --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source, found",
    [
        ("loss.backward()", ".backward"),
        ("import torch\ng = torch.autograd.grad(l, W)", "torch.autograd"),
        ("from torch.func import grad", "from torch.func import grad"),
        ("from torch import autograd", "from torch import autograd"),
        ("import functorch", "import functorch"),
        ("g = getattr(torch, 'autograd')", "getattr(..., 'autograd')"),
        ("def f(x):\n    return x @ x.T  # no autograd here, only in a comment", None),
    ],
)
def test_autograd_policy(source, found):
    rubric = load_rubric()
    finding = check_policies(rubric.policies[:1], [("s.py", source)])[0]
    assert finding.violated == (found is not None)
    if found:
        assert any(found in line for line in finding.evidence) and finding.evidence[0].startswith("s.py:")


def test_import_policy():
    rubric = load_rubric()
    sources = [
        (
            "a.py",
            "import reference_impl\nfrom gradcheck.oracles import autograd_oracle\nm = __import__('reference_impl.x')",
        ),
        ("b.py", "import numpy"),
    ]
    finding = check_policies(rubric.policies[1:], sources)[0]
    assert finding.evidence == [
        "a.py:1: import reference_impl",
        "a.py:2: from gradcheck.oracles import ...",
        "a.py:3: __import__('reference_impl.x')",
    ]


# -- scoring (in process, on trusted corpus code: fast) --------------------------------------------


def _report(target, **kwargs):
    """A generous per-call timeout: only the planted hang may time out, however loaded the machine."""
    return gradcheck.check(str(target), devices=("cpu",), max_examples=0, timeout=10, **kwargs)


def _score(target, rubric=RUBRIC, report=None, **kwargs):
    report = report or _report(target, **kwargs)
    return score_submission(rubric, report, check_policies(rubric.policies, [("s.py", Path(target).read_text())]))


def test_partial_credit_is_cases_passed_over_cases_judged():
    """The seed bug builds ∇W⁽⁰⁾ from a[-1] (shape n_L) instead of x (shape n_0): its shapes are
    right exactly where n_0 == n_L, and its values only where saturated sigmoids make every
    gradient vanish."""
    cases = builtin_cases(devices=("cpu",))
    report = _report(CORPUS / "buggy" / "seed_bug.py")
    score = _score(CORPUS / "buggy" / "seed_bug.py", report=report)
    by_name = {t.test.name: t for t in score.tests}
    assert by_name["W[0] gradient (7-5-3-1 network)"].score == 0  # all or nothing
    shapes = by_name["Gradient shapes and dtypes (every network)"]
    square = sum(c.widths[0] == c.widths[-1] for c in cases)
    assert (shapes.passed, shapes.judged) == (square, len(cases) + 1) and shapes.score == round(
        square / (len(cases) + 1), 4
    )  # + the repeated call
    robust = by_name["Robustness across architectures"]
    others = [c for c in cases if c.widths != (7, 5, 3, 1)]
    vanishing = sum(c.widths[0] == c.widths[-1] and c.regime == "saturated" for c in others)
    assert (robust.passed, robust.judged) == (vanishing, len(others)) and robust.score == round(
        2 * vanishing / len(others), 4
    )
    diagnoses = [report.diagnosis_of(f) for f in by_name["W[0] gradient (7-5-3-1 network)"].failures]
    assert any(d is not None and d.id == "layer0-uses-wrong-input" for d in diagnoses)


def test_no_credit_without_evidence_and_time_outs_cost_the_rest(tmp_path):
    """A hang on depth-5 networks: the cases before it count, the hang and every case skipped
    after it count as failed, and what never ran (the repeated call) earns nothing."""
    source = tmp_path / "hangs_on_depth_five.py"
    source.write_text(
        CORRECT + "\n\n_right = forward_backward\n\n\ndef forward_backward(x, y, W, b):\n"
        "    while len(W) == 5:\n        pass\n    return _right(x, y, W, b)\n"
    )
    score = _score(source)
    by_name = {t.test.name: t for t in score.tests}
    others = [c for c in builtin_cases(devices=("cpu",)) if c.widths != (7, 5, 3, 1)]
    before = next(i for i, c in enumerate(others) if c.depth == 5)
    robust = by_name["Robustness across architectures"]
    assert (robust.passed, robust.judged) == (before, len(others)) and robust.score == round(
        2 * before / len(others), 4
    )
    seed_cases = [c for c in builtin_cases(devices=("cpu",)) if c.widths == (7, 5, 3, 1)]
    w0 = by_name["W[0] gradient (7-5-3-1 network)"]
    assert (
        w0.judged == len(seed_cases) and 0 < w0.passed < w0.judged and w0.score == 0
    )  # saturated 7-5-3-1 cases came after the hang
    assert by_name["Same result on a repeated call"].score == 0 and by_name[
        "Same result on a repeated call"
    ].note.startswith("not checked")


def test_zero_score_policy():
    rubric = parse_rubric(
        FAST_RUBRIC.replace('rule = "forbid-autograd"', 'rule = "forbid-autograd"\nzero_score = true')
    )
    score = _score(CORPUS / "correct" / "autograd_inside.py", rubric)
    assert score.total == 0 and score.zeroed_by == "Policy: no autograd" and sum(t.score for t in score.tests) == 12


# -- a whole batch -----------------------------------------------------------------------------------


def test_batch_scores(batch):
    result, _, out, _ = batch
    assert sorted(result.graded) == sorted([*EXPECTED, "seed_bug.py"]) and not result.errors and not result.skipped
    assert result.ignored == ["ignored notes.txt: not a .py/.ipynb file or a folder"]
    got = {name: _results(out, name)["score"] for name in EXPECTED}
    assert got == pytest.approx(EXPECTED, abs=1e-3)


def test_batch_partial_credit_of_the_seed_bug(batch):
    """W[0] is lost; the partial tests get points × passed / judged, as their output says."""
    _, _, out, _ = batch
    tests = {t["name"]: t for t in _results(out, "seed_bug.py")["tests"]}
    assert tests["W[0] gradient (7-5-3-1 network)"]["score"] == 0
    assert all(
        t["score"] == t["max_score"]
        for name, t in tests.items()
        if name.startswith(("b[", "W[1]", "W[2]", "Loss", "Inputs", "Same"))
    )
    for name in ("Gradient shapes and dtypes (every network)", "Robustness across architectures"):
        test = tests[name]
        passed, judged = (int(n) for n in test["output"].split("passed ")[1].split(" case")[0].split(" of "))
        assert 0 < passed < judged and test["score"] == pytest.approx(test["max_score"] * passed / judged, abs=1e-4)


def test_batch_grades_csv(batch):
    _, _, out, _ = batch
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["submission", "score", "max_score", *RUBRIC.columns, "note"]
    assert [r["submission"] for r in rows] == sorted([*EXPECTED, "seed_bug.py"])  # each once, nothing planted
    for row in rows:
        assert (
            float(row["score"]) == pytest.approx(EXPECTED.get(row["submission"], float(row["score"])), abs=1e-3)
            and row["max_score"] == "12.0"
        )
    assert {r["Policy: no harness imports"] for r in rows if r["submission"] == "imports_reference.py"} == {"failed"}


def test_results_json_follows_gradescope(batch):
    _, _, out, _ = batch
    for name in [*EXPECTED, "seed_bug.py"]:
        data = _results(out, name)
        assert {
            "score",
            "execution_time",
            "output",
            "output_format",
            "visibility",
            "stdout_visibility",
            "tests",
        } <= set(data)
        assert (
            isinstance(data["score"], float)
            and isinstance(data["execution_time"], (int, float))
            and data["output_format"] == "md"
        )
        assert [t["name"] for t in data["tests"]] == RUBRIC.columns
        for test in data["tests"]:
            assert set(test) == {"name", "number", "score", "max_score", "status", "output", "tags", "visibility"}
            assert test["status"] in ("passed", "failed") and isinstance(test["output"], str)
            if test["max_score"] > 0:
                assert (test["status"] == "passed") == (test["score"] == test["max_score"])
            assert (
                isinstance(test["tags"], list) and test["visibility"] == "visible" and isinstance(test["number"], str)
            )
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)


def test_feedback_explains_failures(batch):
    _, _, out, _ = batch
    feedback = (out / "seed_bug.py" / "feedback.md").read_text()
    assert "## ✗ 2.1 W[0] gradient (7-5-3-1 network): 0 / 1" in feedback
    assert "likely bug: layer0-uses-wrong-input" in feedback
    assert "smallest case: widths [3, 1], batch 1" in feedback
    assert "reproduce: gradcheck check seed_bug.py --widths 3,1" in feedback
    mutation = (out / "input_mutation_sgd.py" / "feedback.md").read_text()
    assert "## ✗ 5 Inputs not modified: 0 / 1" in mutation and "the call modified its input W[" in mutation
    assert "## ✗" not in (out / "loops.py" / "feedback.md").read_text()


def test_timeouts_and_crashes_are_recorded(batch):
    _, _, out, _ = batch
    for name in TIMED_OUT:
        record = _results(out, name)["extra_data"]["gradcheck"]
        assert record["timed_out"] and any("did not return within 3 s" in e for e in record["events"])
    for name in CRASHED:
        record = _results(out, name)["extra_data"]["gradcheck"]
        assert record["crashes"] == 1 + LIMITS.restarts and not record["timed_out"]
    assert "SIGSEGV" in _results(out, "segfault.py")["output"]
    assert "called sys.exit(0)" in _results(out, "exit_sys.py")["tests"][0]["output"]
    assert "MemoryError" in _results(out, "memory_hog.py")["tests"][0]["output"]
    assert (
        "could not be checked: loading crash_on_import.py failed: RuntimeError: boom while importing"
        in _results(out, "crash_on_import.py")["output"]
    )


def test_nothing_is_left_running_or_lying_around(batch):
    result, _, _, tmp = batch
    assert _running(MARKER) == []
    assert [p.name for p in tmp.iterdir() if p.name.startswith("gradcheck-sbx-")] == []  # every sandbox folder removed
    if result.isolation.mount:  # and nothing was planted beside them ("../results.json")
        assert [p.name for p in tmp.iterdir()] == []


def test_fake_results_change_nobody_elses_grade(batch):
    result, _, out, _ = batch
    assert _results(out, "fake_results.py")["score"] == 0  # zeros: no hygiene points either
    assert _results(out, "loops.py")["score"] == 12
    assert "zz_not_a_submission" not in result.rows
    if result.isolation.mount:  # the output folder is hidden from the sandbox: nothing was planted
        assert not (out / "zz_not_a_submission").exists()


def test_flood_is_capped_in_the_outputs(batch):
    _, _, out, _ = batch
    assert (out / "flood_stdout.py" / "results.json").stat().st_size < 30_000
    assert (out / "flood_stdout.py" / "feedback.md").stat().st_size < 10_000


def test_fake_results_cannot_survive_without_a_mount_namespace(tmp_path, monkeypatch):
    """Where a sandbox can write into the output folder (no mount namespace), whatever it
    planted over an earlier submission's results is put back at the end of the batch."""
    monkeypatch.setattr("gradcheck.grading.grade.probe", lambda: Isolation(subreaper=True))
    out = tmp_path / "out"
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(CORPUS / "correct" / "loops.py", folder / "a_victim.py")
    (folder / "z_attacker.py").write_text(
        (HOSTILE / "fake_results.py").read_text().replace("OUT_DIR = None", f"OUT_DIR = {str(out)!r}")
    )
    rubric = parse_rubric(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    result = grade_batch(folder, out, rubric, limits=LIMITS, jobs=1)
    assert _results(out, "a_victim.py")["score"] == 12 and _results(out, "z_attacker.py")["score"] == 0
    with open(out / "grades.csv", newline="") as f:
        assert [(r["submission"], r["score"]) for r in csv.DictReader(f)] == [
            ("a_victim.py", "12.0"),
            ("z_attacker.py", "0.0"),
        ]
    assert sorted(result.rows) == ["a_victim.py", "z_attacker.py"]


# -- resuming --------------------------------------------------------------------------------------


def test_rerun_skips_what_is_graded_and_regrades_what_changed(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(CORPUS / "correct" / "loops.py", folder / "a.py")
    shutil.copy(CORPUS / "buggy" / "sign_flip.py", folder / "b.py")
    out = tmp_path / "out"
    rubric = parse_rubric(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    first = grade_batch(folder, out, rubric, limits=LIMITS)
    stamps = {n: (out / n / "results.json").stat().st_mtime_ns for n in ("a.py", "b.py")}
    again = grade_batch(folder, out, rubric, limits=LIMITS)
    assert sorted(first.graded) == ["a.py", "b.py"] and again.graded == [] and sorted(again.skipped) == ["a.py", "b.py"]
    assert {n: (out / n / "results.json").stat().st_mtime_ns for n in stamps} == stamps
    shutil.copy(CORPUS / "correct" / "loops.py", folder / "b.py")  # b fixed its bug
    fixed = grade_batch(folder, out, rubric, limits=LIMITS)
    assert fixed.graded == ["b.py"] and _results(out, "b.py")["score"] == 12
    forced = grade_batch(folder, out, rubric, limits=LIMITS, regrade=True)
    assert sorted(forced.graded) == ["a.py", "b.py"]


def test_output_folder_is_locked_and_inputs_are_checked(tmp_path):
    with pytest.raises(GradeError, match="not a folder"):
        grade_batch(tmp_path / "missing", tmp_path / "out", RUBRIC, limits=LIMITS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GradeError, match="holds no"):
        grade_batch(tmp_path / "empty", tmp_path / "out", RUBRIC, limits=LIMITS)


def _processes_under(folder: Path, marker: str) -> list[int]:
    """Processes working in ``folder`` (sandboxes) or carrying ``marker`` in their environment (workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if cwd.startswith(str(folder)) or marker.encode() in environ:
            found.append(int(entry.name))
    return found


def test_sigkill_mid_batch_loses_nothing_and_counts_nothing_twice(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in ("a.py", "b.py"):
        shutil.copy(CORPUS / "correct" / "loops.py", folder / name)
    for name in ("c.py", "d.py", "e.py", "f.py"):
        shutil.copy(HOSTILE / "sleeps.py", folder / name)
    rubric_file = tmp_path / "rubric.toml"
    rubric_file.write_text(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    tmp.mkdir()
    marker = f"gradcheck-test-{uuid.uuid4().hex}"
    env = dict(os.environ, TMPDIR=str(tmp), GRADCHECK_TEST_MARKER=marker)
    command = [
        sys.executable,
        "-m",
        "gradcheck.cli",
        "grade",
        str(folder),
        "--out",
        str(out),
        "--rubric",
        str(rubric_file),
        "--jobs",
        "2",
        "--timeout",
        "3",
    ]
    grader = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/results.json"))) < 2 and grader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    done = {p.parent.name: p.read_bytes() for p in out.glob("*/results.json")}
    assert 2 <= len(done) < 6, "the kill landed mid-batch"
    for _ in range(100):  # the workers and their sandboxes die with the grader
        if not _processes_under(tmp, marker):
            break
        time.sleep(0.1)
    assert _processes_under(tmp, marker) == []
    rubric = load_rubric(rubric_file)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(tmp))
        patch.setattr("tempfile.tempdir", None)  # recomputed from TMPDIR
        resumed = grade_batch(
            folder, out, rubric, limits=limits_for(rubric, timeout=3), jobs=2, rubric_path=rubric_file
        )
    assert sorted(resumed.skipped) == sorted(done) and sorted(resumed.graded) == sorted(
        {f"{c}.py" for c in "abcdef"} - set(done)
    )
    assert {n: (out / n / "results.json").read_bytes() for n in done} == done  # untouched
    with open(out / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == [f"{c}.py" for c in "abcdef"]
    assert [float(r["score"]) for r in rows] == [12, 12, 0, 0, 0, 0]
    assert [p.name for p in tmp.iterdir()] == []  # the killed grader's sandbox folders were swept


# -- Gradescope and the command line -------------------------------------------------------------------


def test_gradescope_layout(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "source").mkdir()
    (root / "source" / "rubric.toml").write_text(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    _notebook(root / "submission" / "backprop.ipynb", [CORRECT])
    assert run_gradescope(root) == 0
    data = json.loads((root / "results" / "results.json").read_text())
    assert (
        data["score"] == 12
        and len(data["tests"]) == 13
        and data["extra_data"]["gradcheck"]["entry"] == "backprop.ipynb"
    )


def test_gradescope_always_writes_results(tmp_path):
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "source").mkdir()
    (root / "source" / "rubric.toml").write_text(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    assert run_gradescope(root) == 0  # an empty submission is a grade of 0, not a failure
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "no .py or .ipynb file" in data["output"]
    (root / "source" / "rubric.toml").write_text("[[tests]]\nname = 1\n")
    assert run_gradescope(root) == 2
    assert "misconfigured" in json.loads((root / "results" / "results.json").read_text())["output"]


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gradcheck.cli", *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def test_cli_grade_plain_progress_when_not_a_terminal(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copy(CORPUS / "correct" / "loops.py", folder / "a.py")
    rubric = tmp_path / "rubric.toml"
    rubric.write_text(FAST_RUBRIC.replace("max_examples = 5", "max_examples = 0"))
    done = _cli("grade", str(folder), "--out", str(tmp_path / "out"), "--rubric", str(rubric))
    assert done.returncode == 0, done.stderr
    assert "[1/1] a.py: 12/12" in done.stderr and "graded 1, skipped 0" in done.stderr and done.stdout == ""


@pytest.mark.parametrize(
    "args, message",
    [
        (["grade", "/no/such/folder", "--out", "OUT"], "is not a folder of submissions"),
        (["grade", ".", "--out", "OUT", "--rubric", "/no/such/rubric.toml"], "cannot read the rubric"),
        (["grade", ".", "--out", "OUT", "--jobs", "0"], "number of workers"),
        (["grade", ".", "--out", "OUT", "--memory", "12"], "memory size"),
        (["gradescope", "--timeout", "-1"], "not a finite positive number"),
    ],
)
def test_cli_usage_errors(tmp_path, capsys, args, message):
    try:
        code = cli.main([str(tmp_path / "out") if a == "OUT" else a for a in args])
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_progress_bar_on_a_terminal_plain_lines_otherwise():
    import io

    from gradcheck.grading.grade import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        with Progress(2, stream) as progress:
            progress.advance("a.py: 12/12 (1.0 s)")
            progress.advance("b.py: 3/12 (1.0 s)")
    assert log.getvalue() == "[1/2] a.py: 12/12 (1.0 s)\n[2/2] b.py: 3/12 (1.0 s)\n"
    assert "2/2" in terminal.getvalue() and "ETA" in terminal.getvalue() and "[1/2]" not in terminal.getvalue()


def test_gradescope_examples_are_runnable_scripts():
    for name in ("setup.sh", "run_autograder"):
        path = ROOT / "examples" / "gradescope" / name
        assert os.access(path, os.X_OK), f"{name} must be executable"
        assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    assert "gradcheck gradescope" in (ROOT / "examples" / "gradescope" / "run_autograder").read_text()
    assert "torch==2.13.0" in (ROOT / "examples" / "gradescope" / "setup.sh").read_text()
