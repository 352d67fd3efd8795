"""A layer class's constructor arguments, as an adapter's ``layer_args`` writes them.

Courses' layer classes set their state in ``__init__`` and want the layer's widths, often with a
flag or two: MyTorch's ``Linear(in_features, out_features, debug=False)``, FAU's
``FullyConnected(input_size, output_size)``. ``layer_args`` says how to call it, one item per
argument, in order:

- ``in`` / ``out``: the layer's input / output width, positionally;
- ``NAME=in`` / ``NAME=out``: the same, by keyword;
- ``NAME=VALUE`` or ``VALUE``: a constant, a Python literal (``False``, ``0.5``, ``'he'``; TOML's
  ``true``/``false`` work too).

The widths are the network's own, without a folded bias's extra input (FAU's layer adds it).
Items are parsed when the adapter is made, so a bad one is a configuration error at once.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any

__all__ = ["layer_arguments", "parse_layer_args"]

_WIDTHS = ("in", "out")
_WORDS = {"true": True, "false": False, "none": None}

# One parsed item: (keyword or None, "in" | "out" | "constant", the constant's value)
Item = tuple[str | None, str, Any]


def parse_layer_args(items: Sequence[str]) -> list[Item]:
    """The items of ``layer_args``, parsed; ValueError (one line, naming the item) if one is not
    ``in``, ``out``, ``NAME=in``, ``NAME=out`` or a constant, or a positional item follows a keyword."""
    parsed: list[Item] = []
    for item in items:
        name, sep, value = item.partition("=")
        keyword = name.strip() if sep else None
        if keyword is not None and not keyword.isidentifier():
            keyword, value = None, item  # "=" inside a constant, e.g. "'a=b'"
        text = (value if keyword is not None else item).strip()
        if text in _WIDTHS:
            parsed.append((keyword, text, None))
        else:
            parsed.append((keyword, "constant", _constant(item, text)))
        if keyword is None and any(k is not None for k, _, _ in parsed[:-1]):
            raise ValueError(f"adapter layer_args: positional {item!r} follows a keyword argument")
    return parsed


def _constant(item: str, text: str) -> Any:
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ValueError(
            f"adapter layer_args: {item!r} is not in, out, NAME=in, NAME=out or NAME=VALUE "
            "(VALUE a Python literal: False, 0.5, 'text')"
        ) from None


def layer_arguments(items: Sequence[str], n_in: int, n_out: int) -> tuple[list[Any], dict[str, Any]]:
    """The positional and keyword arguments of one layer's constructor, for widths ``n_in -> n_out``."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for keyword, kind, constant in parse_layer_args(items):
        value = {"in": n_in, "out": n_out}.get(kind, constant)
        if keyword is None:
            args.append(value)
        else:
            kwargs[keyword] = value
    return args, kwargs
