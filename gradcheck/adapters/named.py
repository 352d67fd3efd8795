"""Named adapters for the common shapes of code in the wild, and :func:`get_adapter` to pick one."""

from __future__ import annotations

import dataclasses
from typing import Any

from .adapter import Adapter

__all__ = ["ADAPTERS", "get_adapter"]

ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Adapter(),
        # CS231n TwoLayerNet: net.params = {W1, b1, ...}; net.loss(X, y, reg=...) -> (loss, grads)
        Adapter(
            "cs231n",
            layout="row",
            weights="in_out",
            bias="vector",
            targets="index",
            numpy=True,
            args=("x", "y"),
            reg="reg",
            instance="bare",
            attributes=("params",),
            method="loss",
            returns=("loss", "grads"),
            depth=2,
        ),
        # Nielsen network.py: Network(sizes); .weights/.biases lists; .backprop(x, y) -> (nabla_b, nabla_w)
        Adapter(
            "nielsen",
            numpy=True,
            args=("x", "y"),
            instance="sizes",
            attributes=("weights", "biases"),
            method="backprop",
            per_example=True,
            returns=("b", "W"),
        ),
        # deeplearning.ai style in one function: f(X, Y, parameters) -> (cost, grads keyed dW1, db1, ...)
        Adapter(
            "deeplearning-ai",
            numpy=True,
            args=("x", "y", "params"),
            returns=("loss", "grads"),
            grad_keys=("dW{n}", "db{n}"),
        ),
        # a numpy forward_backward in the canonical layout
        Adapter("numpy", numpy=True),
        # a script or notebook cells with no function (the PyTorch tensor tutorial, makemore-style
        # cells): x, y, W1, b1, ... under these names, one loop body, dW1, db1, ... read back
        Adapter(
            "script",
            layout="row",
            weights="in_out",
            bias="vector",
            script=True,
            params_from="globals",
            grads_from="globals",
            data=("x", "y"),
            keys=("W{n}", "b{n}"),
            grad_keys=("dW{n}", "db{n}"),
            loss_name="loss",
        ),
        # row-major torch: f(X [B, in], Y [B, out], W [in, out] list, b [out] list) -> (loss, W_grads, b_grads)
        Adapter("row-major", layout="row", weights="in_out", bias="vector"),
        # torch.autograd.Function for one linear layer, nn.Linear's convention:
        # forward(ctx, input [B, ..., in], weight [out, in], bias [out]); backward(ctx, g) -> (gi, gw, gb)
        Adapter("autograd-function", layout="row", bias="vector", autograd="op"),
        # Machine Learning Mastery: a list of layers of neurons {'weights': [w_1..w_n, bias]};
        # forward_propagate(network, row), backward_propagate_error(network, expected) stores 'delta'
        Adapter(
            "neurons",
            neurons=("forward_propagate", "backward_propagate_error", "update_weights"),
            grads_from="delta",
            per_example=True,
        ),
    )
}


def get_adapter(name: str, **overrides: Any) -> Adapter:
    """The adapter called ``name``, with any field replaced."""
    try:
        adapter = ADAPTERS[name]
    except KeyError:
        raise ValueError(f"adapter {name!r} is not one of {', '.join(ADAPTERS)}") from None
    return dataclasses.replace(adapter, **overrides) if overrides else adapter
