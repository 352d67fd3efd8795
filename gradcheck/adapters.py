"""Adapters: call an implementation written in another layout as ``forward_backward(x, y, W, b)``.

The checker works in one canonical layout (column vectors ``x [n_0, B]``, ``W [out, in]``,
``b [out, 1]``, lists of per-layer tensors). Most code in the wild does not (see
``shared/research/real-clients.md``: 15 of 21 use row-major batches, 12 of 21 store W as
``[in, out]``, 15 of 21 are numpy). An :class:`Adapter` is a *configuration*, not code per
course: how inputs are laid out, how the parameters are bound (positional lists, a params
dict keyed ``W1, b1, ...``, a flat vector, attributes of an object), how the implementation is
called, and where its gradients come back (return order, dict keys). :func:`wrap` turns an
implementation plus an adapter into a canonical function, so every check, oracle, report and
diagnosis works unchanged and failures still name the canonical layer and parameter.

Conversions are views where possible, so an implementation that modifies its inputs in place
is still caught by the ``input-mutation`` check (numpy arrays share memory with float64 CPU
tensors). A returned value the adapter cannot read (``None``, a wrong type) is passed through
unchanged, and a gradient of the wrong shape gets the inverse layout change all the same, so the
checker still reports it (its messages give shapes in the canonical layout).

Named configurations for the common shapes are in :data:`ADAPTERS`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor

from .spec import SEED, Spec

__all__ = ["Adapter", "ADAPTERS", "wrap", "get_adapter"]

_ARGS = ("x", "y", "W", "b", "params", "theta")
_RETURNS = ("loss", "W", "b", "grads", "theta")


@dataclass(frozen=True)
class Adapter:
    """How to call an implementation and read its gradients (defaults: the canonical contract).

    Layout: ``layout`` ``"column"`` (x ``[n_0, B]``) or ``"row"`` (x ``[B, n_0]``, y ``[B, n_L]``);
    ``weights`` ``"out_in"`` or ``"in_out"``; ``bias`` ``"column"`` ``[out, 1]``, ``"vector"``
    ``[out]`` or ``"row"`` ``[1, out]``; ``targets`` ``"dense"`` (like the case's y) or ``"index"``
    (class indices ``[B]``, int64, for softmax cross-entropy); ``numpy``: float64 numpy arrays in,
    arrays out (the case runs through the CPU).

    Binding: ``args`` lists the positional arguments, from ``x``, ``y``, ``W`` and ``b`` (lists),
    ``params`` (a dict keyed by ``keys``, where ``{n}`` is layer + 1 and ``{l}`` the layer) and
    ``theta`` (every layer's W then b, flattened in this order, concatenated). ``reg``: the
    keyword that receives the spec's L2 coefficient (CS231n's ``reg``). ``instance``: the target
    is a class: ``"bare"`` makes one without running ``__init__``, ``"sizes"`` calls
    ``cls([n_0, ..., n_L])``; ``attributes`` says where the parameters go on it (one name: the
    params dict; two: the W and b lists); ``method`` is what is called. ``per_example``: call
    once per example and add up (Nielsen's ``backprop``), averaged if the spec averages.

    Extraction: ``returns`` is the order of the returned tuple, from ``loss``, ``W``, ``b``,
    ``grads`` (a dict keyed by ``grad_keys``, default ``keys``) and ``theta``. Without ``loss``
    the adapter computes the spec's loss, so the ``loss-value`` check proves nothing then.
    ``depth``: the one number of layers the implementation supports, if it is fixed (cases of
    other depths are not run).
    """

    name: str = "canonical"
    layout: str = "column"
    weights: str = "out_in"
    bias: str = "column"
    targets: str = "dense"
    numpy: bool = False
    args: tuple[str, ...] = ("x", "y", "W", "b")
    keys: tuple[str, str] = ("W{n}", "b{n}")
    reg: str | None = None
    instance: str | None = None
    attributes: tuple[str, ...] = ()
    method: str | None = None
    per_example: bool = False
    returns: tuple[str, ...] = ("loss", "W", "b")
    grad_keys: tuple[str, str] | None = None
    depth: int | None = None  # the only depth the implementation supports (CS231n's two layers), if fixed

    def __post_init__(self) -> None:
        for field_, value, allowed in (
            ("layout", self.layout, ("column", "row")),
            ("weights", self.weights, ("out_in", "in_out")),
            ("bias", self.bias, ("column", "vector", "row")),
            ("targets", self.targets, ("dense", "index")),
            ("instance", self.instance, (None, "bare", "sizes")),
        ):
            if value not in allowed:
                raise ValueError(f"adapter {field_}={value!r} is not one of {', '.join(map(str, allowed))}")
        for field_, values, allowed in (("args", self.args, _ARGS), ("returns", self.returns, _RETURNS)):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"adapter {field_}: {bad[0]!r} is not one of {', '.join(allowed)}")
        if "W" in self.returns and "b" not in self.returns and "grads" not in self.returns:
            raise ValueError("adapter returns: W without b (or grads) gives no bias gradients")
        if self.instance and (not self.method or len(self.attributes) not in (1, 2)):
            raise ValueError("an adapter with instance= needs method= and attributes= (one name for a params dict, two for W and b lists)")

    @property
    def is_canonical(self) -> bool:
        return dataclasses.replace(self, name="canonical") == Adapter()


ADAPTERS: dict[str, Adapter] = {
    a.name: a
    for a in (
        Adapter(),
        # CS231n TwoLayerNet: net.params = {W1, b1, ...}; net.loss(X, y, reg=...) -> (loss, grads)
        Adapter("cs231n", layout="row", weights="in_out", bias="vector", targets="index", numpy=True, args=("x", "y"),
                reg="reg", instance="bare", attributes=("params",), method="loss", returns=("loss", "grads"), depth=2),
        # Nielsen network.py: Network(sizes); .weights/.biases lists; .backprop(x, y) -> (nabla_b, nabla_w)
        Adapter("nielsen", numpy=True, args=("x", "y"), instance="sizes", attributes=("weights", "biases"),
                method="backprop", per_example=True, returns=("b", "W")),
        # deeplearning.ai style in one function: f(X, Y, parameters) -> (cost, grads keyed dW1, db1, ...)
        Adapter("deeplearning-ai", numpy=True, args=("x", "y", "params"), returns=("loss", "grads"), grad_keys=("dW{n}", "db{n}")),
        # a numpy forward_backward in the canonical layout
        Adapter("numpy", numpy=True),
        # row-major torch: f(X [B, in], Y [B, out], W [in, out] list, b [out] list) -> (loss, W_grads, b_grads)
        Adapter("row-major", layout="row", weights="in_out", bias="vector"),
    )
}


def get_adapter(name: str, **overrides: Any) -> Adapter:
    """The adapter called ``name``, with any field replaced."""
    try:
        adapter = ADAPTERS[name]
    except KeyError:
        raise ValueError(f"adapter {name!r} is not one of {', '.join(ADAPTERS)}") from None
    return dataclasses.replace(adapter, **overrides) if overrides else adapter


# -- inputs: canonical -> the implementation's layout ---------------------------------------


def _out(a: Adapter, t: Tensor) -> Any:
    """A tensor as the implementation gets it: a float64 numpy array (sharing memory where it can)."""
    if not a.numpy:
        return t
    t = t.detach().cpu()
    return (t if not t.is_floating_point() else t.double()).numpy()


def _weight_in(a: Adapter, W: Tensor) -> Tensor:
    return W.T if a.weights == "in_out" else W


def _bias_in(a: Adapter, b: Tensor) -> Tensor:
    return {"column": b, "vector": b.reshape(-1), "row": b.T}[a.bias]


def _targets_in(a: Adapter, y: Tensor) -> Tensor:
    if a.targets == "index":
        return y.argmax(dim=0)
    return y.T if a.layout == "row" else y


def _key(pattern: str, layer: int) -> str:
    return pattern.format(n=layer + 1, l=layer)


def _bind(a: Adapter, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> dict[str, Any]:
    """Every argument the implementation might take, in its layout."""
    Ws = [_out(a, _weight_in(a, w)) for w in W]
    bs = [_out(a, _bias_in(a, v)) for v in b]
    params = {}
    for layer, (w, v) in enumerate(zip(Ws, bs)):
        params[_key(a.keys[0], layer)] = w
        params[_key(a.keys[1], layer)] = v
    pieces = [t.reshape(-1) for pair in zip(Ws, bs) for t in pair]
    theta = (__import__("numpy").concatenate(pieces) if a.numpy else torch.cat(pieces)) if pieces else None
    return {"x": _out(a, x.T if a.layout == "row" else x), "y": _out(a, _targets_in(a, y)), "W": Ws, "b": bs, "params": params, "theta": theta}


def _call(a: Adapter, fn: Callable[..., Any], bound: dict[str, Any], widths: list[int], l2: float) -> Any:
    args = [bound[name] for name in a.args]
    kwargs = {a.reg: l2} if a.reg else {}
    if not a.instance:
        return fn(*args, **kwargs)
    obj = fn.__new__(fn) if a.instance == "bare" else fn(widths)
    if len(a.attributes) == 1:
        setattr(obj, a.attributes[0], bound["params"])
    else:
        setattr(obj, a.attributes[0], bound["W"])
        setattr(obj, a.attributes[1], bound["b"])
    return getattr(obj, a.method)(*args, **kwargs)


# -- outputs: the implementation's layout -> canonical --------------------------------------


def _back(like: Tensor, value: Any) -> Any:
    """A returned array as a tensor on the case's device, float arrays in the case's dtype."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy adapters need numpy
        return value
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(value)
        return t.to(device=like.device, dtype=like.dtype) if t.is_floating_point() else t.to(like.device)
    if isinstance(value, np.generic) and not isinstance(value, float):
        return value.item() if value.dtype.kind == "f" else value
    return value


def _weight_back(a: Adapter, g: Any, W: Tensor) -> Any:
    """The inverse of :func:`_weight_in`, applied whatever the shape, so a gradient of the wrong
    shape in the implementation's layout is still the wrong shape in the canonical one."""
    g = _back(W, g) if a.numpy else g
    if a.weights == "in_out" and isinstance(g, Tensor) and g.dim() >= 2:
        return g.transpose(-2, -1)
    return g


def _bias_back(a: Adapter, g: Any, b: Tensor) -> Any:
    """The inverse of :func:`_bias_in` (see :func:`_weight_back`)."""
    g = _back(b, g) if a.numpy else g
    if not isinstance(g, Tensor):
        return g
    if a.bias == "vector":
        return g.unsqueeze(-1)
    if a.bias == "row" and g.dim() >= 2:
        return g.transpose(-2, -1)
    return g


def _gradients(a: Adapter, value: Any, W: Sequence[Tensor], b: Sequence[Tensor]) -> tuple[Any, list, list] | None:
    """``(loss or MISSING, W_grads, b_grads)`` in the canonical layout, or ``None`` if unreadable."""
    if len(a.returns) == 1:
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) != len(a.returns):
        return None
    got = dict(zip(a.returns, value))
    if "grads" in got:
        grads = got["grads"]
        if not isinstance(grads, dict):
            return None
        keys = a.grad_keys or a.keys
        W_grads = [grads.get(_key(keys[0], l)) for l in range(len(W))]
        b_grads = [grads.get(_key(keys[1], l)) for l in range(len(b))]
    elif "theta" in got:
        split = _unflatten(a, got["theta"], W, b)
        if split is None:
            return None
        W_grads, b_grads = split
    else:
        W_grads, b_grads = got["W"], got["b"]
        if not isinstance(W_grads, (list, tuple)) or not isinstance(b_grads, (list, tuple)):
            return (got.get("loss", _MISSING), W_grads, b_grads)
    W_grads = [_weight_back(a, g, w) for g, w in zip(W_grads, W)] + list(W_grads[len(W):])
    b_grads = [_bias_back(a, g, v) for g, v in zip(b_grads, b)] + list(b_grads[len(b):])
    loss = got.get("loss", _MISSING)
    return (_back(W[0], loss) if a.numpy else loss), W_grads, b_grads


def _unflatten(a: Adapter, theta: Any, W: Sequence[Tensor], b: Sequence[Tensor]) -> tuple[list, list] | None:
    flat = _back(W[0], theta) if a.numpy else theta
    if not isinstance(flat, Tensor) or flat.dim() != 1 or flat.numel() != sum(w.numel() + v.numel() for w, v in zip(W, b)):
        return None
    W_grads, b_grads, at = [], [], 0
    for w, v in zip(W, b):
        w_shape, b_shape = tuple(_weight_in(a, w).shape), tuple(_bias_in(a, v).shape)
        W_grads.append(flat[at : at + w.numel()].reshape(w_shape))
        at += w.numel()
        b_grads.append(flat[at : at + v.numel()].reshape(b_shape))
        at += v.numel()
    return W_grads, b_grads


_MISSING = object()


def _add(results: list[tuple[Any, list, list]], scale: float) -> tuple[Any, list, list] | None:
    """Per-example results added up (and scaled), or ``None`` if any is not all tensors."""
    loss0, W0, b0 = results[0]
    if not all(isinstance(g, Tensor) for _, Ws, bs in results for g in (*Ws, *bs)):
        return None
    W_sum = [sum(r[1][l] for r in results) * scale for l in range(len(W0))]
    b_sum = [sum(r[2][l] for r in results) * scale for l in range(len(b0))]
    loss = _MISSING if loss0 is _MISSING else sum(r[0] for r in results) * scale
    return loss, W_sum, b_sum


def wrap(fn: Callable[..., Any], adapter: Adapter | str, spec: Spec = SEED) -> Callable[..., Any]:
    """``fn`` (or a class, with ``adapter.instance``) as a canonical ``forward_backward(x, y, W, b)``."""
    a = get_adapter(adapter) if isinstance(adapter, str) else adapter

    def call_once(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        widths = [x.shape[0], *(w.shape[0] for w in W)]
        raw = _call(a, fn, _bind(a, x, y, W, b), widths, spec.l2)
        return raw, _gradients(a, raw, W, b)

    def forward_backward(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        if a.per_example and x.shape[1] > 1:
            calls = [call_once(x[:, i : i + 1], y[:, i : i + 1], W, b) for i in range(x.shape[1])]
            if any(got is None for _, got in calls):
                return next(raw for raw, got in calls if got is None)
            result = _add([got for _, got in calls], 1 / x.shape[1] if spec.batch_reduction == "mean" else 1.0)
            if result is None:
                return calls[0][0]
        else:
            raw, result = call_once(x, y, W, b)
            if result is None:
                return raw
        loss, W_grads, b_grads = result
        if loss is _MISSING:  # the implementation returns no loss: the spec's stands in
            loss = spec.loss(x.double(), y.double(), [w.double() for w in W], [v.double() for v in b]).to(x.dtype)
        return loss, W_grads, b_grads

    forward_backward.__qualname__ = getattr(fn, "__qualname__", "implementation")
    forward_backward.adapted = fn  # type: ignore[attr-defined]
    return forward_backward
