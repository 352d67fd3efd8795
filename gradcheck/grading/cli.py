"""The ``grade``, ``gradescope`` and ``prairielearn`` subcommands (registered in :data:`gradcheck.cli._COMMANDS`).

Kept light: nothing heavy is imported until a handler runs, so ``gradcheck check`` pays nothing.
Exit codes: 0 the batch ran (whatever the students scored); 2 bad command line, rubric or
folder; 3 gradcheck failed on some submission (those are not written, so a rerun retries them).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["add_grade_command", "add_gradescope_command", "add_prairielearn_command"]


def _sandbox_options(parser: argparse.ArgumentParser) -> None:
    from ..cli import positive, whole_number

    parser.add_argument(
        "--rubric", metavar="FILE", help="a TOML rubric (default: the seed assignment's built-in rubric)"
    )
    parser.add_argument(
        "--timeout", type=positive, metavar="S", help="seconds one call may take (default: the rubric's, 10)"
    )
    parser.add_argument(
        "--memory",
        type=whole_number(256, "a memory size in MB"),
        metavar="MB",
        help="heap limit of each submission's process (default: the rubric's, 1024)",
    )


def add_grade_command(commands) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions in sandboxes",
        description="Grade every .py/.ipynb file (or student folder) in SUBMISSIONS, each in its own sandbox, into DIR: grades.csv, and <submission>/results.json (Gradescope's format) and feedback.md.",
    )
    grade.set_defaults(run=run_grade)
    grade.add_argument(
        "submissions", metavar="SUBMISSIONS", help="a folder of .py/.ipynb files, or of one folder per student"
    )
    grade.add_argument("--out", required=True, metavar="DIR", help="where the grades go (created; reruns resume there)")
    _sandbox_options(grade)
    from ..cli import whole_number

    grade.add_argument(
        "--jobs",
        type=whole_number(1, "a number of workers"),
        default=1,
        metavar="N",
        help="submissions graded at once (default: 1)",
    )
    grade.add_argument("--regrade", action="store_true", help="grade again what DIR already holds grades for")


def add_gradescope_command(commands) -> None:
    gradescope = commands.add_parser(
        "gradescope",
        help="grade one submission inside Gradescope's autograder",
        description="Grade ROOT/submission into ROOT/results/results.json (Gradescope's layout); the rubric defaults to ROOT/source/rubric.toml, else the built-in one.",
    )
    gradescope.set_defaults(run=run_gradescope_command)
    gradescope.add_argument("--root", default="/autograder", help="the autograder's root folder (default: /autograder)")
    _sandbox_options(gradescope)


def add_prairielearn_command(commands) -> None:
    prairielearn = commands.add_parser(
        "prairielearn",
        help="grade one submission inside PrairieLearn's external grader",
        description="Grade ROOT/student into ROOT/results/results.json (PrairieLearn's external-grading layout); "
        "the rubric defaults to ROOT/tests/rubric.toml, else the built-in one.",
    )
    prairielearn.set_defaults(run=run_prairielearn_command)
    prairielearn.add_argument("--root", default="/grade", help="the grading job's root folder (default: /grade)")
    _sandbox_options(prairielearn)


def run_grade(args: argparse.Namespace) -> int:
    from ..cli import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
    from .assess import limits_for
    from .grade import GradeError, grade_batch
    from .rubric import RubricError, load_rubric

    try:
        rubric = load_rubric(args.rubric)
        limits = limits_for(rubric, timeout=args.timeout, memory_mb=args.memory)
        batch = grade_batch(
            args.submissions,
            args.out,
            rubric,
            limits=limits,
            jobs=args.jobs,
            regrade=args.regrade,
            rubric_path=args.rubric,
        )
    except (RubricError, GradeError) as exc:
        print(f"gradcheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(
        f"gradcheck: graded {len(batch.graded)}, skipped {len(batch.skipped)} already graded, {len(batch.errors)} internal error(s), "
        f"in {batch.seconds:.1f} s; grades in {args.out}/grades.csv",
        file=sys.stderr,
    )
    if batch.isolation is not None:
        for line in batch.isolation.describe():
            print(f"  sandbox: {line}", file=sys.stderr)
    for name, error in batch.errors.items():
        print(f"gradcheck: internal error on {name}: {error} (please report this)", file=sys.stderr)
    return EXIT_INTERNAL if batch.errors else EXIT_OK


def run_gradescope_command(args: argparse.Namespace) -> int:
    from .gradescope import run_gradescope

    return run_gradescope(args.root, rubric_path=args.rubric, timeout=args.timeout, memory_mb=args.memory)


def run_prairielearn_command(args: argparse.Namespace) -> int:
    from .prairielearn import run_prairielearn

    return run_prairielearn(args.root, rubric_path=args.rubric, timeout=args.timeout, memory_mb=args.memory)
