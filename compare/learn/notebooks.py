"""`rnn-parity notebooks`: the tutorial pair and the gated walkthrough as Jupyter notebooks.

Learners of this field work in notebooks. The two tutorial programs (keras_impl/tutorial.py,
torch_impl/tutorial.py) become `tutorial_keras.ipynb` and `tutorial_torch.ipynb`, cut at their
step comments when the command runs (the cutting rules are `compare.learn.tutorial_page`'s), so
a notebook can never drift from its program; `gates_by_hand.ipynb` holds the LSTM and GRU
walkthroughs (`compare.learn.gates`) with the hand computations' own source as cells a learner
edits and re-runs. Notebooks are built with nbformat, never written as JSON by hand, and never
committed: this command writes them.

A tutorial notebook holds every line of its program except `def main(argv=None):` and the
`__main__` guard: the program's imports, a parameter cell `argv = [...]` that main()'s own
argparse lines read, then each step. One cell is the notebook's own, `%matplotlib inline`,
since the program draws with the file-only Agg backend.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from importlib.util import find_spec
from pathlib import Path

from compare.learn.factor_notes import why_they_differ
from compare.learn.tutorial_page import MARKER, PROGRAMS, STEP_NOTES, check_twins, split_steps

NAMES = {"keras": "Keras 3", "torch": "PyTorch Lightning"}
FILES = ("tutorial_keras.ipynb", "tutorial_torch.ipynb", "gates_by_hand.ipynb")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def program_source(name: str) -> str:
    """A tutorial program's source, read from its file without importing any framework."""
    package, module = PROGRAMS[name].split(".")
    origin = find_spec(package).origin  # a top-level spec: the package is not imported
    return (Path(origin).parent / f"{module}.py").read_text()


def _preamble(tree: ast.Module, lines: list[str]) -> str:
    """The module's statements after its docstring up to its first definition (the imports)."""
    body = tree.body[1:] if ast.get_docstring(tree) is not None else tree.body
    leading = []
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef | ast.If):
            break
        leading.append(stmt)
    return "\n".join(lines[leading[0].lineno - 1 : leading[-1].end_lineno])


def _main_setup(tree: ast.Module, lines: list[str]) -> str:
    """main()'s statements before its first step comment (arguments, folder, seeds), dedented."""
    main = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "main"
    )
    markers = [n for n, line in enumerate(lines, 1) if MARKER.match(line) and n > main.lineno]
    end = markers[0] if markers else main.end_lineno + 1
    return textwrap.dedent("\n".join(lines[main.body[0].lineno - 1 : end - 1])).strip("\n")


def tutorial_cells(name: str, source: str, epochs: int, seed: int, titles: list[str]) -> list:
    """The notebook cells of one tutorial program, in the program's order."""
    import nbformat.v4 as nbf

    lines, tree = source.splitlines(), ast.parse(source)
    steps = split_steps(source, PROGRAMS[name])
    file = PROGRAMS[name].replace(".", "/") + ".py"
    parameters = nbf.new_code_cell(
        f'argv = ["--epochs", "{epochs}", "--seed", "{seed}", "--out", "."]'
    )
    parameters.metadata["tags"] = ["parameters"]  # papermill's convention for parameter cells
    cells = [
        nbf.new_markdown_cell(
            f"# The tutorial in {NAMES[name]}\n\n"
            f"*Understanding Simple Recurrent Neural Networks in Keras*, whole: every cell is cut "
            f"from `{file}` at its step comments by `rnn-parity notebooks`, so it is the code "
            f"the program runs (`python -m {PROGRAMS[name]}`). Edit a cell and re-run it."
        ),
        nbf.new_code_cell(_preamble(tree, lines)),
        nbf.new_code_cell(
            "# the notebook's own cell: show plots here (Agg only writes files)\n%matplotlib inline"
        ),
        nbf.new_markdown_cell(
            "The program's command-line arguments: `main()`'s own argparse lines below read them."
        ),
        parameters,
        nbf.new_code_cell(_main_setup(tree, lines)),
    ]
    # the program defines these before main() runs, and a step may use a later step's
    # definition (Keras's Part 1a calls Step 4's create_RNN), so they all come first
    definitions = [step for step in steps if step.top_level]
    cells.insert(3, nbf.new_markdown_cell("## The program's definitions (used by the steps)"))
    cells[4:4] = [nbf.new_code_cell(step.code) for step in definitions]
    for title in titles:
        key = MARKER.match(f"# {title}")["key"]
        cells.append(nbf.new_markdown_cell(f"## {title}\n\n{STEP_NOTES.get(key, '')}".rstrip()))
        cells += [
            nbf.new_code_cell(step.code)
            for step in steps
            if step.title == title and not step.top_level
        ]
    return cells


