"""The pieces of a composed network: one linear layer or one activation, in either style.

Every piece looks the same to the chain: ``forward(a)``, ``backward(upstream) -> downstream``
and, for a linear piece, ``gradients() -> (dW, db)`` as the implementation holds them. Every call
into the implementation's code goes through :func:`theirs`, so the chain can tell the
implementation's exceptions from its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..adapter import Adapter
from ..layerargs import layer_arguments
from ..layout import layer_key

__all__ = ["Piece", "Theirs", "activation_piece", "check_names", "linear_piece", "theirs"]


class Theirs(Exception):
    """The implementation's own exception (or one that says what its code returned), carried
    through the chain's error handling unchanged."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


def theirs(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a call into the implementation's code: whatever it raises is its own."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the implementation's exception, whatever it is
        raise Theirs(exc) from None


def returned(what: str, value: Any, wanted: str) -> Theirs:
    """The implementation's error for a piece that returned something the chain cannot use."""
    return Theirs(TypeError(f"{what} returned {type(value).__name__}, not {wanted}"))


@dataclass
class Piece:
    """One layer piece as the chain calls it; ``forward_name`` / ``backward_name`` name it in findings."""

    layer: int
    forward_name: str
    backward_name: str
    forward: Callable[[Any], Any]
    backward: Callable[[Any], Any]
    gradients: Callable[[], tuple[Any, Any]] | None = None
    state: dict[str, Any] = field(default_factory=dict)


def check_names(a: Adapter, names: Mapping[str, Any]) -> None:
    """ValueError (a configuration error) if ``compose`` names what the module does not define,
    or a constructor the chain would call does not take the arguments it would get."""
    for position, name in enumerate(a.compose):
        if not name:
            continue
        if a.compose_style == "functions":
            for suffix in ("_forward", "_backward"):
                if not callable(names.get(name + suffix)):
                    raise ValueError(f"compose: the implementation's module defines no function {name + suffix!r}")
            continue
        cls = names.get(name)
        if not isinstance(cls, type):
            raise ValueError(f"compose: the implementation's module defines no class {name!r}")
        for method in ("forward", "backward"):
            if not callable(getattr(cls, method, None)):
                raise ValueError(f"compose: class {name} has no {method} method")
        if position > 0 or a.layer_args or has_init(cls):
            _check_constructor(cls, *layer_arguments(a.layer_args if position == 0 else (), 3, 2))


def has_init(cls: type) -> bool:
    """Whether the class sets state in an ``__init__`` of its own (one the chain must run)."""
    return getattr(cls, "__init__", object.__init__) is not object.__init__


def _check_constructor(cls: type, args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):  # a builtin or C class: nothing to check ahead
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        call = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
        raise ValueError(
            f"compose: {cls.__name__}({call}) does not fit {cls.__name__}{signature} ({exc}); "
            "set layer_args= to its constructor's arguments"
        ) from None


def linear_piece(a: Adapter, names: Mapping[str, Any], layer: int, W: Any, b: Any, widths: tuple[int, int]) -> Piece:
    """Layer ``layer``'s linear piece, holding the case's W and b in the implementation's layout."""
    name = a.compose[0]
    if a.compose_style == "functions":
        return _linear_functions(a, names, name, layer, W, b)
    cls = names[name]
    if a.layer_args or has_init(cls):
        args, kwargs = layer_arguments(a.layer_args, *widths)
        obj = theirs(cls, *args, **kwargs)
    else:
        obj = theirs(cls.__new__, cls)  # no __init__ of its own: made bare
    attributes = a.attributes or ("W", "b")
    theirs(setattr, obj, attributes[0], W)
    if not a.bias_free:
        theirs(setattr, obj, attributes[1], b)
    keys = a.grad_keys or ("dW", "db")

    def gradients() -> tuple[Any, Any]:
        dW = theirs(getattr, obj, layer_key(keys[0], layer), None)
        return dW, None if a.bias_free else theirs(getattr, obj, layer_key(keys[1], layer), None)

    return Piece(
        layer,
        f"{name}.forward",
        f"{name}.backward",
        lambda v: theirs(obj.forward, v),
        lambda g: theirs(obj.backward, g),
        gradients,
    )


def _linear_functions(a: Adapter, names: Mapping[str, Any], name: str, layer: int, W: Any, b: Any) -> Piece:
    """``NAME_forward(x, w, b) -> (out, cache)`` and ``NAME_backward(dout, cache) -> (dx, dw, db)``."""
    forward_fn, backward_fn = names[f"{name}_forward"], names[f"{name}_backward"]
    params = (W,) if a.bias_free else (W, b)
    piece = Piece(layer, f"{name}_forward", f"{name}_backward", lambda v: None, lambda g: None)

    def forward(v: Any) -> Any:
        out, piece.state["cache"] = _out_and_cache(piece.forward_name, theirs(forward_fn, v, *params))
        return out

    def backward(g: Any) -> Any:
        got = theirs(backward_fn, g, piece.state["cache"])
        count = 1 + len(params)
        if not isinstance(got, (tuple, list)) or len(got) != count:
            raise returned(piece.backward_name, got, "(dx, dw, db)" if count == 3 else "(dx, dw)")
        piece.state["grads"] = (got[1], got[2] if count == 3 else None)
        return got[0]

    piece.forward, piece.backward = forward, backward
    piece.gradients = lambda: piece.state.get("grads", (None, None))
    return piece


def _out_and_cache(what: str, got: Any) -> tuple[Any, Any]:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise returned(what, got, "(out, cache)")
    return got[0], got[1]


def activation_piece(a: Adapter, names: Mapping[str, Any], name: str, layer: int) -> Piece:
    """An activation after layer ``layer``'s linear piece; with ``activation_upstream=False`` its
    backward gives dA/dZ alone, and the upstream is multiplied by it here."""
    if a.compose_style == "functions":
        forward_fn, backward_fn = names[f"{name}_forward"], names[f"{name}_backward"]
        piece = Piece(layer, f"{name}_forward", f"{name}_backward", lambda v: None, lambda g: None)

        def forward(v: Any) -> Any:
            out, piece.state["cache"] = _out_and_cache(piece.forward_name, theirs(forward_fn, v))
            return out

        piece.forward = forward
        local: Callable[..., Any] = lambda *upstream: theirs(backward_fn, *upstream, piece.state["cache"])  # noqa: E731
    else:
        obj = theirs(names[name])
        piece = Piece(layer, f"{name}.forward", f"{name}.backward", lambda v: theirs(obj.forward, v), lambda g: None)
        local = lambda *upstream: theirs(obj.backward, *upstream)  # noqa: E731
    piece.backward = local if a.activation_upstream else lambda g: _times(piece.backward_name, g, local())
    return piece


def _times(what: str, upstream: Any, derivative: Any) -> Any:
    """The upstream times a local derivative dA/dZ, elementwise (an array of the upstream's shape)."""
    shape = getattr(derivative, "shape", None)
    if shape is None or tuple(shape) != tuple(getattr(upstream, "shape", ())):
        raise returned(
            f"{what}() (no upstream)",
            derivative,
            f"the local derivative dA/dZ, an array of the upstream's shape {tuple(getattr(upstream, 'shape', ()))}",
        )
    return upstream * derivative
