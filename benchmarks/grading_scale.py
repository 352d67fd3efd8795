"""Grading at scale: does the grader's own memory stay flat over a large batch? Measured, never
asserted.

    python benchmarks/grading_scale.py                    # 100 submissions, --jobs 2
    python benchmarks/grading_scale.py --count 500 --max-examples 0

N synthetic submissions (the corpus's correct and buggy files, interleaved, copied under new
names) are graded with ``--jobs J`` by this process. Reported: the wall time, this process's
peak RSS (``getrusage(RUSAGE_SELF)``: the grader, not its workers or sandboxes), its RSS and
traced Python heap (``tracemalloc``) after 10 %, 50 % and 100 % of the submissions (flat is the
goal: nothing kept per submission but its ``grades.csv`` row), and how often each
``results.json`` was written (once each is the goal).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from unittest import mock

from gradcheck.grading import grade as grade_module
from gradcheck.grading import grade_batch, load_rubric, parse_rubric
from gradcheck.grading.assess import limits_for
from gradcheck.grading.rubric import DEFAULT_RUBRIC

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"
CHECKPOINTS = (0.1, 0.5, 1.0)


def make_submissions(folder: Path, count: int) -> None:
    """``count`` files, correct and buggy corpus files interleaved, each under a new name."""
    correct = sorted((CORPUS / "correct").glob("*.py"))
    buggy = sorted((CORPUS / "buggy").glob("*.py"))
    mixed = itertools.chain.from_iterable(zip(itertools.cycle(correct), itertools.cycle(buggy), strict=False))
    for i, path in zip(range(count), mixed, strict=False):
        shutil.copy(path, folder / f"student{i:04d}_{path.stem}.py")


def rss_mib() -> float:
    """This process's resident set now (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


class Sampler:
    """A progress stream that samples memory as submissions finish (one line each, not a tty)."""

    def __init__(self, total: int) -> None:
        self.marks = {max(1, round(total * c)): c for c in CHECKPOINTS}
        self.done = 0
        self.samples: list[tuple[float, int, float, float]] = []

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if text.startswith("["):
            self.done += 1
            if self.done in self.marks:
                heap = tracemalloc.get_traced_memory()[0] / (1 << 20)
                self.samples.append((self.marks[self.done], self.done, rss_mib(), heap))
                print(f"  [{self.done}] RSS {self.samples[-1][2]:.1f} MiB, heap {heap:.2f} MiB", file=sys.stderr)
        return len(text)

    def flush(self) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-examples", type=int, default=None, help="hypothesis examples (default: the rubric's)")
    args = parser.parse_args(argv)
    rubric = load_rubric()
    if args.max_examples is not None:
        rubric = parse_rubric(DEFAULT_RUBRIC.replace("max_examples = 50", f"max_examples = {args.max_examples}"))
    writes: dict[str, int] = {}
    real_write = grade_module.atomic_write

    def counting_write(path: Path, text: str) -> None:
        if path.name == "results.json":
            writes[path.parent.name] = writes.get(path.parent.name, 0) + 1
        real_write(path, text)

    with tempfile.TemporaryDirectory(prefix="gradcheck-scale-") as tmp:
        folder, out = Path(tmp) / "submissions", Path(tmp) / "out"
        folder.mkdir()
        make_submissions(folder, args.count)
        sampler = Sampler(args.count)
        tracemalloc.start()
        started = time.perf_counter()
        with mock.patch.object(grade_module, "atomic_write", counting_write):
            batch = grade_batch(folder, out, rubric, limits=limits_for(rubric), jobs=args.jobs, stream=sampler)
        wall = time.perf_counter() - started
        tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"graded {len(batch.graded)} of {args.count} ({len(batch.errors)} internal errors), --jobs {args.jobs}")
    print(f"  wall {wall:.1f} s ({wall / max(len(batch.graded), 1):.2f} s per submission)")
    print(f"  grader peak RSS {peak:.1f} MiB (RUSAGE_SELF: this process only)")
    for fraction, done, rss, heap in sampler.samples:
        print(f"  after {done:4d} ({fraction:4.0%}): RSS {rss:7.1f} MiB, traced Python heap {heap:6.2f} MiB")
    counts = sorted(set(writes.values()))
    print(f"  results.json writes per submission: {counts} over {len(writes)} submissions")
    print(f"  hypothesis examples per submission: {rubric.max_examples}")
    for line in batch.isolation.describe() if batch.isolation else []:
        print(f"  sandbox: {line}")


if __name__ == "__main__":
    sys.exit(main())
