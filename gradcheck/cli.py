"""``gradcheck``: the command line.

Exit codes (docs/exit-codes.md; :data:`CHECK_EXIT_CODES`, which ``check --help`` prints): 0 every
check passed; 1 the implementation is wrong; 2 the target could not be loaded or the command line
is wrong; 3 gradcheck itself failed (a bug to report). ``--json`` prints exactly one JSON object
on stdout and nothing else, in UTF-8 (docs/json.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from . import version as gradcheck_version
from .cliargs import positive, whole_number
from .defaults import DEFAULT_MAX_EXAMPLES
from .exitcodes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_WRONG
from .grading.cli import add_grade_command, add_gradescope_command

# What each exit code of ``gradcheck check`` means: printed by ``check --help``, documented in
# docs/exit-codes.md (tests/test_docs.py keeps the two equal).
CHECK_EXIT_CODES = {
    EXIT_OK: "every check passed",
    EXIT_WRONG: "the implementation is wrong: a failed check, an exception it raised, a hang, a wrong return type",
    EXIT_USAGE: "the target could not be loaded (missing file, syntax error, no such function, not callable, "
    "an error or hang at import), or the command line is wrong",
    EXIT_INTERNAL: "gradcheck itself failed: a bug, please report it",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors, and an epilog built only when help is shown.

    ``epilog_from`` builds the epilog from the registries (presets, adapters) at ``--help`` time,
    so that parsing a command line imports none of them; it is printed as it is, lines kept.
    """

    def __init__(self, *args: Any, epilog_from: Callable[[], str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.epilog_from = epilog_from

    def format_help(self) -> str:
        text = super().format_help()
        return text if self.epilog_from is None else f"{text}\n{self.epilog_from()}\n"

    def error(self, message: str):  # one line and exit 2, like argparse, without the usage block
        self.exit(EXIT_USAGE, f"gradcheck: error: {message}\n")


def _listing(title: str, names: Sequence[str]) -> str:
    """``title:`` then the names, comma-separated, wrapped under a two-space indent."""
    return f"{title}:\n" + textwrap.fill(
        ", ".join(names), width=78, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
    )


def check_epilog() -> str:
    """``check --help``'s epilog: the presets and adapters by name, and the exit codes."""
    from .adapters import ADAPTERS
    from .presets import PRESETS

    codes = [
        textwrap.fill(meaning, width=78, initial_indent=f"  {code:<4}", subsequent_indent=" " * 6)
        for code, meaning in CHECK_EXIT_CODES.items()
    ]
    return "\n\n".join(
        [
            _listing("presets (--spec)", list(PRESETS)),
            _listing("adapters (--adapter)", list(ADAPTERS)),
            "exit codes:\n" + "\n".join(codes),
        ]
    )


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


def add_check_command(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check one implementation",
        description="Check one implementation of forward_backward(x, y, W, b).",
        epilog_from=check_epilog,
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
        "--spec", metavar="PRESET", help="a named specification, e.g. cs231n-two-layer (all listed below)"
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
        help="call an implementation in another layout, e.g. cs231n, nielsen, numpy (all listed below)",
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {gradcheck_version()}")
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


def print_json(document: dict) -> None:
    """``document`` on stdout as UTF-8 JSON, whatever the locale (RFC 8259 requires UTF-8), with
    δ and σ′ written as themselves rather than ``\\u`` escapes."""
    text = json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n"
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (a test's StringIO): it takes str
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


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
    if args.json:
        from .report import to_json

        print_json(to_json(report))
    else:
        console = Console(highlight=False)
        if args.show_output and report.output:
            console.rule("what the implementation printed")
            console.out(report.output)
            console.rule()
        from .report import render_text

        render_text(report, console)
    return EXIT_OK if report.passed else EXIT_WRONG


_COMMANDS = [add_check_command, add_grade_command, add_gradescope_command]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("gradcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug in gradcheck itself: one line, its own exit code
        print(f"gradcheck: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
