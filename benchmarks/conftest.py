"""Benchmarks print ratios side by side at the end of the run; they never assert a time."""

import pytest

_TIMES: dict[tuple[str, str], float] = {}


@pytest.fixture
def record_time():
    """Remember a benchmark's median under (group, name) for the ratio table."""

    def record(group: str, name: str, benchmark) -> None:
        _TIMES[(group, name)] = benchmark.stats.stats.median

    return record


def pytest_terminal_summary(terminalreporter):
    groups = sorted({g for g, _ in _TIMES})
    for group in groups:
        times = {n: t for (g, n), t in _TIMES.items() if g == group}
        fastest = min(times.values())
        terminalreporter.section(f"ratios: {group}")
        for name, t in sorted(times.items(), key=lambda kv: kv[1]):
            terminalreporter.write_line(f"{name:40s} {t * 1e3:10.2f} ms (median)  {t / fastest:8.1f}x the fastest")
