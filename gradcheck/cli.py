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
from typing import TYPE_CHECKING, Any

from . import version as gradcheck_version
from .cliargs import whole_number
from .config import HELP
from .exitcodes import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, EXIT_WRONG

if TYPE_CHECKING:
    from .cases import CaseSpec
    from .config import Settings, Source

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


def _key_values(group: argparse._ArgumentGroup, kind: str) -> None:
    """``--KIND-option KEY=VALUE``, repeatable: one field of the spec, domain or adapter."""
    group.add_argument(
        f"--{kind}-option",
        action="append",
        type=_key_value,
        default=[],
        dest=f"{kind}_options",
        metavar="KEY=VALUE",
        help=HELP[f"{kind}_option"],
    )


def _key_value(text: str) -> str:
    """An argparse type: ``KEY=VALUE`` as typed (the resolver reads it and names it in errors)."""
    from .config import parse_option

    try:
        parse_option(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_check_command(commands) -> None:
    check = commands.add_parser(
        "check",
        help="check one implementation",
        description="Check one implementation of forward_backward(x, y, W, b).",
        epilog_from=check_epilog,
    )
    check.set_defaults(run=run_check)
    check.add_argument("target", help="a .py file, a .ipynb notebook, or package.module:attr")
    check.add_argument("--function", help=HELP["function"])
    check.add_argument("--batch", action="store_true", default=None, help=HELP["batch"] + " (default: the spec's)")
    check.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    check.add_argument(
        "--html", metavar="FILE", help="also write the report as a self-contained HTML page (heatmaps need [plots])"
    )
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
    for kind in ("spec", "domain"):
        _key_values(contract, kind)
    contract.add_argument(
        "--adapter",
        metavar="NAME",
        help=HELP["adapter"],
    )
    _key_values(contract, "adapter")
    contract.add_argument("--mode", help=HELP["mode"])
    contract.add_argument("--fd", metavar="MODE", help=HELP["fd"])
    contract.add_argument("--fd-memory", metavar="MIB", help=HELP["fd_memory"])
    one = check.add_argument_group("one case", "rebuild a single case (what a failure's 'reproduce' line uses)")
    one.add_argument("--widths", type=_widths, help="layer widths n_0,...,n_L, e.g. 7,5,3,1")
    one.add_argument(
        "--dtype", default="float64", choices=["float64", "float32"], help="dtype of the case (default: float64)"
    )
    one.add_argument(
        "--regime",
        default="normal",
        type=_regime,
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


def _regime(text: str) -> str:
    """An argparse type: a regime name (:data:`gradcheck.cases.REGIMES`, looked up only when given)."""
    from .cases import REGIMES

    if text not in REGIMES:
        raise argparse.ArgumentTypeError(f"{text!r} is not a regime ({', '.join(REGIMES)})")
    return text


def command_line_source(args: argparse.Namespace) -> Source:
    """What ``gradcheck check`` was given, as the resolver's highest :class:`~gradcheck.config.Source`."""
    from .config import Source, parse_option

    flags = {"spec": "--spec", "adapter": "--adapter", "mode": "--mode", "function": "--function"}
    flags |= {"fd": "--fd", "fd_memory": "--fd-memory"}
    flags |= {"seed": "--seed", "max_examples": "--max-examples", "timeout": "--timeout", "devices": "--device"}
    values = {key: getattr(args, key) for key in flags}
    values["spec.batch"], flags["spec.batch"] = args.batch, "--batch"
    for kind, options in (
        ("spec", args.spec_options),
        ("adapter", args.adapter_options),
        ("domain", args.domain_options),
    ):
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
    domain = settings.case_domain
    targets = domain.targets  # the one case keeps the domain's kind of targets
    leading = domain.leading[0] if len(domain.leading) == 1 else ()  # a layer op's one input shape
    return [
        CaseSpec(
            args.widths, args.batch_size, args.dtype, d, args.regime, settings.seed, targets=targets, leading=leading
        )
        for d in devices
    ]


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
    from .config import pyproject_source, resolve, usable_devices
    from .invoke import HarnessError
    from .loading import LoadError
    from .threads import few_threads, parameter_count

    try:
        settings = resolve(command_line_source(args), pyproject_source())
        usable_devices(settings)
        cases = _cases(args, settings)
        search = 0 if cases is not None else None  # a reproduction runs exactly its case
        with few_threads(None if args.widths is None else parameter_count(args.widths)):
            report = check(args.target, settings=settings, cases=cases, max_examples=search)
    except (LoadError, ValueError) as exc:
        print(f"gradcheck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HarnessError as exc:  # an adapter that cannot apply (2) or failed inside (3): never the code's verdict
        print(f"gradcheck: {exc}", file=sys.stderr)
        return exc.exit_code
    if args.html:
        from .reports import write_html

        try:
            write_html(report, args.html)
        except OSError as exc:
            print(f"gradcheck: --html {args.html}: cannot write it ({exc.strerror or exc})", file=sys.stderr)
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


def _grading_commands(commands) -> None:
    """``grade``, ``gradescope`` and ``prairielearn``, imported only when the parser is built."""
    from .grading.cli import add_grade_command, add_gradescope_command, add_prairielearn_command

    for add_command in (add_grade_command, add_gradescope_command, add_prairielearn_command):
        add_command(commands)


_COMMANDS = [add_check_command, _grading_commands]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("gradcheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - a bug in gradcheck itself: one line, its own exit code
        print(f"gradcheck: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
