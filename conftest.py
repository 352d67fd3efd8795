"""Project-wide test setup: hypothesis profiles.

Pick one with ``--hypothesis-profile NAME`` or ``HYPOTHESIS_PROFILE=NAME``:

* ``default``: hypothesis's own, without its 200 ms deadline (a first call into torch or an
  oracle can take longer, and a deadline failure there says nothing about the code).
* ``dev``: 10 examples, for a quick loop while editing.
* ``ci``: hypothesis loads its built-in ``ci`` profile by itself when ``CI`` is set (derandomized,
  no database, failure blobs printed). It is *extended* here, not replaced, so all of that stays.
* ``thorough``: 1000 examples, for a search before a release.

These govern the project's own ``@given`` tests. The conformance search of ``gradcheck check``
and ``pytest --gradcheck-impl`` sets its own settings (``--max-examples``), so that a profile never
changes a verdict. CUDA tests carry the ``cuda`` marker; the gradcheck plugin skips them, with
the reason, where there is no GPU.
"""

import os

from hypothesis import settings

settings.register_profile("default", settings.get_profile("default"), deadline=None)
settings.register_profile("dev", settings.get_profile("default"), max_examples=10, deadline=None)
settings.register_profile("ci", settings.get_profile("ci"), deadline=None)
settings.register_profile("thorough", settings.get_profile("default"), max_examples=1000, deadline=None)

if "HYPOTHESIS_PROFILE" in os.environ:  # otherwise keep what hypothesis chose: "ci" under CI, else "default"
    settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
