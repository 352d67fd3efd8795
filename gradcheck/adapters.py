"""Adapters: call an implementation written in another layout as ``forward_backward(x, y, W, b)``.

The checker works in one canonical layout (column vectors ``x [n_0, B]``, ``W [out, in]``,
``b [out, 1]``, lists of per-layer tensors). Most code in the wild does not (of 21 real
implementations surveyed, 15 use row-major batches, 12 store W as
``[in, out]``, 15 are numpy). An :class:`Adapter` is a *configuration*, not code per
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
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .sandbox.calling import perform
from .spec import SEED, Spec

__all__ = ["ADAPTERS", "Adapter", "get_adapter", "wrap"]

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

    Biases: ``bias="folded"`` / ``"folded-first"``: there is no separate b; each W carries it as
    an extra input column, last or first (``[out, in + 1]``, transposed with ``weights="in_out"``);
    its gradient's extra column is the bias gradient. ``bias="none"``: the network has no biases
    (z = W a); use it with a spec of ``biases=False``, whose cases draw b = 0 so that the spec's
    network is the bias-free one; the spec's own b gradients then stand in for the missing ones,
    so b is not judged (in ``mode="self"`` those would disagree with the implementation's own
    loss, which ignores b: use spec mode). With either, ``returns`` may name ``W`` without ``b``
    and neither ``params`` nor ``theta`` holds biases.

    Where the gradients come from, ``grads_from``: ``"return"`` (above); ``"attributes"``: read
    from the object after the call, at the attribute names ``grad_keys`` (e.g. ``("dW{n}",
    "db{n}")`` for ``net.dW1``), needs ``instance``; ``"step"``: the implementation is a training
    step that updates the parameters by one plain SGD step θ ← θ − sign·lr·g and may return
    nothing; it gets copies (the case is untouched) and ``g = sign·(θ_before − θ_after)/lr`` is
    read from the updated copies (arguments updated in place, or the object's ``attributes``
    after the call, reassigned or not). ``lr`` and ``sign`` (+1 descent, −1 ascent) must be the
    step's own. With either, ``returns=("loss",)`` reads the returned loss, otherwise the spec's
    loss stands in.

    Notebook globals: ``params_from="globals"`` writes each parameter into the implementation's
    namespace (``fn.__globals__``) under ``keys`` (``W1, b1, ...``) before the call, for a
    function such as ``backprop(X, y)`` that reads them as globals; ``data`` names the globals
    that receive x and y as well (e.g. ``("X", "Y")``, for ``train_step()`` with no arguments).
    ``grads_from="globals"`` reads the gradients from that namespace after the call, under
    ``grad_keys`` (required, e.g. ``("dW{n}", "db{n}")``); ``"step"`` with ``params_from="globals"``
    reads the updated parameters there. Gradient names are removed before the call, so a value
    the notebook's own earlier run left behind is never taken for the implementation's, and
    every name the adapter touched is restored afterwards (other globals the function itself
    rebinds are its own state, left for the hidden-state checks to see). The namespace is this process's: the sandboxed
    grader refuses these options.

    Two functions (deeplearning.ai): ``backward`` names a second function of the target's module,
    called after the target with ``backward_args``, from the binding names above plus
    ``forward`` (the target's result) and ``forward[i]`` (its item i); what it returns is read by
    ``returns``, e.g. ``args=("x", "params"), backward="L_model_backward",
    backward_args=("forward[0]", "y", "forward[1]"), returns=("grads",)``.

    Per-layer composition, ``compose=(linear, hidden activation, output activation or "")``:
    classes of the target's module that the harness chains itself, layer by layer (see
    :func:`_composed` for the protocol); the loss, its gradient at the output and any L2 term
    come from the spec, so each layer is checked against a given upstream gradient. Layer
    objects live in one process: the sandboxed grader refuses a compose adapter.

    Every call is described as data and made by :func:`gradcheck.sandbox.calling.perform`, here
    or, for a :class:`~gradcheck.sandbox.SandboxedFunction`, inside its sandbox: the adapter
    itself always runs in the caller's process.
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
    grads_from: str = "return"
    lr: float = 0.1
    sign: int = 1
    backward: str | None = None
    backward_args: tuple[str, ...] = ()
    compose: tuple[
        str, ...
    ] = ()  # per-layer pieces: (linear class, hidden activation class, output activation class or "")
    params_from: str = "args"  # or "globals": parameters written into fn.__globals__ under keys
    data: tuple[str, ...] = ()  # with params_from="globals": the global names that receive x and y

    def __post_init__(self) -> None:
        for field_, value, allowed in (
            ("layout", self.layout, ("column", "row")),
            ("weights", self.weights, ("out_in", "in_out")),
            ("bias", self.bias, ("column", "vector", "row", "folded", "folded-first", "none")),
            ("grads_from", self.grads_from, ("return", "attributes", "step", "globals")),
            ("params_from", self.params_from, ("args", "globals")),
            ("sign", self.sign, (1, -1)),
            ("targets", self.targets, ("dense", "index")),
            ("instance", self.instance, (None, "bare", "sizes")),
        ):
            if value not in allowed:
                raise ValueError(f"adapter {field_}={value!r} is not one of {', '.join(map(str, allowed))}")
        for field_, values, allowed in (("args", self.args, _ARGS), ("returns", self.returns, _RETURNS)):
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"adapter {field_}: {bad[0]!r} is not one of {', '.join(allowed)}")
        if "W" in self.returns and "b" not in self.returns and "grads" not in self.returns and not self.bias_free:
            raise ValueError("adapter returns: W without b (or grads) gives no bias gradients")
        if self.instance and (not self.method or len(self.attributes) not in (1, 2)):
            raise ValueError(
                "an adapter with instance= needs method= and attributes= (one name for a params dict, two for W and b lists)"
            )
        if self.grads_from == "attributes" and not self.instance:
            raise ValueError("grads_from='attributes' reads the gradients from an object: it needs instance=")
        if self.grads_from == "globals" and not self.grad_keys:
            raise ValueError("grads_from='globals' needs grad_keys=, the gradients' global names (e.g. dW{n}, db{n})")
        if self.uses_globals and (self.instance or self.compose or self.backward):
            raise ValueError(
                "notebook globals (params_from/grads_from='globals') work with a plain function: not with instance=, compose= or backward="
            )
        if self.data and (self.params_from != "globals" or len(self.data) != 2):
            raise ValueError("data= names the two globals that receive x and y, with params_from='globals'")
        if self.grads_from == "step" and not self.lr > 0:
            raise ValueError("grads_from='step' needs the step's learning rate lr > 0")
        bad = [v for v in self.backward_args if v not in (*_ARGS, "forward") and not re.fullmatch(r"forward\[\d+\]", v)]
        if self.compose and (len(self.compose) != 3 or not self.compose[0]):
            raise ValueError(
                'compose= names three classes: the linear layer, the hidden activation, the output activation ("" for none)'
            )
        if bad or bool(self.backward) != bool(self.backward_args):
            raise ValueError(
                "backward= names the second function and backward_args= its arguments, from x, y, W, b, params, theta, forward, forward[i]"
            )

    @property
    def bias_free(self) -> bool:
        """The implementation takes no separate biases (none at all, or folded into W)."""
        return self.bias in ("folded", "folded-first", "none")

    @property
    def uses_globals(self) -> bool:
        """Parameters or gradients pass through the implementation's module namespace."""
        return self.params_from == "globals" or self.grads_from == "globals"

    @property
    def is_canonical(self) -> bool:
        return dataclasses.replace(self, name="canonical") == Adapter()


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


