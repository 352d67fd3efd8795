"""The last step of an adapter's call, the one that must happen where the implementation lives.

Everything about a call is decided in the caller's process (:mod:`.calling`: which arguments, in
which layout, which object and method), and handed here as plain data. :func:`perform` makes
the call: in this process for :func:`gradcheck.check`, or inside the grader's sandbox, which
gets a copy of this file beside its runner (as ``_gradcheck_calling.py``). So this module
imports only the standard library, and the sandboxed call is the in-process call, not a twin.
"""

from collections.abc import Callable
from typing import Any, cast

__all__ = ["perform"]


def perform(
    fn: Callable[..., Any],
    args: list,
    kwargs: dict,
    instance: str | None = None,
    attributes: dict | None = None,
    method: str | None = None,
    widths: list | None = None,
    collect: list | None = None,
    then: dict | None = None,
) -> Any:
    """``fn(*args, **kwargs)``; or, for a class (``instance`` ``"bare"``: no ``__init__``;
    ``"sizes"``: ``fn(widths)``), an object with ``attributes`` set, whose ``method`` is called.

    ``then``: a second function of ``fn``'s module (``{"function": name, "args": [...]}``), called
    with the first call's result spliced in where an argument is ``{"result": i}`` (its item
    ``i``; ``None``: all of it), e.g. deeplearning.ai's ``backward(AL, Y, caches)`` after
    ``forward(X, parameters)``; its result is the result. ``collect``: attribute names read
    from the object after the call; the result is then ``(result, {name: value})``.
    """
    obj = None
    if not instance:
        value = fn(*args, **kwargs)
    else:
        cls: Any = fn  # the adapter says it is a class (made bare through its own __new__) with a method
        obj = cls.__new__(cls) if instance == "bare" else cls(widths)
        for name, item in (attributes or {}).items():
            setattr(obj, name, item)
        value = getattr(obj, cast(str, method))(*args, **kwargs)
    if then:
        first = value
        pieces = [
            (first if a["result"] is None else first[a["result"]]) if isinstance(a, dict) and "result" in a else a
            for a in then["args"]
        ]
        value = fn.__globals__[then["function"]](*pieces)
    if collect is not None:
        return value, {name: getattr(obj, name, None) for name in collect}
    return value
