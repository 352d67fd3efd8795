"""pytest plugin: ``pytest --gradcheck-impl TARGET`` (filled in by the conformance-suite work)."""


def pytest_addoption(parser):
    group = parser.getgroup("gradcheck", "gradient checking of backprop implementations")
    group.addoption("--gradcheck-impl", default=None, help="implementation to check: file.py, notebook.ipynb or module:attr")
