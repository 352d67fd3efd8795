"""Defaults shared by the API, the CLI and the pytest plugin, in a module that imports nothing.

The plugin is loaded by every pytest run in an environment where gradcheck is installed; keeping
its defaults here lets it stay light (no torch, no hypothesis) until it is actually used.
"""

DEFAULT_FUNCTION = "forward_backward"
DEFAULT_TIMEOUT = 10.0  # seconds one call may take before it counts as a hang
# Examples the hypothesis search tries after the built-in cases: enough to reach, under every
# seed tried (12), each regime-specific bug of tests/mutants_regime that the built-in list
# misses (at 50 some were missed); few enough that a correct implementation takes ~2 s.
DEFAULT_MAX_EXAMPLES = 100
