"""Adapters: call an implementation written in another layout as ``forward_backward(x, y, W, b)``.

The checker works in one canonical layout (column vectors ``x [n_0, B]``, ``W [out, in]``,
``b [out, 1]``, lists of per-layer tensors). Most code in the wild does not: row-major batches,
W stored as ``[in, out]``, numpy arrays, parameters in a dict, a flat vector or an object's
attributes. An :class:`Adapter` is a *configuration*, not code per course, and :func:`wrap` turns
an implementation plus an adapter into a canonical function, so every check, oracle, report and
diagnosis works unchanged and failures still name the canonical layer and parameter.

One module per step, each explaining the adapter fields it reads:

- :mod:`.adapter`: the :class:`Adapter` and its validation; :mod:`.named`: :data:`ADAPTERS`, the
  named configurations for the common shapes, and :func:`get_adapter`;
- :mod:`.layout`: one tensor to the implementation's layout and its gradient back;
- :mod:`.binding`: every argument the implementation might take, from one case;
- :mod:`.calling`: the call, described as data; :mod:`.perform`: the call made, here or inside
  the grader's sandbox (it imports only the standard library, so the sandbox can run a copy);
- :mod:`.extraction`: the gradients read back, in the canonical layout;
- :mod:`.composition`: per-layer objects chained by the harness;
- :mod:`.wrapping`: :func:`wrap`, the steps put together.

The package is part of the core: it imports nothing from the faces (command line, plugin,
grader, sandbox); the sandbox imports :mod:`.perform` from here.
"""

from .adapter import Adapter
from .named import ADAPTERS, get_adapter
from .wrapping import wrap

__all__ = ["ADAPTERS", "Adapter", "get_adapter", "wrap"]
