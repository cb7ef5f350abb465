"""The notebooks are the programs, cut at their steps, and they run on a real kernel.

`rnn-parity notebooks` writes tutorial_keras.ipynb, tutorial_torch.ipynb and gates_by_hand.ipynb
from the source at run time. These tests check, independently of the cutting code, that every
tutorial code cell is a verbatim stretch of its program and that together they hold every line
of it; then they execute all three notebooks with nbclient on ipykernel kernels (at the same
short epochs as the scripts' tests) and check that every cell ran, that a tutorial notebook
prints the very RMSE its script prints for the same seed and epochs, and that the gated
notebook's own hand-computation cells agree with Keras and torch.
"""

from __future__ import annotations

import asyncio
import inspect
import re

import nbformat
import pytest

from compare.cli import main
from compare.learn import gates
from compare.learn.notebooks import FILES, build_notebooks
from tests.compare.learn.test_tutorial_page import PROGRAM_FILES, TITLES, _find_stretch
from tests.tutorial_helpers import EPOCHS, ROOT, printed_rmse

NOTEBOOK_OWN = ("%matplotlib inline", 'argv = ["--epochs"')  # cells that are not program code


@pytest.fixture(scope="module")
def notebooks():
    return build_notebooks(epochs=EPOCHS, seed=0)


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", ["keras", "torch"])
def test_tutorial_cells_are_the_program_verbatim_and_whole(notebooks, name):
    notebook = notebooks[f"tutorial_{name}.ipynb"]
    lines = PROGRAM_FILES[name].read_text().splitlines()
    shown: set[int] = set()
    for source in _code(notebook):
        if any(own in source for own in NOTEBOOK_OWN):
            continue
        shown.update(_find_stretch(source, lines))
    docstring_end = lines.index('"""', 1)
    guard = lines.index('if __name__ == "__main__":')
    hidden = [
        f"{number + 1}: {lines[number]}"
        for number in range(docstring_end + 1, guard)
        if lines[number].strip() and number not in shown
    ]
    main_line = lines.index("def main(argv=None):")
    assert hidden == [f"{main_line + 1}: def main(argv=None):"]  # only the def line stays off
    headings = [
        cell.source.splitlines()[0][3:]
        for cell in notebook.cells
        if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    assert headings == [
        "The program's definitions (used by the steps)",
        *TITLES,
        "Why they train differently",  # compare.learn.factor_notes
    ]
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert [cell.source for cell in parameters] == [
        f'argv = ["--epochs", "{EPOCHS}", "--seed", "0", "--out", "."]'
    ]


def test_gated_notebook_carries_the_hand_computations_source(notebooks):
    code = _code(notebooks["gates_by_hand.ipynb"])
    for function in (gates.sigmoid, gates.lstm_by_hand, gates.gru_by_hand):
        assert inspect.getsource(function).rstrip() in code
    assert sum("gates.compute_gated(" in source for source in code) == 3  # lstm, gru, gru before


def test_the_command_writes_three_valid_notebooks(tmp_path, capsys):
    assert main(["notebooks", "--out", str(tmp_path / "nb"), "--epochs", "3"]) == 0
    out = capsys.readouterr().out
    for file in FILES:
        assert f"wrote {tmp_path / 'nb' / file}" in out
        notebook = nbformat.read(tmp_path / "nb" / file, as_version=4)
        nbformat.validate(notebook)
    tutorial = nbformat.read(tmp_path / "nb" / "tutorial_keras.ipynb", as_version=4)
    assert any('"--epochs", "3"' in cell.source for cell in tutorial.cells)
    assert main(["notebooks", "--out", str(tmp_path), "--epochs", "0"]) == 2
    assert capsys.readouterr().err.strip().endswith("--epochs must be at least 1, got 0")


@pytest.fixture(scope="module")
def executed(notebooks, tmp_path_factory):
    """Every notebook executed on its own ipykernel kernel, the three at once (they mostly wait
    on imports), each in its own folder with the worktree on the kernel's path."""
    from nbclient import NotebookClient

    clients = {}
    for file, notebook in notebooks.items():
        folder = tmp_path_factory.mktemp(file.split(".")[0])
        clients[file] = NotebookClient(
            nbformat.from_dict(notebook),
            timeout=600,  # per cell, a hang guard only: no cell waits on the clock
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},  # the kernel's working folder
        )

    async def run_all():
        await asyncio.gather(*(client.async_execute() for client in clients.values()))

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this worktree's packages
        asyncio.run(run_all())  # raises CellExecutionError naming the cell if any cell fails
    return {file: client.nb for file, client in clients.items()}


def _stdout(notebook) -> str:
    return "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == "stdout"
    )


@pytest.mark.slow
def test_every_cell_of_every_notebook_ran(executed):
    for file, notebook in executed.items():
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.execution_count is not None, f"{file}: a cell did not run"
                assert all(output.output_type != "error" for output in cell.outputs), file


@pytest.mark.slow
@pytest.mark.parametrize("name", ["keras", "torch"])
def test_notebook_prints_the_scripts_rmse(executed, name, request):
    _out, script_stdout = request.getfixturevalue(f"{name}_tutorial_run")  # same seed 0, EPOCHS
    notebook_stdout = _stdout(executed[f"tutorial_{name}.ipynb"])
    for part in ("Train", "Test"):
        assert printed_rmse(notebook_stdout, part) == printed_rmse(script_stdout, part)
    plots = [
        output
        for cell in executed[f"tutorial_{name}.ipynb"].cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(plots) == 1  # Step 6's figure, shown inline


@pytest.mark.slow
def test_gated_notebook_hand_cells_agree_with_both_frameworks(executed):
    stdout = _stdout(executed["gates_by_hand.ipynb"])
    diffs = re.findall(r"^  (?:keras|torch) +(?:h_\d|o3) = .*diff (\S+)$", stdout, re.MULTILINE)
    assert len(diffs) == 3 * 2 * 4  # 3 sections, 2 frameworks, h_1..h_3 and o3
    assert max(float(diff) for diff in diffs) <= 1e-12  # float64: see shared/tolerances.py
    assert stdout.count("every slice holds its canonical array exactly") == 3
    assert "nn.GRU loaded with these very arrays" in stdout
