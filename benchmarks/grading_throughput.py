"""Grading throughput: N mixed submissions (correct and buggy, from tests/corpus), each in its
own sandbox, graded with ``--jobs J`` under the default rubric. Measured, never asserted.

    python benchmarks/grading_throughput.py            # 100 submissions, --jobs 2
    python benchmarks/grading_throughput.py --count 20 --jobs 1

The target (docs/architecture.md): 100 submissions in under 5 minutes on a 2-core machine with --jobs 2.
Prints the wall time, the rate, the mean time per submission, the score spread and the
isolation the sandboxes had.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from gradcheck.grading import grade_batch, load_rubric
from gradcheck.grading.assess import limits_for

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def make_submissions(folder: Path, count: int) -> None:
    """``count`` files cycling through the corpus, correct and buggy interleaved (half each)."""
    correct = sorted((CORPUS / "correct").glob("*.py"))
    buggy = sorted((CORPUS / "buggy").glob("*.py"))
    mixed = [path for pair in zip(itertools.cycle(correct), buggy * (count // len(buggy) + 1)) for path in pair]
    for i, path in enumerate(mixed[:count]):
        shutil.copy(path, folder / f"student{i:03d}_{path.stem}.py")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    rubric = load_rubric()
    with tempfile.TemporaryDirectory(prefix="gradcheck-bench-") as tmp:
        folder, out = Path(tmp) / "submissions", Path(tmp) / "out"
        folder.mkdir()
        make_submissions(folder, args.count)
        started = time.perf_counter()
        batch = grade_batch(folder, out, rubric, limits=limits_for(rubric), jobs=args.jobs, stream=sys.stderr)
        wall = time.perf_counter() - started
        scores = [row["score"] for row in batch.rows.values()]
    print(
        f"graded {len(batch.graded)} submissions ({len(batch.errors)} internal errors)"
        f" with --jobs {args.jobs} in {wall:.1f} s"
    )
    print(
        f"  {len(batch.graded) / wall * 60:.1f} submissions per minute;"
        f" {wall / max(len(batch.graded), 1):.2f} s per submission (wall)"
    )
    print(
        f"  scores: min {min(scores):g}, median {statistics.median(scores):g},"
        f" max {max(scores):g} of {rubric.max_score:g}"
    )
    print(f"  hypothesis examples per submission: {rubric.max_examples}; call timeout {rubric.timeout:g} s")
    for line in batch.isolation.describe() if batch.isolation else []:
        print(f"  sandbox: {line}")
    print(f"  target: 100 in 300 s with --jobs 2 -> {'met' if args.count >= 100 and wall < 300 else 'see figures'}")


if __name__ == "__main__":
    main()
