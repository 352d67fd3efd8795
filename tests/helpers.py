"""What several test modules share: devices, the shapes-course fixtures, ReLU networks near their
kinks, and one graded batch. Test modules import from here, never from each other."""

from __future__ import annotations

import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
import torch

from gradcheck.cases import Case, CaseSpec, make_case
from gradcheck.grading import DEFAULT_RUBRIC, grade_batch, limits_for, parse_rubric
from gradcheck.spec import Spec

CORPUS = Path(__file__).parent / "corpus"
SHAPES = CORPUS / "shapes"

# -- devices: CPU everywhere, CUDA where a GPU exists, skipped with a reason otherwise -------------

CUDA = pytest.param(
    "cuda",
    marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    id="cuda",
)
DEVICES = [pytest.param("cpu", id="cpu"), CUDA]

# -- the shapes courses' fixtures ------------------------------------------------------------------


def load(name: str) -> ModuleType:
    """A fresh import of ``tests/corpus/shapes/<name>.py``."""
    spec = importlib.util.spec_from_file_location(f"shapes_{name}", SHAPES / f"{name}.py")
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TWO_LAYER = [
    CaseSpec((4, 5, 3), 1),
    CaseSpec((4, 5, 3), 5),
    CaseSpec((3, 4, 2), 3, dtype="float32"),
    CaseSpec((2, 3, 4), 4, seed=1),
]

# -- ReLU networks near their kinks ------------------------------------------------------------------

RELU = Spec("relu-sse", batch=True, hidden="relu", output="identity", criterion="sse")


def relu_backprop(spec: Spec, bug: str | None = None):
    """A correct (or deliberately wrong) hand-written backprop for ReLU-family hidden layers."""
    slope = spec.hidden.slope if spec.hidden.name == "leaky_relu" else 0.0

    def forward_backward(x, y, W, b):
        a, zs, acts = x, [], [x]
        for l, (W_l, b_l) in enumerate(zip(W, b)):
            z = W_l @ a + b_l
            a = z if l == len(W) - 1 else torch.where(z > 0, z, slope * z)
            zs.append(z), acts.append(a)
        loss = ((a - y) ** 2).sum()
        delta = 2 * (a - y)
        W_grads, b_grads = [None] * len(W), [None] * len(W)
        for l in reversed(range(len(W))):
            if l < len(W) - 1:
                mask_from = zs[l + 1] if bug == "mask-from-wrong-layer" and zs[l + 1].shape == zs[l].shape else zs[l]
                delta = (W[l + 1].T @ delta) * torch.where(mask_from > 0, 1.0, slope).to(x.dtype)
            W_grads[l] = delta @ acts[l].T
            b_grads[l] = delta.sum(1, keepdim=True)
        return loss, W_grads, b_grads

    return forward_backward


def near_kinks(spec: Spec, widths: tuple[int, ...] = (3, 4, 4, 2), batch: int = 2, distance: float = 3e-6) -> Case:
    """A case where some hidden pre-activations sit ``distance`` from 0, inside the FD step."""
    case = make_case(CaseSpec(widths, batch), spec)
    for layer in range(len(widths) - 2):
        zs, _ = spec.forward(case.x, case.W, case.b)
        z = zs[layer]
        case.b[layer][::2] -= z[::2, :1] - distance  # every other unit: column 0 just above 0
    return case


# -- one small graded batch of the corpus --------------------------------------------------------------

FILES = (
    "correct/loops.py",
    "correct/einsum.py",
    "buggy/sign_flip.py",
    "buggy/single_entry_error.py",
    "buggy/seed_bug.py",
    "buggy/factor_two.py",
)
RUBRIC = parse_rubric(DEFAULT_RUBRIC.replace("max_examples = 50", "max_examples = 0"), "test rubric")


@functools.cache
def graded_batch() -> Path:
    """The output folder of the batch above, graded once per test process."""
    base = Path(tempfile.mkdtemp(prefix="gradcheck-reports-"))
    folder = base / "submissions"
    folder.mkdir()
    for name in FILES:
        shutil.copy(CORPUS / name, folder / Path(name).name)
    out = base / "out"
    batch = grade_batch(folder, out, RUBRIC, limits=limits_for(RUBRIC), jobs=2)
    assert not batch.errors, batch.errors
    return out
