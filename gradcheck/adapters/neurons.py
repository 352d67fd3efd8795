"""Per-neuron dict lists: the Machine Learning Mastery shape of a network, converted both ways.

The network is a list of layers, each a list of neurons ``{"weights": [w_1, ..., w_n, bias]}``
(so a layer is ``W[out, in + 1]`` with the bias last). Three functions of the module, named by
``neurons`` (``forward``, ``backward``, ``update``), work on it one example at a time:

- ``forward(network, row)`` stores each neuron's ``"output"``; ``row`` is the features and then
  the label (``row[-1]``, which the sums skip: they run over ``len(weights) - 1`` inputs);
- ``backward(network, expected)`` stores each neuron's ``"delta"`` = −∂L/∂z for the one
  example's loss (for ½Σ(expected − output)²: (expected − output)·transfer′);
- ``update(network, row, l_rate)`` does ``weights[j] += l_rate * delta * input_j``.

``grads_from="delta"`` reads the gradient from the deltas: ∂L/∂W[j, i] = −delta_j·input_i (the
input being the features at the first layer, the outputs of the layer below above it) and
∂L/∂b[j] = −delta_j; ``"step"`` runs the update with ``lr`` and reads ``(θ_before − θ_after)/lr``
(a training step's round-off comes with it). ``neuron_keys`` renames ``"weights"``,
``"output"`` and ``"delta"``; ``transfer`` names a global of the module passed as the last
argument of forward and backward (code that takes the transfer function as a parameter).
The implementation returns no loss: the spec's stands in. One example per call
(``per_example``): the wrapper adds them up.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..invoke import NotApplicable
from .adapter import Adapter
from .extraction import MISSING, Extracted
from .guard import machinery, student

__all__ = ["neuron_call"]


def neuron_call(
    a: Adapter, fn: Callable[..., Any], x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]
) -> tuple[Any, Extracted | None]:
    """One example (``x``, ``y`` single columns) through the three functions; what the forward
    returned, and the gradients in the canonical layout (a gradient that cannot be read is None)."""
    with machinery("neurons"):
        namespace = getattr(fn, "__globals__", None) or {}
        forward, backward, update = (_function(namespace, name) for name in a.neurons)
        extra = (_function(namespace, a.transfer),) if a.transfer else ()
        weights_key = a.neuron_keys[0]
        network = [
            [{weights_key: [*map(float, W_l[j].tolist()), float(b_l[j, 0])]} for j in range(W_l.shape[0])]
            for W_l, b_l in zip(W, b, strict=True)
        ]
        features = [float(v) for v in x[:, 0].tolist()]
        row = [*features, int(y[:, 0].argmax())]
        raw = student(forward, network, row, *extra)
        student(backward, network, [float(v) for v in y[:, 0].tolist()], *extra)
        if a.grads_from == "delta":
            grads = _from_deltas(a, network, features)
        else:
            before = copy.deepcopy([[n.get(weights_key) for n in layer] for layer in network])
            student(update, network, row, a.lr)
            grads = _from_step(a, network, before)
        W_grads = [_tensor([r[:-1] for r in g], w) if g is not None else None for g, w in zip(grads, W, strict=True)]
        b_grads = [_tensor([[r[-1]] for r in g], v) if g is not None else None for g, v in zip(grads, b, strict=True)]
        return raw, (MISSING, W_grads, b_grads)


def _function(namespace: dict[str, Any], name: str) -> Callable[..., Any]:
    found = namespace.get(name) if name else (lambda *args: None)
    if not callable(found):
        raise NotApplicable(f"adapter neurons/transfer: the implementation's module defines no function {name!r}")
    return found


def _from_deltas(a: Adapter, network: list[list[Any]], features: list[float]) -> list[list[list[float]] | None]:
    """Each layer's ``[−delta_j·input_1, ..., −delta_j·input_n, −delta_j]`` rows, or None where a
    neuron lacks its delta or the layer below its outputs (the code did not store them)."""
    _, output_key, delta_key = a.neuron_keys
    grads: list[list[list[float]] | None] = []
    inputs: list[float] | None = features
    for layer in network:
        try:
            deltas = [float(neuron[delta_key]) for neuron in layer]
            grads.append(None if inputs is None else [[-d * v for v in inputs] + [-d] for d in deltas])
        except (KeyError, TypeError, ValueError):
            grads.append(None)
        try:
            inputs = [float(neuron[output_key]) for neuron in layer]
        except (KeyError, TypeError, ValueError):
            inputs = None
    return grads


def _from_step(a: Adapter, network: list[list[Any]], before: list[list[Any]]) -> list[list[list[float]] | None]:
    """Each layer's ``sign·(weights_before − weights_after)/lr`` rows (None where unreadable)."""
    weights_key = a.neuron_keys[0]
    grads: list[list[list[float]] | None] = []
    for layer, old in zip(network, before, strict=True):
        try:
            grads.append(
                [
                    [a.sign * (float(o) - float(n)) / a.lr for o, n in zip(olds, neuron[weights_key], strict=True)]
                    for olds, neuron in zip(old, layer, strict=True)
                ]
            )
        except (KeyError, TypeError, ValueError):
            grads.append(None)
    return grads


def _tensor(rows: list[list[float]], like: Tensor) -> Tensor:
    return torch.tensor(rows, dtype=torch.float64).to(device=like.device, dtype=like.dtype)
