"""``gradcheck``: the command line.

Exit codes (the contract in PRODUCT.md): 0 every check passed; 1 the implementation is wrong;
2 the target could not be loaded or the command line is wrong; 3 gradcheck itself failed (a bug
to report). ``--json`` prints exactly one JSON object on stdout and nothing else.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .defaults import DEFAULT_MAX_EXAMPLES

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


def _key_value(text: str) -> tuple[str, object]:
    from .config import parse_value

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE, e.g. layout=row")
    return key.strip(), parse_value(value.strip())


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
    """An argparse type: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def add_check_command(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check one implementation",
        description="Check one implementation of forward_backward(x, y, W, b).",
    )
    check.set_defaults(run=run_check)
    check.add_argument("target", help="a .py file, a .ipynb notebook, or package.module:attr")
    check.add_argument(
        "--function",
        default="forward_backward",
        help="the function to check in a file or module (default: forward_backward)",
    )
    check.add_argument(
        "--batch", action="store_true", help="also check batches (x is [n_0, B], bias gradients summed over B)"
    )
    check.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    check.add_argument(
        "--html", metavar="FILE", help="also write the report as a self-contained HTML page (heatmaps need [plots])"
    )
    check.add_argument("--seed", type=int, default=0, help="seed for the cases' values and the search (default: 0)")
    check.add_argument(
        "--max-examples",
        type=whole_number(0),
        default=DEFAULT_MAX_EXAMPLES,
        metavar="N",
        help=f"cases hypothesis tries after the built-in ones, shrinking any failure (default: {DEFAULT_MAX_EXAMPLES}; 0: built-in cases only; ignored with --widths)",
    )
    check.add_argument(
        "--device",
        action="append",
        dest="devices",
        metavar="D",
        help="device to check on, repeatable (default: cpu, and cuda where available)",
    )
    check.add_argument(
        "--timeout",
        type=positive,
        default=10.0,
        help="seconds one call may take before it counts as a hang (default: 10)",
    )
    check.add_argument(
        "--show-output", action="store_true", help="print what the implementation printed (never with --json)"
    )
    contract = check.add_argument_group(
        "contract",
        "what the implementation computes and how it is called (default: [tool.gradcheck] in ./pyproject.toml, else the seed's)",
    )
    contract.add_argument(
        "--spec", metavar="PRESET", help="a named specification, e.g. cs231n-two-layer (see gradcheck.presets)"
    )
    contract.add_argument(
        "--spec-option",
        action="append",
        type=_key_value,
        default=[],
        dest="spec_options",
        metavar="KEY=VALUE",
        help="set one field of the specification, repeatable, e.g. l2=0 or hidden=tanh (values as in [tool.gradcheck.spec]; see gradcheck.spec.Spec)",
    )
    contract.add_argument(
        "--adapter",
        metavar="NAME",
        help="call an implementation in another layout, e.g. cs231n, nielsen, numpy (see gradcheck.adapters)",
    )
    contract.add_argument(
        "--adapter-option",
        action="append",
        type=_key_value,
        default=[],
        dest="adapter_options",
        metavar="KEY=VALUE",
        help='set one field of the adapter, repeatable, e.g. layout=row or \'returns=["loss", "grads"]\' (values as in [tool.gradcheck.adapter]; see gradcheck.adapters.Adapter)',
    )
    contract.add_argument(
        "--mode",
        choices=["spec", "self", "both"],
        help="judge values against the spec, the implementation's own loss, or both (default: spec)",
    )
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


def _devices(requested: Sequence[str] | None) -> tuple[str, ...]:
    import torch

    from .api import available_devices

    if not requested:
        return available_devices()
    for device in requested:
        try:
            torch.empty(0, device=device)
        except Exception as exc:  # an unknown or unavailable device
            raise ValueError(f"--device {device}: not usable here ({str(exc).splitlines()[0]})") from None
    return tuple(requested)


def _cases(args: argparse.Namespace, devices: tuple[str, ...]):
    from .cases import CaseSpec, builtin_cases

    if args.widths is None:
        return builtin_cases(seed=args.seed, batch=args.batch, devices=devices)
    if args.batch_size > 1 and not args.batch:
        raise ValueError(f"--batch-size {args.batch_size} needs --batch")
    return [CaseSpec(args.widths, args.batch_size, args.dtype, d, args.regime, args.seed) for d in devices]


def run_check(args: argparse.Namespace) -> int:
    from rich.console import Console

    from .api import check
    from .loading import LoadError

    try:
        devices = _devices(args.devices)
        cases = _cases(args, devices)
        max_examples = 0 if args.widths else args.max_examples  # a reproduction runs exactly its case
        from .config import resolve_settings

        spec = {"preset": args.spec or "seed", **dict(args.spec_options)} if args.spec_options else args.spec
        adapter = (
            {"name": args.adapter or "canonical", **dict(args.adapter_options)}
            if args.adapter_options
            else args.adapter
        )
        settings = resolve_settings(spec=spec, adapter=adapter, mode=args.mode)
        if args.widths is None and (settings.spec.batch or settings.adapter is not None):
            cases = None  # the built-in set, as the spec (batches) and adapter (depth) want it
        report = check(
            args.target,
            function=args.function,
            batch=args.batch or None,
            seed=args.seed,
            devices=devices,
            cases=cases,
            timeout=args.timeout,
            max_examples=max_examples,
            spec=settings.spec,
            adapter=settings.adapter,
            mode=settings.mode,
        )
    except (LoadError, ValueError) as exc:
        print(f"gradcheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.html:
        from .reports import write_html

        try:
            write_html(report, args.html)
        except OSError as exc:
            print(f"gradcheck: --html {args.html}: cannot write it ({exc.strerror or exc})", file=sys.stderr)
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


from .grading.cli import (  # noqa: E402 - they reuse the helpers above
    add_grade_command,
    add_gradescope_command,
    add_prairielearn_command,
)

_COMMANDS = [add_check_command, add_grade_command, add_gradescope_command, add_prairielearn_command]


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
