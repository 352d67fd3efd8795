"""Calling: the call an adapter makes, described as data and handed to :func:`.perform.perform`.

What is called, from the adapter's fields:

- a function, with the bound ``args`` (:mod:`.binding`); ``reg`` names the keyword that receives
  the spec's L2 coefficient (CS231n's ``reg``);
- ``instance``: the target is a class; ``"bare"`` makes one without running ``__init__``,
  ``"sizes"`` calls ``cls([n_0, ..., n_L])``; ``attributes`` says where the parameters go on it
  (one name: the params dict; two: the W and b lists); ``method`` is what is called;
- two functions (deeplearning.ai): ``backward`` names a second function of the target's module,
  called after the target with ``backward_args``, from the binding names plus ``forward`` (the
  target's result) and ``forward[i]`` (its item i), e.g. ``args=("x", "params"),
  backward="L_model_backward", backward_args=("forward[0]", "y", "forward[1]"),
  returns=("grads",)``;
- notebook globals: ``params_from="globals"`` writes each parameter into the implementation's
  namespace (``fn.__globals__``) under ``keys`` (``W1, b1, ...``) before the call, for a
  function such as ``backprop(X, y)`` that reads them as globals; ``data`` names the globals that
  receive x and y as well (e.g. ``("X", "Y")``, for ``train_step()`` with no arguments).
  ``grads_from="globals"`` reads the gradients from that namespace after the call, under
  ``grad_keys``; ``"step"`` with ``params_from="globals"`` reads the updated parameters there.
  Gradient names are removed before the call, so a value the notebook's own earlier run left
  behind is never taken for the implementation's, and every name the adapter touched is restored
  afterwards (other globals the function itself rebinds are its own state, left for the
  hidden-state checks to see). The namespace is this process's: the sandboxed grader refuses
  these options.

The call is made by :func:`.perform.perform`: here, or, for a function that lives elsewhere (a
:class:`~gradcheck.sandbox.SandboxedFunction`, or anything with a ``perform_call``), by that
function's own ``perform_call``, inside its sandbox. The adapter itself always runs in the
caller's process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..invoke import NotApplicable
from .adapter import Adapter
from .binding import argument, keywords
from .layout import layer_key
from .perform import perform
from .rewrite import VALUES, Unassigned
from .script import ScriptRunner

__all__ = ["call", "describe", "gradient_names", "run_script"]


def call(a: Adapter, fn: Callable[..., Any], bound: dict[str, Any], widths: list[int], l2: float) -> Any:
    """``fn`` called as the adapter says, with the ``bound`` arguments (:func:`.binding.bind`).

    The result is what the implementation returned, or ``(result, {name: value})`` where the
    adapter reads names back after the call: the object's attributes (``grads_from`` ``"attributes"``,
    or ``"step"`` with ``instance``) or the namespace's globals (``uses_globals``)."""
    if a.script:
        return run_script(a, fn, bound, len(widths) - 1)
    described = describe(a, bound, widths, l2)
    remote = getattr(fn, "perform_call", None)
    if a.uses_globals:
        return _perform_in_globals(a, fn, described, bound, len(widths) - 1, in_process=not callable(remote))
    if callable(remote) and not isinstance(fn, type):
        return remote(**described)
    return perform(fn, **described)


def describe(a: Adapter, bound: dict[str, Any], widths: list[int], l2: float) -> dict[str, Any]:
    """The call as the keyword arguments of :func:`.perform.perform` (plain data, so it can travel)."""
    described: dict[str, Any] = {
        "args": [argument(bound, name) for name in a.args],
        "kwargs": ({a.reg: l2} if a.reg else {}) | keywords(a, bound),
    }
    if a.init:  # the initialisation seam (.seam): the function's own W1 = ... takes these instead
        described["kwargs"][VALUES] = bound["params"]
    depth = len(widths) - 1
    if a.instance:
        names = a.attributes
        values = [bound["params"]] if len(names) == 1 else [bound["W"], bound["b"]]
        described.update(
            instance=a.instance, attributes=dict(zip(names, values, strict=True)), method=a.method, widths=widths
        )
    if a.grads_from == "attributes":
        described["collect"] = gradient_names(a, a.grad_keys or a.keys, depth)
    elif a.grads_from == "step" and a.instance:
        described["collect"] = list(a.attributes)
    if a.backward:
        described["then"] = {
            "function": a.backward,
            "args": [
                _result_marker(name) if name.startswith("forward") else argument(bound, name)
                for name in a.backward_args
            ],
        }
    return described


