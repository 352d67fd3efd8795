"""The checker on the corpus: every correct implementation passes, every mutant is caught and
attributed to the right check, layer and parameter.

The corpus (tests/corpus/) was written apart from the checker; each mutant declares
``EXPECTED = {"check", "layer", "param", "needs", ...}`` with layers counted in a 7-5-3-1 network
(2 = the output layer L, 1 = L − 1, 0 = the first layer).
"""

import pathlib
import runpy

import pytest
import torch

import gradcheck
from gradcheck.records import describe_failure

CORPUS = pathlib.Path(__file__).parent / "corpus"
CORRECT = sorted((CORPUS / "correct").glob("*.py"))
BUGGY = sorted((CORPUS / "buggy").glob("*.py"))


def expected(path):
    return runpy.run_path(str(path))["EXPECTED"]


def test_the_corpus_is_big_enough():
    assert len(CORRECT) >= 8 and len(BUGGY) >= 15


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_implementations_pass(path):
    single_only = runpy.run_path(str(path)).get("SINGLE_INSTANCE_ONLY", False)
    for batch in (False,) if single_only else (False, True):
        report = gradcheck.check(str(path), batch=batch, max_examples=25)  # built-in cases + a short search
        assert report.passed, [describe_failure(f) for f in report.failures]
        assert not report.inconclusive


def _as_layer_of(case, layer_in_7531):
    """EXPECTED counts layers in 7-5-3-1 (L = 2); the same role in a network of another depth."""
    return 0 if layer_in_7531 == 0 else case.depth - 1 - (2 - layer_in_7531)


def _root(failures):
    """The first wrong tensor walking back from the loss: highest layer, W before b."""
    return min(failures, key=lambda f: (-(f.layer if f.layer is not None else -1), f.param != "W"))


@pytest.mark.parametrize("path", BUGGY, ids=lambda p: p.stem)
def test_mutants_are_caught_and_attributed(path):
    want = expected(path)
    if "cuda" in want["needs"] and not torch.cuda.is_available():
        pytest.skip("this mutant is only wrong on CUDA, and there is no GPU here")
    report = gradcheck.check(
        str(path), batch="batch" in want["needs"], max_examples=0
    )  # the built-in cases must suffice
    assert not report.passed
    assert want["check"] in {f.check for f in report.failures}, [describe_failure(f) for f in report.failures]
    if want["layer"] is None or want["check"] == "gradient-count":
        if want["param"] is not None:
            assert want["param"] in {f.param for f in report.failures if f.check == want["check"]}
        return
    # Attribution within one call: the first case where that check failed.
    result = next(r for r in report.run.results if any(f.check == want["check"] for f in r.failures))
    root = _root([f for f in result.failures if f.check == want["check"]])
    assert (root.layer, root.param) == (_as_layer_of(result.case, want["layer"]), want["param"]), describe_failure(root)
