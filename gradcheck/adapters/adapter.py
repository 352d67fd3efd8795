"""The :class:`Adapter`: one frozen configuration, checked when it is made.

An adapter is data, not code per course: each step of :func:`~gradcheck.adapters.wrap` reads
the fields it needs, and each step's module explains its fields in full. A configuration that
no step could carry out is refused here, with one line that names the field and the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ARGUMENTS", "RETURNS", "Adapter"]

ARGUMENTS = ("x", "y", "W", "b", "params", "theta")  # what the binding step can pass
RETURNS = ("loss", "W", "b", "grads", "theta")  # what the extraction step can read back
_CHOICES = {
    "layout": ("column", "row"),
    "weights": ("out_in", "in_out"),
    "bias": ("column", "vector", "row", "folded", "folded-first", "none"),
    "grads_from": ("return", "attributes", "step", "globals", "delta"),
    "params_from": ("args", "globals"),
    "sign": (1, -1),
    "targets": ("dense", "index"),
    "instance": (None, "bare", "sizes"),
    "autograd": (None, "op", "loss"),
}
_FORWARD_ITEM = re.compile(r"forward\[\d+\]")


@dataclass(frozen=True)
class Adapter:
    """How to call an implementation and read its gradients (the defaults: the canonical contract).

    The fields, by the step that reads them (each module explains its own in full):

    - :mod:`~gradcheck.adapters.layout`: ``layout``, ``weights``, ``bias``, ``targets``, ``numpy``;
    - :mod:`~gradcheck.adapters.binding`: ``args``, ``keys``;
    - :mod:`~gradcheck.adapters.calling`: ``reg``, ``instance``, ``attributes``, ``method``,
      ``backward``, ``backward_args``, ``params_from``, ``data``;
    - :mod:`~gradcheck.adapters.extraction`: ``returns``, ``grad_keys``, ``grads_from``, ``lr``, ``sign``;
    - :mod:`~gradcheck.adapters.composition`: ``compose``;
    - :mod:`~gradcheck.adapters.wrapping`: ``per_example``;
    - :mod:`~gradcheck.layercheck` and :mod:`~gradcheck.adapters.function`: ``autograd`` (a
      ``torch.autograd.Function``: one layer op, or a whole loss);
    - :mod:`~gradcheck.adapters.neurons`: ``neurons``, ``neuron_keys``, ``transfer`` (per-neuron
      dict lists, Machine Learning Mastery style);
    - ``depth``: the one number of layers the implementation supports, if it is fixed; cases of
      other depths are not run (CS231n's ``TwoLayerNet``).
    """

    name: str = "canonical"
    layout: str = "column"  # x [n_0, B]; "row": x [B, n_0], y [B, n_L]
    weights: str = "out_in"  # or "in_out"
    bias: str = "column"  # [out, 1]; "vector", "row"; or none of its own: "folded", "folded-first", "none"
    targets: str = "dense"  # like the case's y; "index": class indices [B]
    numpy: bool = False  # float64 numpy arrays in, arrays out
    args: tuple[str, ...] = ("x", "y", "W", "b")  # the positional arguments, from ARGUMENTS
    keys: tuple[str, str] = ("W{n}", "b{n}")  # a params dict's keys ({n} = layer + 1, {l} = layer)
    reg: str | None = None  # the keyword that receives the spec's L2 coefficient
    instance: str | None = None  # the target is a class: "bare" (no __init__) or "sizes" (cls(widths))
    attributes: tuple[str, ...] = ()  # where the parameters go on the object: a params dict, or W and b lists
    method: str | None = None  # the object's method that is called
    per_example: bool = False  # one call per example, added up
    returns: tuple[str, ...] = ("loss", "W", "b")  # the returned tuple's order, from RETURNS
    grad_keys: tuple[str, str] | None = None  # the gradients' names (default: keys)
    depth: int | None = None  # the only depth the implementation supports, if fixed
    grads_from: str = "return"  # or "attributes", "step" (a training step), "globals"
    lr: float = 0.1  # a training step's learning rate
    sign: int = 1  # a training step's direction: +1 descent, -1 ascent
    backward: str | None = None  # a second function of the target's module, called after it
    backward_args: tuple[str, ...] = ()  # its arguments: binding names, forward, forward[i]
    compose: tuple[str, ...] = ()  # (linear class, hidden activation class, output activation class or "")
    params_from: str = "args"  # or "globals": parameters written into fn.__globals__ under keys
    data: tuple[str, ...] = ()  # with params_from="globals": the global names that receive x and y
    # -- torch.autograd.Function and per-neuron dict lists (layercheck.py, function.py, neurons.py) --
    autograd: str | None = None  # a torch.autograd.Function: "op" one linear layer, "loss" a whole loss
    neurons: tuple[str, ...] = ()  # per-neuron dicts: the forward, backward and update functions' names
    neuron_keys: tuple[str, str, str] = ("weights", "output", "delta")  # each neuron's keys
    transfer: str | None = None  # a global of the module passed last to forward and backward

    def __post_init__(self) -> None:
        self._check_choices()
        self._check_binding()
        self._check_calling()
        self._check_extraction()
        self._check_function_and_neurons()

    def _check_function_and_neurons(self) -> None:
        if self.autograd and (self.numpy or self.instance or self.compose or self.uses_globals or self.neurons):
            raise ValueError(
                "autograd= calls a torch.autograd.Function: not with numpy, instance=, compose=, globals or neurons="
            )
        if self.autograd == "op" and (self.layout != "row" or self.bias not in ("vector", "none")):
            raise ValueError('autograd="op" takes nn.Linear\'s layout: layout="row" and bias="vector" (or "none")')
        if self.neurons and (len(self.neurons) != 3 or not all(self.neurons[:2])):
            raise ValueError(
                "neurons= names three functions: forward, backward and update "
                '(e.g. ["forward_propagate", "backward_propagate_error", "update_weights"]; '
                'update "" with grads_from="delta")'
            )
        if self.neurons and (self.grads_from not in ("delta", "step") or not self.per_example):
            raise ValueError(
                'neurons= reads gradients with grads_from="delta" or "step", one example at a time (per_example=true)'
            )
        if self.neurons and self.grads_from == "step" and not self.neurons[2]:
            raise ValueError('neurons= with grads_from="step" needs the update function\'s name (the third)')
        if self.grads_from == "delta" and not self.neurons:
            raise ValueError('grads_from="delta" reads per-neuron deltas: it needs neurons=')

    def _check_choices(self) -> None:
        for field_, allowed in _CHOICES.items():
            value = getattr(self, field_)
            if value not in allowed:
                raise ValueError(f"adapter {field_}={value!r} is not one of {', '.join(map(str, allowed))}")
        for field_, values, names in (("args", self.args, ARGUMENTS), ("returns", self.returns, RETURNS)):
            bad = [v for v in values if v not in names]
            if bad:
                raise ValueError(f"adapter {field_}: {bad[0]!r} is not one of {', '.join(names)}")

    def _check_binding(self) -> None:
        if self.instance and (not self.method or len(self.attributes) not in (1, 2)):
            raise ValueError(
                "an adapter with instance= needs method= and attributes= "
                "(one name for a params dict, two for W and b lists)"
            )
        if self.uses_globals and (self.instance or self.compose or self.backward):
            raise ValueError(
                "notebook globals (params_from/grads_from='globals') work with a plain function: "
                "not with instance=, compose= or backward="
            )
        if self.data and (self.params_from != "globals" or len(self.data) != 2):
            raise ValueError("data= names the two globals that receive x and y, with params_from='globals'")

    def _check_calling(self) -> None:
        if self.compose and (len(self.compose) != 3 or not self.compose[0]):
            raise ValueError(
                "compose= names three classes: the linear layer, the hidden activation, "
                'the output activation ("" for none)'
            )
        bad = [v for v in self.backward_args if v not in (*ARGUMENTS, "forward") and not _FORWARD_ITEM.fullmatch(v)]
        if bad or bool(self.backward) != bool(self.backward_args):
            raise ValueError(
                "backward= names the second function and backward_args= its arguments, "
                "from x, y, W, b, params, theta, forward, forward[i]"
            )

    def _check_extraction(self) -> None:
        if "W" in self.returns and "b" not in self.returns and "grads" not in self.returns and not self.bias_free:
            raise ValueError("adapter returns: W without b (or grads) gives no bias gradients")
        if self.grads_from == "attributes" and not self.instance:
            raise ValueError("grads_from='attributes' reads the gradients from an object: it needs instance=")
        if self.grads_from == "globals" and not self.grad_keys:
            raise ValueError("grads_from='globals' needs grad_keys=, the gradients' global names (e.g. dW{n}, db{n})")
        if self.grads_from == "step" and not self.lr > 0:
            raise ValueError("grads_from='step' needs the step's learning rate lr > 0")

    @property
    def bias_free(self) -> bool:
        """The implementation takes no separate biases (none at all, or folded into W)."""
        return self.bias in ("folded", "folded-first", "none")

    @property
    def uses_globals(self) -> bool:
        """Parameters or gradients pass through the implementation's module namespace."""
        return self.params_from == "globals" or self.grads_from == "globals"