def _fold(a: Adapter, W: Tensor, b: Tensor) -> Tensor:
    """W with b as an extra input column (last, or first for ``"folded-first"``); else W."""
    if a.bias == "folded":
        return torch.cat([W, b], dim=1)
    return torch.cat([b, W], dim=1) if a.bias == "folded-first" else W


def _bind(a: Adapter, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> dict[str, Any]:
    """Every argument the implementation might take, in its layout. A training step gets copies
    (it updates them; the case's own tensors stay as they were)."""
    copy = (lambda t: t.clone()) if a.grads_from == "step" else (lambda t: t)
    Ws = [_out(a, copy(_weight_in(a, _fold(a, w, v)))) for w, v in zip(W, b)]
    bs = [] if a.bias_free else [_out(a, copy(_bias_in(a, v))) for v in b]
    params = {}
    for layer, w in enumerate(Ws):
        params[_key(a.keys[0], layer)] = w
        if bs:
            params[_key(a.keys[1], layer)] = bs[layer]
    pieces = [t.reshape(-1) for pair in itertools.zip_longest(Ws, bs) for t in pair if t is not None]
    theta = (__import__("numpy").concatenate(pieces) if a.numpy else torch.cat(pieces)) if pieces else None
    return {
        "x": _out(a, x.T if a.layout == "row" else x),
        "y": _out(a, _targets_in(a, y)),
        "W": Ws,
        "b": bs,
        "params": params,
        "theta": theta,
    }


def _call(a: Adapter, fn: Callable[..., Any], bound: dict[str, Any], widths: list[int], l2: float) -> Any:
    """The call, as data (:mod:`gradcheck.sandbox.calling`): performed here, or, for a function
    that lives elsewhere (a :class:`~gradcheck.sandbox.SandboxedFunction`), by its ``perform_call``."""
    call: dict[str, Any] = {"args": [bound[name] for name in a.args], "kwargs": {a.reg: l2} if a.reg else {}}
    if a.instance:
        names = a.attributes
        values = [bound["params"]] if len(names) == 1 else [bound["W"], bound["b"]]
        call.update(instance=a.instance, attributes=dict(zip(names, values)), method=a.method, widths=widths)
    if a.grads_from == "attributes":
        keys = a.grad_keys or a.keys
        call["collect"] = [_key(k, l) for l in range(len(widths) - 1) for k in (keys if not a.bias_free else keys[:1])]
    elif a.grads_from == "step" and a.instance:
        call["collect"] = list(a.attributes)
    if a.backward:
        call["then"] = {
            "function": a.backward,
            "args": [_result_marker(name) if name.startswith("forward") else bound[name] for name in a.backward_args],
        }
    remote = getattr(fn, "perform_call", None)
    if a.uses_globals:
        return _perform_in_globals(a, fn, call, bound, len(widths) - 1, in_process=not callable(remote))
    return remote(**call) if callable(remote) and not isinstance(fn, type) else perform(fn, **call)


def _perform_in_globals(
    a: Adapter, fn: Callable[..., Any], call: dict, bound: dict[str, Any], depth: int, in_process: bool
) -> Any:
    """The call with the parameters (and ``data``) written into ``fn.__globals__``; returns
    the result, or ``(result, {name: value})`` for the names read back: the gradients (``grads_from="globals"``)
    or the updated parameters (``"step"``). Gradient names are cleared first, so a stale value
    left by the notebook's own run cannot pass for the implementation's; every name touched gets
    its previous value back (or is removed again) afterwards."""
    namespace = getattr(fn, "__globals__", None)
    if not in_process or not isinstance(namespace, dict):
        raise ValueError("notebook globals binding needs the function's namespace in this process")
    writes = dict(bound["params"]) if a.params_from == "globals" else {}
    writes.update(zip(a.data, (bound["x"], bound["y"])))
    keys = a.grad_keys if a.grads_from == "globals" else a.keys
    reads = (
        [_key(k, l) for l in range(depth) for k in (keys if not a.bias_free else keys[:1])]
        if a.grads_from in ("globals", "step")
        else []
    )
    touched = {*writes, *reads}
    saved = {name: namespace[name] for name in touched if name in namespace}
    try:
        for name in set(reads) - set(writes):
            namespace.pop(name, None)
        namespace.update(writes)
        value = perform(fn, **call)
        return (value, {name: namespace.get(name) for name in reads}) if reads else value
    finally:
        for name in touched:
            namespace.pop(name, None)
        namespace.update(saved)


def _result_marker(name: str) -> dict:
    """``forward`` / ``forward[i]`` as :func:`~gradcheck.sandbox.calling.perform` reads it."""
    return {"result": None if name == "forward" else int(name[8:-1])}


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
        W_grads, b_grads = _named_grads(a, grads.get, len(W))
    elif "theta" in got:
        split = _unflatten(a, got["theta"], W, b)
        if split is None:
            return None
        W_grads, b_grads = split
    else:
        W_grads, b_grads = got["W"], got.get("b", [])
        if not isinstance(W_grads, (list, tuple)) or not isinstance(b_grads, (list, tuple)):
            return (got.get("loss", _MISSING), W_grads, b_grads)
    return _canonical(a, got.get("loss", _MISSING), W_grads, b_grads, W, b)


def _named_grads(a: Adapter, get: Callable[[str], Any], depth: int) -> tuple[list, list]:
    """Gradients looked up by name (``grad_keys``, default ``keys``): in a dict, or attributes."""
    keys = a.grad_keys or a.keys
    return [get(_key(keys[0], l)) for l in range(depth)], (
        [] if a.bias_free else [get(_key(keys[1], l)) for l in range(depth)]
    )


def _canonical(
    a: Adapter, loss: Any, W_grads: Sequence, b_grads: Sequence, W: Sequence[Tensor], b: Sequence[Tensor]
) -> tuple[Any, list, list]:
    """Gradients in the implementation's layout -> the canonical one (extra items kept)."""
    W_grads = [_weight_back(a, g, w) for g, w in zip(W_grads, W)] + list(W_grads[len(W) :])
    b_grads = [_bias_back(a, g, v) for g, v in zip(b_grads, b)] + list(b_grads[len(b) :])
    return (_back(W[0], loss) if a.numpy else loss), W_grads, b_grads


def _stepped(
    a: Adapter, found: dict | None, bound: dict[str, Any], before: dict[str, Any], depth: int
) -> tuple[list, list] | None:
    """Gradients from one plain SGD step, ``θ ← θ − sign·lr·g``: ``g = sign·(θ_before − θ_after)/lr``,
    in the implementation's layout. The parameters after the step are the object's attributes
    (``found``) or the bound arguments, updated in place."""
    if a.params_from == "globals":
        if not isinstance(found, dict):
            return None
        new_W, new_b = _named_grads(dataclasses.replace(a, grad_keys=None), found.get, depth)
    elif a.instance:
        after = [found.get(name) for name in a.attributes] if isinstance(found, dict) else [None]
        if len(after) == 1:
            if not isinstance(after[0], dict):
                return None
            new_W, new_b = _named_grads(dataclasses.replace(a, grad_keys=None), after[0].get, depth)
        else:
            new_W, new_b = after[0], after[1] if not a.bias_free else []
    elif "params" in a.args:
        new_W, new_b = _named_grads(dataclasses.replace(a, grad_keys=None), bound["params"].get, depth)
    else:
        new_W, new_b = bound["W"], bound["b"]
    if not isinstance(new_W, (list, tuple)) or not isinstance(new_b, (list, tuple)):
        return None

    def grad(old: Any, new: Any) -> Any:
        try:
            return (old - new) * (a.sign / a.lr)
        except Exception:  # noqa: BLE001 - not an array: the type checks will say so
            return new

    return [grad(o, n) for o, n in zip(before["W"], new_W)], [grad(o, n) for o, n in zip(before["b"], new_b)]


def _unfold(
    a: Adapter, W_grads: list, b_grads: list, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor], spec: Spec
) -> tuple[list, list]:
    """Folded biases split off W's extra column; with ``bias="none"`` the spec's own bias
    gradients stand in (the network has no biases, so they are not the implementation's to get
    wrong: cases draw b = 0 when ``spec.biases`` is False)."""
    if a.bias == "none":
        bs = [v.detach().double().requires_grad_() for v in b]
        loss = spec.loss(x.double(), y.double(), [w.double() for w in W], bs)
        return W_grads, [g.to(device=v.device, dtype=v.dtype) for g, v in zip(torch.autograd.grad(loss, bs), b)]
    if a.bias not in ("folded", "folded-first"):
        return W_grads, b_grads
    W_out, b_out = [], []
    for g, w in zip(W_grads, W):
        if isinstance(g, Tensor) and g.dim() == 2 and g.shape[1] == w.shape[1] + 1:
            W_out.append(g[:, :-1] if a.bias == "folded" else g[:, 1:])
            b_out.append(g[:, -1:] if a.bias == "folded" else g[:, :1])
        else:  # the wrong shape: both checks report it
            W_out.append(g)
            b_out.append(g)
    return W_out + list(W_grads[len(W) :]), b_out


