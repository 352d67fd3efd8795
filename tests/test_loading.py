"""Loading targets: files, notebooks (magics skipped, prints captured) and module:attr."""

import nbformat
import pytest

from gradcheck.loading import IPYTHON_STAND_IN, LoadError, load_target, strip_magics


def notebook(tmp_path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    return str(path)


def test_without_ipython_magic_and_shell_lines_become_pass_keeping_blocks_valid():
    assert strip_magics("%matplotlib inline\nx = 1", ipython=False) == "pass\nx = 1"
    assert strip_magics("if True:\n    !pip list\n", ipython=False) == "if True:\n    pass"
    assert strip_magics("%%bash\necho hi", ipython=False) is None
    assert strip_magics("%%time\ny = 2", ipython=False) == "y = 2"


@pytest.mark.parametrize(
    ("cell", "name", "value"),
    [
        ("files = !ls\nn = 3", "n", 3),
        ("t = %timeit -o f()\nn = 4", "t", None),
        ("len?\nn = 5", "n", 5),
        ("def f():\n    !echo hi\n    return 6\nn = f()", "n", 6),
        ("%%time\nn = 7", "n", 7),
    ],
)
def test_with_ipython_magics_anywhere_in_a_line_run_as_no_ops(cell, name, value):
    pytest.importorskip("IPython", reason="IPython's input transformer is optional")
    namespace: dict = {}
    exec(IPYTHON_STAND_IN, namespace)
    exec(strip_magics(cell), namespace)
    assert namespace[name] == value


def test_a_cell_that_cannot_parse_is_skipped_with_a_warning(tmp_path):
    path = notebook(tmp_path, "x = (1,", "def forward_backward(x, y, W, b):\n    return 1")
    target = load_target(path)
    assert callable(target.function)
    assert any("cell 1 skipped" in w and "SyntaxError" in w for w in target.warnings)


def test_code_is_compiled_with_its_own_future_flags_in_a_registered_module(tmp_path):
    path = tmp_path / "dataclass_impl.py"
    path.write_text(
        "import dataclasses\n\n\n@dataclasses.dataclass\nclass Layer:\n    width: int\n\n\n"
        "def forward_backward(x, y, W, b):\n    return Layer(3).__annotations__, None, None\n"
    )
    annotations, _, _ = load_target(str(path)).function(None, None, None, None)
    assert annotations == {"width": int}  # not the string "int": no harness __future__ flag leaked in


def test_notebook_cells_run_in_order_and_their_prints_are_captured(tmp_path):
    path = notebook(
        tmp_path,
        "%matplotlib inline\nimport torch\nscale = 2",
        "print('hello from the notebook')",
        "def forward_backward(x, y, W, b):\n    return scale",
    )
    target = load_target(path)
    assert target.function(None, None, None, None) == 2
    assert target.output == "hello from the notebook\n" and target.warnings == []


def test_a_failing_demo_cell_is_a_warning_not_a_lost_function(tmp_path):
    path = notebook(tmp_path, "def forward_backward(x, y, W, b):\n    return 1", "forward_backward(undefined, 1, 2, 3)")
    target = load_target(path)
    assert target.function(0, 0, 0, 0) == 1
    assert target.warnings == [
        "cell 2 raised: NameError: name 'undefined' is not defined"
        " (at nb.ipynb [cell 2]:1: forward_backward(undefined, 1, 2, 3))"
    ]


def test_a_function_defined_after_a_failing_cell_is_still_found(tmp_path):
    path = notebook(tmp_path, "1/0", "def forward_backward(x, y, W, b):\n    return 3")
    assert load_target(path).function(0, 0, 0, 0) == 3


def test_a_syntax_error_in_a_cell_names_the_cell(tmp_path):
    path = notebook(tmp_path, "def forward_backward(x, y, W, b)\n    return 3")
    with pytest.raises(LoadError, match=r"cell 1\]:1: SyntaxError"):
        load_target(path)


def test_a_damaged_notebook_is_one_line(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    with pytest.raises(LoadError, match="not a readable notebook"):
        load_target(str(path))


def test_module_attr_and_function_option(tmp_path, monkeypatch):
    (tmp_path / "student_pkg.py").write_text("def fb(x, y, W, b):\n    return 'mine'\n")
    monkeypatch.chdir(tmp_path)
    assert load_target("student_pkg:fb").function(0, 0, 0, 0) == "mine"
    assert load_target(str(tmp_path / "student_pkg.py"), "fb").function_name == "fb"
    with pytest.raises(LoadError, match="cannot import no_such_module_here"):
        load_target("no_such_module_here:fb")


def test_a_file_can_import_a_helper_beside_it(tmp_path):
    (tmp_path / "helpers_beside.py").write_text("VALUE = 7\n")
    (tmp_path / "impl.py").write_text(
        "from helpers_beside import VALUE\ndef forward_backward(x, y, W, b):\n    return VALUE\n"
    )
    assert load_target(str(tmp_path / "impl.py")).function(0, 0, 0, 0) == 7


def test_a_hang_at_load_time_is_a_load_error(tmp_path):
    (tmp_path / "slow.py").write_text("while True:\n    pass\n")
    with pytest.raises(LoadError, match=r"did not return within 0\.3 s"):
        load_target(str(tmp_path / "slow.py"), timeout=0.3)
