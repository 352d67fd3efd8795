"""Noise-aware verdicts (issue 9, cause 3): a gradient read back from a training step,
(θ − θ′)/lr, carries the step's own cancellation error, ε·(|θ| + |θ′|)/lr. The extraction
reports that floor as data and the checker adds it to the allowance, so a correct step passes
in every regime and dtype, while a wrong one still fails where its bug is.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import gradcheck
from gradcheck.adapters import Adapter, wrap
from gradcheck.compare import WithNoise
from gradcheck.presets import get_preset

FILE = str(Path(__file__).resolve().parent / "corpus" / "shapes" / "step_round_off.py")
BATCH = get_preset("seed", batch=True)


def step(numpy: bool, lr: float) -> Adapter:
    return Adapter("step", numpy=numpy, grads_from="step", lr=lr, returns=())


def run(function: str, adapter: Adapter, max_examples: int = 10):
    return gradcheck.check(
        FILE, function=function, spec=BATCH, adapter=adapter, devices=("cpu",), max_examples=max_examples
    )


@pytest.mark.parametrize(
    "function, numpy, lr",
    [("numpy_step_small_lr", True, 0.01), ("numpy_step_unit_lr", True, 1.0), ("torch_step_small_lr", False, 0.01)],
)
def test_correct_steps_pass_every_regime_and_the_search(function, numpy, lr):
    report = run(function, step(numpy, lr))
    assert report.failures == []
    regimes = {r.case.regime for r in report.run.results}
    assert {"normal", "saturated"} <= regimes


def test_a_wrong_step_still_fails_at_its_layer_and_parameter():
    report = run("torch_step_wrong_first_weight", step(False, 0.01), max_examples=0)
    assert report.failures
    assert {(f.layer, f.param) for f in report.failures if f.check == "gradient-values"} == {(0, "W")}


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("step_round_off", FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_floor_is_the_cancellation_of_the_step_in_its_own_dtype(dtype):
    """ε·(|θ| + |θ′|)/lr, per entry, canonical layout; ε is the step's arrays' (numpy: float64)."""
    x, y = torch.rand(3, 2, dtype=dtype), torch.rand(1, 2, dtype=dtype)
    W, b = [torch.randn(1, 3, dtype=dtype)], [torch.randn(1, 1, dtype=dtype)]
    for numpy, function, eps in (
        (True, "numpy_step_small_lr", np.finfo(np.float64).eps),
        (False, "torch_step_small_lr", torch.finfo(dtype).eps),
    ):
        value = wrap(getattr(_module(), function), step(numpy, 0.01))(x, y, W, b)
        assert isinstance(value, WithNoise)
        floor = value.noise[(0, "W")]
        after = W[0].double() - 0.01 * value[1][0].double()
        expected = (W[0].double().abs() + after.abs()) * eps / 0.01
        assert floor.shape == W[0].shape
        assert torch.allclose(floor, expected, rtol=1e-3)


def test_returned_gradients_carry_no_floor():
    value = wrap(lambda x, y, W, b: (0.0, [w * 0 for w in W], [v * 0 for v in b]), "canonical")(
        torch.ones(1, 1), torch.ones(1, 1), [torch.ones(1, 1)], [torch.ones(1, 1)]
    )
    assert not isinstance(value, WithNoise)