def _unflatten(a: Adapter, theta: Any, W: Sequence[Tensor], b: Sequence[Tensor]) -> tuple[list, list] | None:
    flat = _back(W[0], theta) if a.numpy else theta
    shapes = [
        (tuple(_weight_in(a, _fold(a, w, v)).shape), None if a.bias_free else tuple(_bias_in(a, v).shape))
        for w, v in zip(W, b)
    ]
    sizes = [math.prod(ws) + (math.prod(bs) if bs else 0) for ws, bs in shapes]
    if not isinstance(flat, Tensor) or flat.dim() != 1 or flat.numel() != sum(sizes):
        return None
    W_grads, b_grads, at = [], [], 0
    for w_shape, b_shape in shapes:
        W_grads.append(flat[at : at + math.prod(w_shape)].reshape(w_shape))
        at += math.prod(w_shape)
        if b_shape:
            b_grads.append(flat[at : at + math.prod(b_shape)].reshape(b_shape))
            at += math.prod(b_shape)
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
    if a.compose:
        from .composition import composed

        return composed(a, fn, spec)

    def call_once(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        widths = [x.shape[0], *(w.shape[0] for w in W)]
        bound = _bind(a, x, y, W, b)
        before = _bind(dataclasses.replace(a, grads_from="return"), x, y, W, b) if a.grads_from == "step" else None
        raw = _call(a, fn, bound, widths, spec.l2)
        if a.grads_from == "return":
            got = _gradients(a, raw, W, b)
        else:
            raw, found = raw if a.instance or a.uses_globals else (raw, None)
            loss = raw if a.returns == ("loss",) else _MISSING
            if a.grads_from in ("attributes", "globals"):
                pair = _named_grads(a, found.get, len(W)) if isinstance(found, dict) else None
            else:
                pair = _stepped(a, found, bound, before, len(W))
            got = _canonical(a, loss, *pair, W, b) if pair is not None else None
        if got is None or not isinstance(got[1], list):
            return raw, got
        return raw, (got[0], *_unfold(a, got[1], got[2], x, y, W, b, spec))

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