GATED_SECTIONS = [
    ("lstm", '"lstm"', "lstm_by_hand(layer.W, layer.U, layer.b, layer.c, inputs)", "LSTM"),
    ("gru", '"gru"', "gru_by_hand(layer.W, layer.U, layer.b, layer.c, inputs)", "GRU"),
    (
        "gru_before",
        '"gru", reset_after=False',
        "gru_by_hand(layer.W, layer.U, layer.b, layer.c, inputs, reset_after=False)",
        "GRU with reset_after=False (Keras's other GRU)",
    ),
]
SECTION_NOTES = {
    "lstm": "Keras keeps the gates as i, f, c, o in the columns of its arrays, with one bias; "
    "torch as i, f, g, o in the rows, with two.",
    "gru": "Keras keeps z, r, h; torch r, z, n. Keras's (2, 3*units) bias is torch's two "
    "biases, row for row.",
    "gru_before": "The reset gate acts on h before the recurrent product: torch's nn.GRU "
    "cannot compute this; rnn-parity's torch side runs an exact explicit loop.",
}


def gates_cells() -> list:
    """The gated walkthrough's cells: the hand computations' source, then one section per kind."""
    import nbformat.v4 as nbf

    from compare.learn import gates

    cells = [
        nbf.new_markdown_cell(
            "# LSTM and GRU by hand, in Keras and in PyTorch\n\n"
            "A tiny model (2 units, 3 time steps, the input 1, 2, 3, a linear Dense(1) head) with "
            "random weights set in Keras and copied to torch. Each section shows both "
            "frameworks' own arrays and which slice is which gate, computes every gate and "
            "state by hand with the functions below, and compares with what Keras and torch "
            "compute. Edit the functions or the parameters and re-run. Written by "
            "`rnn-parity notebooks`; the same as `rnn-parity walkthrough --kind lstm|gru`."
        ),
        nbf.new_code_cell("import numpy as np\n\nfrom compare.learn import gates"),
        nbf.new_markdown_cell("## The hand computations (numpy only: edit them)"),
        *(
            nbf.new_code_cell(inspect.getsource(function).rstrip())
            for function in (gates.sigmoid, gates.lstm_by_hand, gates.gru_by_hand)
        ),
        nbf.new_code_cell('units = 2\ndtype = "float64"\nseed = 0\ninputs = (1.0, 2.0, 3.0)'),
    ]
    cells[-1].metadata["tags"] = ["parameters"]
    for name, arguments, call, title in GATED_SECTIONS:
        cells += [
            nbf.new_markdown_cell(f"## {title}\n\n{SECTION_NOTES[name]}"),
            nbf.new_code_cell(
                f"{name} = gates.compute_gated({arguments}, units=units, dtype=dtype, "
                f"seed=seed, inputs=inputs)\nprint(gates.table_text({name}))"
            ),
            nbf.new_code_cell(
                f'layer = {name}.weights.layers[0]["forward"]\n'
                f"steps = {call}\n"
                f'output = float((steps[-1]["h"] @ {name}.weights.W_y + {name}.weights.b_y)[0])\n'
                f"print(gates.steps_text(steps, output, {name}.variant, inputs))"
            ),
            nbf.new_code_cell(f"print(gates.comparison_text({name}, steps, output))"),
        ]
    cells.append(nbf.new_code_cell("print(gates.reset_before_text(gru_before))"))
    return cells


def build_notebooks(
    epochs: int = 20, seed: int = 0, explained: list[dict] | None = None
) -> dict[str, object]:
    """File name -> notebook (nbformat v4), validated. The tutorial notebooks end with "Why
    they train differently" (`compare.learn.factor_notes`), measured where `explained` (summaries
    of explain records) has it.

    Raises:
        TutorialPageError: the two programs no longer have the same steps.
    """
    import nbformat
    import nbformat.v4 as nbf

    sources = {name: program_source(name) for name in PROGRAMS}
    steps = {name: split_steps(source, PROGRAMS[name]) for name, source in sources.items()}
    titles = check_twins(steps["keras"], steps["torch"])
    cells = {
        "tutorial_keras.ipynb": tutorial_cells("keras", sources["keras"], epochs, seed, titles),
        "tutorial_torch.ipynb": tutorial_cells("torch", sources["torch"], epochs, seed, titles),
        "gates_by_hand.ipynb": gates_cells(),
    }
    why = "\n".join(why_they_differ(explained)).rstrip()
    for file in ("tutorial_keras.ipynb", "tutorial_torch.ipynb"):
        cells[file].append(nbf.new_markdown_cell(why))
    notebooks = {}
    for file, notebook_cells in cells.items():
        notebook = nbf.new_notebook(cells=notebook_cells)
        notebook.metadata["kernelspec"] = KERNELSPEC
        nbformat.validate(notebook)
        notebooks[file] = notebook
    return notebooks
