"""``gradcheck``: the command line.

Exit codes (the contract in PRODUCT.md): 0 every check passed; 1 the implementation is wrong;
2 the target could not be loaded or the command line is wrong; 3 gradcheck itself failed (a bug
to report). ``--json`` prints exactly one JSON object on stdout and nothing else.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import HELP

if TYPE_CHECKING:
    from .cases import CaseSpec
    from .config import Settings, Source

EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit 2, like argparse, without the usage block
        self.exit(EXIT_USAGE, f"gradcheck: error: {message}\n")


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--widths {text!r} is not a comma-separated list of integers, e.g. 7,5,3,1"
        ) from None
    if len(widths) < 2 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"--widths {text!r} needs at least two widths, each at least 1")
    return widths


def _key_value(text: str) -> str:
    """An argparse type: ``KEY=VALUE`` as typed (the resolver reads it and names it in errors)."""
    from .config import parse_option

    try:
        parse_option(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def whole_number(minimum: int, what: str = "a whole number"):
    """An argparse type: an int of at least ``minimum``, or one line saying what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} of at least {minimum}")
        return value

    return parse


def positive(text: str) -> float:
    """An argparse type: a finite number above zero (``nan`` and ``inf`` are no time limits)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number (finite, above 0)")
    return value


def add_check_command(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check one implementation",
        description="Check one implementation of forward_backward(x, y, W, b).",
    )
    check.set_defaults(run=run_check)
    check.add_argument("target", help="a .py file, a .ipynb notebook, or package.module:attr")
    check.add_argument("--function", help=HELP["function"])
    check.add_argument("--batch", action="store_true", default=None, help=HELP["batch"] + " (default: the spec's)")
    check.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    check.add_argument("--seed", metavar="N", help=HELP["seed"])
    check.add_argument("--max-examples", metavar="N", help=HELP["max_examples"] + "; ignored with --widths")
    check.add_argument("--device", action="append", dest="devices", metavar="D", help=HELP["devices"])
    check.add_argument("--timeout", metavar="S", help=HELP["timeout"])
    check.add_argument(
        "--show-output", action="store_true", help="print what the implementation printed (never with --json)"
    )
    contract = check.add_argument_group(
        "contract",
        "what the implementation computes and how it is called; every option here and above overrides, "
        "field by field, [tool.gradcheck] in ./pyproject.toml, else the seed's",
    )
    contract.add_argument("--spec", metavar="PRESET", help=HELP["spec"])
    contract.add_argument(
        "--spec-option",
        action="append",
        type=_key_value,
        default=[],
        dest="spec_options",
        metavar="KEY=VALUE",
        help=HELP["spec_option"],
    )
    contract.add_argument(
        "--adapter",
        metavar="NAME",
        help=HELP["adapter"],
    )
    contract.add_argument(
        "--adapter-option",
        action="append",
        type=_key_value,
        default=[],
        dest="adapter_options",
        metavar="KEY=VALUE",
        help=HELP["adapter_option"],
    )
    contract.add_argument("--mode", help=HELP["mode"])
    one = check.add_argument_group("one case", "rebuild a single case (what a failure's 'reproduce' line uses)")
    one.add_argument("--widths", type=_widths, help="layer widths n_0,...,n_L, e.g. 7,5,3,1")
    one.add_argument(
        "--dtype", default="float64", choices=["float64", "float32"], help="dtype of the case (default: float64)"
    )
    one.add_argument(
        "--regime",
        default="normal",
        choices=["normal", "saturated", "tiny", "large"],
        help="value regime (default: normal)",
    )
    one.add_argument("--batch-size", type=whole_number(1), default=1, help="B, with --batch (default: 1)")


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand registers itself: ``add_*_command(commands)`` sets ``run`` to its handler."""
    parser = _Parser(
        prog="gradcheck", description="Check hand-written backpropagation against autograd and finite differences."
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_command in _COMMANDS:
        add_command(commands)
    return parser


def command_line_source(args: argparse.Namespace) -> Source:
    """What ``gradcheck check`` was given, as the resolver's highest :class:`~gradcheck.config.Source`."""
    from .config import Source, parse_option

    flags = {"spec": "--spec", "adapter": "--adapter", "mode": "--mode", "function": "--function"}
    flags |= {"seed": "--seed", "max_examples": "--max-examples", "timeout": "--timeout", "devices": "--device"}
    values = {key: getattr(args, key) for key in flags}
    values["spec.batch"], flags["spec.batch"] = args.batch, "--batch"
    for kind, options in (("spec", args.spec_options), ("adapter", args.adapter_options)):
        for text in options:
            key = f"{kind}.{parse_option(text)[0]}"
            values[key], flags[key] = parse_option(text)[1], f"--{kind}-option {text}"
    return Source("(command line)", values, flags, text=True)


def _cases(args: argparse.Namespace, settings: Settings) -> list[CaseSpec] | None:
    """The one case of ``--widths`` on each device, or None: the built-in set, as the settings want it."""
    from .cases import CaseSpec
    from .strategies import available_devices

    if args.widths is None:
        return None
    if args.batch_size > 1 and not settings.spec.batch:
        raise ValueError(f"--batch-size {args.batch_size} needs --batch (or a spec with batch = true)")
    devices = settings.devices or available_devices()
    return [CaseSpec(args.widths, args.batch_size, args.dtype, d, args.regime, settings.seed) for d in devices]


def run_check(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .api import check
    from .config import pyproject_source, resolve, usable_devices
    from .loading import LoadError

    try:
        settings = resolve(command_line_source(args), pyproject_source())
        usable_devices(settings)
        cases = _cases(args, settings)
        search = 0 if cases is not None else None  # a reproduction runs exactly its case
        report = check(args.target, settings=settings, cases=cases, max_examples=search)
    except (LoadError, ValueError) as exc:
        print(f"gradcheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        from .report import to_json

        print(json.dumps(to_json(report), indent=2, default=str))
    else:
        console = Console(highlight=False)
        if args.show_output and report.output:
            console.rule("what the implementation printed")
            console.out(report.output)
            console.rule()
        from .report import render_text

        render_text(report, console)
    return EXIT_OK if report.passed else EXIT_WRONG


from .grading.cli import add_grade_command, add_gradescope_command  # noqa: E402 - they reuse the helpers above

_COMMANDS = [add_check_command, add_grade_command, add_gradescope_command]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("gradcheck: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug in gradcheck itself: one line, its own exit code
        print(f"gradcheck: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
