"""The documents in docs/ say what the code does: every id, exit code, JSON field and rubric key
the code defines is documented, and nothing documented is missing from the code.

Each test reads the vocabulary from the code (or from the parser's own error message), and the
documented one from the page's tables, so a new id, key or field without its documentation fails
here, and so does documentation of something the code no longer has.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import json
import pathlib
import re
import subprocess

import pytest

from gradcheck.adapters import Adapter
from gradcheck.checker import CHECKS
from gradcheck.cli import CHECK_EXIT_CODES
from gradcheck.diagnosis import DIAGNOSIS_IDS
from gradcheck.grading.rubric import RubricError, parse_rubric
from gradcheck.spec import Spec

ROOT = pathlib.Path(__file__).parent.parent
DOCS = ROOT / "docs"
PAGES = ("json.md", "exit-codes.md", "diagnosis-ids.md", "rubric.md", "architecture.md")


def read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a markdown heading line), up to the next heading of any level."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#+ ", text[start:], re.M)
    return text[start : start + following.start()] if following else text[start:]


def first_column(text: str) -> list[str]:
    """The backquoted names in the first column of every table row (header and rule excluded)."""
    return re.findall(r"^\| `([^`]+)` \|", text, re.M)


# -- diagnosis ids --------------------------------------------------------------------------------


def test_every_diagnosis_id_is_documented_and_every_documented_id_exists():
    documented = first_column(read("diagnosis-ids.md"))
    assert len(documented) == len(set(documented)), "an id is listed twice"
    assert set(documented) == set(DIAGNOSIS_IDS)


def _emitted_ids() -> set[str]:
    """Every id the diagnosis code can write: the literal first argument of each
    ``Explanation(...)``, and every kebab-case string literal that is not a check's name."""
    kebab = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)+$")
    found: set[str] = set()
    for path in (ROOT / "gradcheck" / "diagnosis").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Explanation" and node.args:
                if isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                    found.add(node.args[0].value)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and kebab.match(node.value):
                if node.value not in CHECKS:
                    found.add(node.value)
    return found


def test_every_id_the_diagnosis_code_writes_is_a_defined_and_documented_id():
    emitted = _emitted_ids()
    assert {"layer0-uses-wrong-input", "timeout", "unclassified"} <= emitted  # the scan sees them
    assert emitted <= set(DIAGNOSIS_IDS)
    assert emitted <= set(first_column(read("diagnosis-ids.md")))


# -- exit codes -----------------------------------------------------------------------------------


def test_the_check_commands_exit_codes_are_the_codes():
    table = section(read("exit-codes.md"), "## `gradcheck check`")
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+) \|$", table, re.M))
    assert {int(code): meaning for code, meaning in rows.items()} == CHECK_EXIT_CODES


# -- the JSON contract ----------------------------------------------------------------------------


def _schema() -> dict:
    return json.loads((ROOT / "gradcheck" / "schemas" / "report.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("heading", "where"),
    [
        ("## The top level", ()),
        ("## A check summary (`checks[]`)", ("$defs", "check")),
        ("## A failure (`failures[]`)", ("$defs", "failure")),
        ("## A case (`failures[].case`, `cases_skipped[]`)", ("$defs", "case")),
    ],
)
def test_every_json_field_is_documented_and_every_documented_field_is_in_the_schema(heading, where):
    node = _schema()
    for key in where:
        node = node[key]
    documented = first_column(section(read("json.md"), heading))
    assert documented == list(node["properties"]), f"{heading}: the table's rows, in the schema's order"


def test_json_md_names_the_schema_file_it_describes():
    assert "gradcheck/schemas/report.schema.json" in read("json.md")


# -- the rubric -----------------------------------------------------------------------------------

_TEST = '[[tests]]\nname = "t"\nchecks = ["loss-value"]\n'


def _known_keys(rubric: str) -> set[str]:
    """The keys the parser accepts where ``zzz_unknown`` stands, from its own error message."""
    with pytest.raises(RubricError) as error:
        parse_rubric(rubric)
    known = re.search(r"\(known: ([^)]*)\)", str(error.value))
    assert known, str(error.value)
    return {k.strip() for k in known.group(1).split(",")}


@pytest.mark.parametrize(
    ("heading", "rubric"),
    [
        ("## Top level", f"zzz_unknown = 1\n{_TEST}"),
        ("## `[sandbox]`", f"[sandbox]\nzzz_unknown = 1\n{_TEST}"),
        ("## `[[tests]]`", f"{_TEST}zzz_unknown = 1\n"),
        ("## `[[policies]]`", f'{_TEST}[[policies]]\nrule = "forbid-autograd"\nzzz_unknown = 1\n'),
    ],
)
def test_every_rubric_key_the_parser_accepts_is_documented(heading, rubric):
    documented = first_column(section(read("rubric.md"), heading))
    assert set(documented) == _known_keys(rubric), heading


@pytest.mark.parametrize(
    ("heading", "fields", "extra"),
    [("## `spec` as a table", Spec, "preset"), ("## `adapter` as a table", Adapter, "name")],
)
def test_every_spec_and_adapter_field_is_documented_for_rubric_tables(heading, fields, extra):
    documented = first_column(section(read("rubric.md"), heading))
    assert set(documented) == {f.name for f in dataclasses.fields(fields)} | {extra}


# -- the documents stand alone ---------------------------------------------------------------------


def _resolves(dotted: str) -> bool:
    """Whether ``a.b.c`` is a module, or a module's attribute (chain)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:n]))
        except ImportError:
            continue
        for name in parts[n:]:
            if not hasattr(value, name):
                return False
            value = getattr(value, name)
        return True
    return False


def test_every_name_the_docs_give_in_code_exists():
    """Every ```gradcheck.x.y``` a page names is a module or a name in one, so renames show up here."""
    named = {(page, dotted) for page in PAGES for dotted in re.findall(r"`(gradcheck(?:\.\w+)+)", read(page))}
    assert len(named) > 10  # the scan sees them
    missing = [f"docs/{page}: {dotted}" for page, dotted in sorted(named) if not _resolves(dotted)]
    assert missing == []


def test_the_readme_links_every_page_and_every_link_resolves():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"](docs/{page})" in readme, page
    for page in PAGES:
        for link in re.findall(r"\]\(([^)#:]+)\)", read(page)):
            assert (DOCS / link).resolve().exists(), f"docs/{page} links {link}, which does not exist"


def test_nothing_in_the_repository_cites_documents_outside_it():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    outside = re.compile(r"PRODUCT\.md|real-clients\.md|shared/research")
    citing = [
        path
        for path in tracked
        if (ROOT / path).is_file()
        and path.endswith((".py", ".md", ".toml", ".txt", ".cfg", ".sh"))
        and path != "tests/test_docs.py"
        and outside.search((ROOT / path).read_text(encoding="utf-8", errors="replace"))
    ]
    assert citing == []


def test_the_changelog_keeps_an_unreleased_section_and_the_current_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    from gradcheck import __version__

    assert "## [Unreleased]" in changelog and f"## [{__version__}]" in changelog
