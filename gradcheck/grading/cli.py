"""The ``grade``, ``gradescope`` and ``prairielearn`` subcommands (registered in :data:`gradcheck.cli._COMMANDS`).

Kept light: nothing heavy is imported until a handler runs, so ``gradcheck check`` pays nothing.
Exit codes: 0 the batch ran (whatever the students scored; refused entries included); 2 bad
command line, rubric or folder (one line); 3 gradcheck failed on some submission (its row says
so, score 0, and a rerun retries it).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..cliargs import positive, whole_number
from ..exitcodes import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from .vet import Caps

__all__ = ["add_grade_command", "add_gradescope_command", "add_prairielearn_command"]


def _sandbox_options(parser: argparse.ArgumentParser) -> None:
    from .vet import Caps

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
    parser.add_argument(
        "--max-file-mb",
        type=positive,
        default=Caps.max_file_mb,
        metavar="MB",
        help=f"largest entry file (.py/.ipynb) the grader reads; larger ones earn 0 (default: {Caps.max_file_mb:g})",
    )
    parser.add_argument(
        "--max-cells",
        type=whole_number(1, "a number of cells"),
        default=Caps.max_cells,
        metavar="N",
        help=f"most cells a notebook may have; more earn 0 (default: {Caps.max_cells})",
    )


def _caps(args: argparse.Namespace) -> Caps:
    from .vet import Caps

    return Caps(max_file_mb=args.max_file_mb, max_cells=args.max_cells)


def add_grade_command(commands) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade a folder of submissions in sandboxes",
        description="Grade every .py/.ipynb file (or student folder) in SUBMISSIONS, each in its own sandbox, "
        "into DIR: grades.csv, and <submission>/results.json (Gradescope's format) and feedback.md.",
    )
    grade.set_defaults(run=run_grade)
    grade.add_argument(
        "submissions", metavar="SUBMISSIONS", help="a folder of .py/.ipynb files, or of one folder per student"
    )
    grade.add_argument("--out", required=True, metavar="DIR", help="where the grades go (created; reruns resume there)")
    _sandbox_options(grade)
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
        description="Grade ROOT/submission into ROOT/results/results.json (Gradescope's layout); "
        "the rubric defaults to ROOT/source/rubric.toml, else the built-in one.",
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
            caps=_caps(args),
        )
    except (RubricError, GradeError) as exc:
        print(f"gradcheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .escape import safe_name, safe_text

    print(
        f"gradcheck: graded {len(batch.graded)}, skipped {len(batch.skipped)} already graded, "
        f"refused {len(batch.refused)}, {len(batch.errors)} internal error(s), "
        f"in {batch.seconds:.1f} s; grades in {safe_name(args.out)}/grades.csv",
        file=sys.stderr,
    )
    if batch.isolation is not None:
        for line in batch.isolation.describe():
            print(f"  sandbox: {line}", file=sys.stderr)
    for name, error in batch.errors.items():
        print(
            f"gradcheck: internal error on {safe_name(name)}: {safe_text(error)} (please report this)", file=sys.stderr
        )
    return EXIT_INTERNAL if batch.errors else EXIT_OK


def run_gradescope_command(args: argparse.Namespace) -> int:
    from .gradescope import run_gradescope

    return run_gradescope(
        args.root, rubric_path=args.rubric, timeout=args.timeout, memory_mb=args.memory, caps=_caps(args)
    )


def run_prairielearn_command(args: argparse.Namespace) -> int:
    from .prairielearn import run_prairielearn

    return run_prairielearn(args.root, rubric_path=args.rubric, timeout=args.timeout, memory_mb=args.memory)
