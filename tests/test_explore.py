"""gradcheck.explore: hypothesis finds what the built-in cases miss, and shrinks it to the minimum.

The evidence of the issue: every mutant in ``tests/mutants_regime`` is wrong only in one regime
(n_L = n_0, width-1 layers, depth 1, depth >= 3, a second call, saturated sigmoids, B > 1, CUDA)
and only outside the built-in list's shapes. For each, the built-in list passes, the search fails
it, and the case it reports is the smallest network that shows the bug.
"""

import pathlib
import time

import pytest

import gradcheck
import reference_impl
from gradcheck.explore import DEFAULT_MAX_EXAMPLES, explore
from gradcheck.loading import load_target
from gradcheck.records import describe_failure
from gradcheck.spec import Spec

MUTANTS = pathlib.Path(__file__).parent / "mutants_regime"
REGIME_MUTANTS = sorted(p for p in MUTANTS.glob("*.py") if p.stem != "cuda_no_device")


def load(path):
    """The mutant's function, its expected minimal case, and whether it needs batches."""
    target = load_target(str(path))
    shrinks_to = target.function.__globals__["SHRINKS_TO"]
    return target.function, shrinks_to, "batch" in shrinks_to


def test_a_correct_implementation_passes_every_example():
    found = explore(reference_impl.forward_backward, spec=Spec(batch=True), max_examples=40, seed=3)
    assert found.results == [] and found.minimal is None
    assert found.examples == 40


@pytest.mark.parametrize("path", REGIME_MUTANTS, ids=lambda p: p.stem)
def test_the_built_in_cases_miss_each_regime_mutant(path):
    fn, _, batch = load(path)
    assert gradcheck.check(fn, batch=batch, max_examples=0).passed


@pytest.mark.parametrize("path", REGIME_MUTANTS, ids=lambda p: p.stem)
def test_the_search_finds_each_regime_mutant_and_shrinks_it(path):
    fn, shrinks_to, batch = load(path)
    found = explore(fn, spec=Spec(batch=batch), max_examples=DEFAULT_MAX_EXAMPLES, seed=0)
    assert found.minimal is not None, f"{path.stem}: not found in {found.examples} examples"
    assert {field: getattr(found.minimal, field) for field in shrinks_to} == shrinks_to
    assert found.minimal.device == "cpu" and found.minimal.dtype == "float64"
    assert any(r.failures for r in found.results)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("path", REGIME_MUTANTS, ids=lambda p: p.stem)
def test_the_search_finds_each_regime_mutant_under_other_seeds(path, seed):
    fn, shrinks_to, batch = load(path)
    found = explore(fn, spec=Spec(batch=batch), seed=seed)
    assert found.minimal is not None
    assert {field: getattr(found.minimal, field) for field in shrinks_to} == shrinks_to


@pytest.mark.parametrize(
    "path", [MUTANTS / "depth_one_transpose.py", MUTANTS / "batch_axis_guess.py"], ids=lambda p: p.stem
)
def test_the_report_shows_the_shrunk_network_and_how_to_rebuild_it(path):
    _, shrinks_to, batch = load(path)
    report = gradcheck.check(str(path), batch=batch)
    assert not report.passed
    first = report.failures[0]
    assert first.case.widths == shrinks_to["widths"]
    assert f"--widths {','.join(map(str, shrinks_to['widths']))}" in report.reproduce(first)
    rebuilt = gradcheck.check(str(path), batch=batch, cases=[first.case])  # what the reproduction runs
    assert [(f.check, f.layer, f.param) for f in rebuilt.failures][:1] == [(first.check, first.layer, first.param)]


def test_a_second_call_bug_is_reported_as_hidden_state():
    report = gradcheck.check(str(MUTANTS / "second_call_buffers.py"))
    assert [f.check for f in report.failures] == ["hidden-state"]
    assert report.failures[0].case.widths == (1, 1)


def test_the_same_seed_gives_the_same_search():
    fn, _, _ = load(MUTANTS / "square_autoencoder.py")
    first, second = explore(fn, seed=7), explore(fn, seed=7)
    assert first.minimal == second.minimal and first.examples == second.examples
    assert [describe_failure(f) for r in first.results for f in r.failures] == [
        describe_failure(f) for r in second.results for f in r.failures
    ]


def test_the_search_prints_nothing(capsys):
    fn, _, _ = load(MUTANTS / "depth_three_widening.py")
    assert explore(fn).minimal is not None
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_no_examples_means_no_search():
    fn, _, _ = load(MUTANTS / "depth_one_transpose.py")
    assert explore(fn, max_examples=0).examples == 0


def test_a_hang_stops_the_search_at_once():
    def hangs(x, y, W, b):
        time.sleep(5)

    start = time.perf_counter()
    found = explore(hangs, timeout=0.2)
    assert found.examples == 1 and found.note == "stopped at the first timeout"
    assert found.results[0].failures[0].kind == "timeout"
    print(f"a hanging implementation cost {time.perf_counter() - start:.2f} s")


def test_a_failure_that_does_not_repeat_is_still_reported():
    calls = []

    def only_the_first_call_wrong(x, y, W, b):
        calls.append(1)
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return (loss, [2 * g for g in W_grads], b_grads) if len(calls) == 1 else (loss, W_grads, b_grads)

    found = explore(only_the_first_call_wrong, seed=0)
    assert found.results and found.results[0].failures[0].check == "gradient-values"
    assert "did not repeat reliably" in found.note


@pytest.mark.cuda
def test_a_tensor_made_without_device_fails_only_on_cuda():
    fn, shrinks_to, _ = load(MUTANTS / "cuda_no_device.py")
    assert explore(fn, devices=("cpu",)).minimal is None
    found = explore(fn, devices=("cpu", "cuda"))
    assert found.minimal is not None and found.minimal.device == "cuda"
    assert found.minimal.widths == shrinks_to["widths"]
    report = gradcheck.check(fn, devices=("cpu", "cuda"))
    assert not report.passed and {f.case.device for f in report.failures} == {"cuda"}


def test_gradcheck_check_searches_after_its_built_in_cases(capsys):
    from gradcheck.cli import main

    mutant = str(MUTANTS / "width_one_input.py")
    assert main(["check", mutant, "--max-examples", "0"]) == 0  # the built-in cases alone miss it
    assert main(["check", mutant, "--json"]) == 1  # the default search finds it
    capsys.readouterr()
    assert main(["check", mutant, "--widths", "1,2", "--json"]) == 1  # and its reproduction fails alone
    assert '"cases_run": 2' in capsys.readouterr().out  # the case and its repeat, no search
