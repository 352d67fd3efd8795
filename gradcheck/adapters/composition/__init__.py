"""Per-layer composition: the harness chains a course's layers into one ``forward_backward``.

``compose=(linear, hidden activation, output activation or "")`` names what the target's module
defines, and the harness builds the network itself, layer by layer: it runs the pieces' forward
passes, takes the loss and its gradient at the output from the specification, and feeds that
upstream gradient back through their backward passes, so every layer is checked against a
given upstream gradient. Two styles (``compose_style``):

- ``"objects"`` (CMU MyTorch, FAU): classes with ``forward(a)`` and ``backward(upstream)``. The
  linear class is made bare (no ``__init__``) or, with ``layer_args``, constructed on the
  layer's widths and constants (:mod:`gradcheck.adapters.layerargs`); then the harness sets its
  parameters at ``attributes`` (default ``W``, ``b``; one name with a folded bias, e.g. FAU's
  ``weights`` [in + 1, out]) and reads its gradients from ``grad_keys`` (default ``dW``, ``db``;
  one name with a folded bias, split into W and b parts). Activations are made with ``cls()``.
- ``"functions"`` (CS231n ``layers.py``): the names are prefixes of function pairs,
  ``affine_forward(x, w, b) -> (out, cache)``, ``affine_backward(dout, cache) -> (dx, dw, db)``
  (``(x, w)`` / ``(dx, dw)`` with a folded bias or none), ``relu_forward(x) -> (out, cache)``,
  ``relu_backward(dout, cache) -> dx``; no wrapper classes.

``activation_upstream=False``: an activation's backward takes no upstream (``backward()``, or
``NAME_backward(cache)``) and returns the local derivative dA/dZ (MyTorch); the chain multiplies
elementwise. A piece that changes the array it is given in place (CS231n's ``relu_backward``
doing ``dout[x <= 0] = 0``) is reported as an ``input-mutation`` warning that names the layer and
the piece (the gradients it returns can still be right, so it fails nothing); the case's own
inputs and parameters stay under the checker's ``input-mutation`` check, which fails.

Whose error is whose: an exception raised in the implementation's own code (a constructor, a
forward, a backward, a property) is the implementation's (exit 1, with its line); a piece that
returns something the chain cannot use is too, with a line that says what came back; a name or
constructor that does not fit is a configuration error when the adapter is applied (exit 2);
anything else that goes wrong in the chain is the harness's own
(:class:`~gradcheck.invoke.HarnessError`, exit 3). It runs in this process only (the objects
live between forward and backward), so the sandboxed grader refuses it.
"""

from .chain import Composed, composed

__all__ = ["Composed", "composed"]
