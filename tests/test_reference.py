"""reference_impl agrees with torch autograd, forward and backward, for every shape it claims."""

import itertools

import pytest
import torch
from helpers import DEVICES
from hypothesis import given, settings
from hypothesis import strategies as st

import reference_impl


def autograd_gradients(x, y, W, b):
    """The same network built with autograd in float64: the independent truth."""
    W = [w.detach().double().requires_grad_() for w in W]
    b = [v.detach().double().requires_grad_() for v in b]
    a = x.double()
    for W_l, b_l in zip(W, b):
        a = torch.sigmoid(W_l @ a + b_l)
    loss = 0.5 * ((a - y.double()) ** 2).sum()
    grads = torch.autograd.grad(loss, [*W, *b])
    return loss.detach(), grads[: len(W)], grads[len(W) :]


def network(widths, batch=1, dtype=torch.float64, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(widths[0], batch, generator=g, dtype=torch.float64)
    y = torch.rand(widths[-1], batch, generator=g, dtype=torch.float64)
    W = [torch.randn(m, n, generator=g, dtype=torch.float64) for n, m in itertools.pairwise(widths)]
    b = [torch.randn(m, 1, generator=g, dtype=torch.float64) for m in widths[1:]]
    move = lambda t: t.to(device=device, dtype=dtype)  # noqa: E731
    return move(x), move(y), [move(w) for w in W], [move(v) for v in b]


@settings(max_examples=60, deadline=None)
@given(
    widths=st.lists(st.integers(1, 64), min_size=2, max_size=7),  # depths 1-6, widths 1-64
    batch=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_backward_matches_autograd_float64(widths, batch, seed):
    x, y, W, b = network(widths, batch, seed=seed)
    loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
    true_loss, true_W, true_b = autograd_gradients(x, y, W, b)
    torch.testing.assert_close(loss, true_loss, rtol=1e-12, atol=1e-14)
    for got, want in zip([*W_grads, *b_grads], [*true_W, *true_b]):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-13)


def test_forward_matches_a_plain_sigmoid_network():
    x, y, W, b = network([7, 5, 3, 1])
    a = x
    for W_l, b_l in zip(W, b):
        a = torch.sigmoid(W_l @ a + b_l)
    torch.testing.assert_close(reference_impl.forward(x, W, b), a, rtol=0, atol=0)
    torch.testing.assert_close(reference_impl.mse_loss(a, y), 0.5 * (a - y) ** 2)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_keeps_device_and_dtype(device, dtype):
    x, y, W, b = network([4, 3, 2], batch=3, dtype=dtype, device=device)
    loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
    for grad, param in zip([*W_grads, *b_grads], [*W, *b]):
        assert (grad.shape, grad.dtype, grad.device) == (param.shape, param.dtype, param.device)
    assert loss.dtype == dtype and loss.device.type == torch.device(device).type


def test_layer_zero_uses_the_input_and_one_layer_works():
    """The seed's bug: layer 0 took a[-1]. Here ∇W⁽⁰⁾ = δ⁽⁰⁾ xᵀ, for one layer too."""
    for widths in ([7, 5, 3, 1], [4, 3], [3, 3]):
        x, y, W, b = network(widths)
        _, W_grads, _ = reference_impl.forward_backward(x, y, W, b)
        _, true_W, _ = autograd_gradients(x, y, W, b)
        assert W_grads[0].shape == W[0].shape
        torch.testing.assert_close(W_grads[0], true_W[0])


def test_bias_gradients_are_summed_over_the_batch():
    x, y, W, b = network([3, 2], batch=5)
    _, _, b_grads = reference_impl.forward_backward(x, y, W, b)
    per_column = [reference_impl.forward_backward(x[:, i : i + 1], y[:, i : i + 1], W, b)[2][0] for i in range(5)]
    torch.testing.assert_close(b_grads[0], sum(per_column))


def test_accepts_the_seeds_0d_target():
    x, y, W, b = network([7, 5, 3, 1])
    loss, W_grads, _ = reference_impl.forward_backward(x, y.reshape(()), W, b)
    torch.testing.assert_close(loss, reference_impl.forward_backward(x, y, W, b)[0])
    assert W_grads[-1].shape == W[-1].shape


def test_never_mutates_inputs():
    x, y, W, b = network([3, 4, 2], batch=2)
    before = [t.clone() for t in (x, y, *W, *b)]
    reference_impl.forward_backward(x, y, W, b)
    assert all(torch.equal(t, u) for t, u in zip((x, y, *W, *b), before))


def test_verbose_prints_the_seeds_shape_lines(capsys):
    x, y, W, b = network([7, 5, 3, 1])
    reference_impl.forward_backward(x, y, W, b, verbose=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Layer: 0, Shapes - W: [5, 7], W_grad: [5, 7], b: [5, 1], b_grad: [5, 1], delta: [5, 1]"
    assert len(lines) == 3


def test_rejects_mismatched_lists():
    x, y, W, _ = network([3, 2])
    with pytest.raises(ValueError, match="as many weights as biases"):
        reference_impl.forward_backward(x, y, W, [])


@pytest.mark.parametrize("preset", sorted(__import__("gradcheck.presets", fromlist=["PRESETS"]).PRESETS))
def test_the_general_reference_matches_autograd_for_every_preset(preset):
    """reference_impl.general, written by hand, against autograd through the preset's own loss."""
    from gradcheck.cases import CaseSpec, make_case
    from gradcheck.oracles import autograd_oracle, reference_oracle
    from gradcheck.presets import PRESETS

    spec = PRESETS[preset]
    for widths, batch in (((4, 3, 2), 3), ((3, 5, 4, 3), 2), ((2, 1, 2), 1)):
        case = make_case(CaseSpec(widths, batch), spec)
        ad, ref = autograd_oracle(spec, case), reference_oracle(case, spec)
        torch.testing.assert_close(ref.loss, ad.loss, rtol=1e-12, atol=1e-14)
        for got, want in zip(ref.W + ref.b, ad.W + ad.b):
            torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-13)


def test_the_general_reference_rejects_an_unknown_activation():
    from reference_impl.general import forward_backward as general

    x, y, W, b = network([3, 2])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        general(x, y, W, b, hidden="swish", output="swish")