def gradient_names(a: Adapter, keys: tuple[str, ...], depth: int) -> list[str]:
    """Every layer's names under ``keys`` (W's only, when the implementation has no biases of its own)."""
    return [layer_key(k, layer) for layer in range(depth) for k in (keys if not a.bias_free else keys[:1])]


def _perform_in_globals(
    a: Adapter, fn: Callable[..., Any], described: dict[str, Any], bound: dict[str, Any], depth: int, in_process: bool
) -> Any:
    """The call with the parameters (and ``data``) written into ``fn.__globals__``; returns the
    result, or ``(result, {name: value})`` for the names read back: the gradients
    (``grads_from="globals"``) or the updated parameters (``"step"``). Gradient names are cleared
    first, so a stale value left by the notebook's own run cannot pass for the implementation's;
    every name touched gets its previous value back (or is removed again) afterwards."""
    namespace = getattr(fn, "__globals__", None)
    if not in_process or not isinstance(namespace, dict):
        raise ValueError("notebook globals binding needs the function's namespace in this process")
    writes = dict(bound["params"]) if a.params_from == "globals" else {}
    writes.update(zip(a.data, (bound["x"], bound["y"]), strict=False))
    keys = a.grad_keys if a.grads_from == "globals" and a.grad_keys else a.keys
    reads = gradient_names(a, keys, depth) if a.grads_from in ("globals", "step") else []
    touched = {*writes, *reads}
    saved = {name: namespace[name] for name in touched if name in namespace}
    try:
        for name in set(reads) - set(writes):
            namespace.pop(name, None)
        namespace.update(writes)
        value = perform(fn, **described)
        return (value, {name: namespace.get(name) for name in reads}) if reads else value
    finally:
        for name in touched:
            namespace.pop(name, None)
        namespace.update(saved)


def run_script(a: Adapter, fn: Any, bound: dict[str, Any], depth: int) -> tuple[Any, dict[str, Any]]:
    """A script's one run (:mod:`.script`): x, y and the parameters under the code's own names
    (``data``, ``keys``), the gradients (``grad_keys``) and the loss (``loss_name``) read back;
    returns ``(loss or None, {gradient name: value})``. A name the code never sets is the
    configuration's fault, not the code's: :class:`~gradcheck.invoke.NotApplicable`."""
    if not isinstance(fn, ScriptRunner):
        raise NotApplicable("script=true needs a .py or .ipynb target (the code itself), not a function")
    values = dict(zip(a.data, (bound["x"], bound["y"]), strict=True)) | bound["params"]
    grads = gradient_names(a, a.grad_keys or a.keys, depth)
    reads = grads + ([a.loss_name] if a.loss_name else [])
    try:
        found = perform(fn, [values, reads], {})
    except Unassigned as exc:
        raise NotApplicable(
            f"the script never assigns {exc} at depth {depth} (adapter grad_keys={list(a.grad_keys or a.keys)} "
            "names its gradients; depth= fixes the number of layers the code has)"
        ) from None
    missing = [name for name in reads if name not in found]
    if missing:
        field_ = "loss_name" if missing[0] == a.loss_name else "grad_keys"
        raise NotApplicable(f"the script did not set {missing[0]!r} when it ran (adapter {field_})")
    return (found.pop(a.loss_name) if a.loss_name else None), found


def _result_marker(name: str) -> dict[str, int | None]:
    """``forward`` / ``forward[i]`` as :func:`.perform.perform` reads it."""
    return {"result": None if name == "forward" else int(name[8:-1])}
