"""The conformance suite against the reference implementation: the project's own run of it.

``pytest --gradcheck-impl TARGET`` runs the same suite against any other implementation.
"""

import pytest

from gradcheck.conformance import Conformance
from gradcheck.spec import Spec


class TestReference(Conformance):
    """The seed's single-instance contract."""

    @pytest.fixture(scope="class")
    @classmethod
    def gradcheck_impl(cls):
        return "reference_impl:forward_backward"


class TestReferenceBatched(TestReference):
    """The batched contract: x is [n_0, B], bias gradients summed over B."""

    @pytest.fixture(scope="class")
    @classmethod
    def gradcheck_spec(cls):
        return Spec(batch=True)
