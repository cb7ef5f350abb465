"""The side-by-side page pairs the two tutorial programs step by step and cannot drift from them.

The page is cut from keras_impl/tutorial.py and torch_impl/tutorial.py at run time. These tests
check, independently of the cutting code, that every code block on the page is a verbatim
(dedented) stretch of its program, that together the blocks cover every line of both programs,
that the programs still have the same steps in the same order (an edit to one program's step
comments makes the page, and this test, fail), and that the measured differences are the true ones.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from compare.cli import main
from compare.learn.tutorial_page import TutorialPageError, render_page
from tests.tutorial_helpers import ROOT

PROGRAM_FILES = {
    "keras": ROOT / "keras_impl" / "tutorial.py",
    "torch": ROOT / "torch_impl" / "tutorial.py",
}
TITLES = [
    "Part 1a: a 2-unit linear RNN and its weights",
    "Part 1b: h1, h2, h3 and o3 by hand for the input 1, 2, 3",
    "Step 1, 2: reading data and splitting",
    "Step 3: reshaping data into windows",
    "Step 4: create RNN model and train",
    "Step 5: compute and print the root mean square error",
    "Step 6: view the result",
]


def _sources() -> dict[str, str]:
    return {name: path.read_text() for name, path in PROGRAM_FILES.items()}


def _columns(page: str) -> dict[str, list[str]]:
    """Each framework's code blocks, in page order (tables hold Keras then Lightning)."""
    blocks = re.findall(r"```python\n(.*?)\n```", page, re.DOTALL)
    return {"keras": blocks[0::2], "torch": blocks[1::2]}


def _find_stretch(chunk: str, lines: list[str]) -> range:
    """The source lines whose dedented text is exactly `chunk`; fail when there are none."""
    size = len(chunk.splitlines())
    for start in range(len(lines) - size + 1):
        if textwrap.dedent("\n".join(lines[start : start + size])) == chunk:
            return range(start, start + size)
    raise AssertionError(f"not a verbatim stretch of the program:\n{chunk}")


def test_both_programs_have_the_tutorials_steps_in_order():
    page = render_page(_sources(), facts_markdown="")
    assert re.findall(r"^## (.+)$", page, re.MULTILINE) == [
        "Setup: imports, arguments and seeds",
        *TITLES,
        "Gated layers: which slice is which gate",
        "Why they train differently",  # the explain factors, for learners (factor_notes)
    ]


def test_the_page_holds_the_gated_mapping_tables():
    from compare.learn.gate_tables import mapping

    page = render_page(_sources(), facts_markdown="")
    for kind, reset_after in (("lstm", True), ("gru", True), ("gru", False)):
        for row in mapping(kind, None, reset_after):  # the tables test_gates checks, symbolic
            keras = f"`{row.keras.text()}` ({row.keras.gate})" if row.keras else "none (c = 0)"
            line = f"| `{row.canonical}` | {keras} | `{row.torch.text()}` ({row.torch.gate}) |"
            assert line in page
    assert "| `W[z]` | `kernel[:, 0:H]` (z) | `weight_ih_l0[H:2H].T` (z) |" in page


def test_every_block_is_verbatim_source_and_every_line_is_shown():
    sources = _sources()
    columns = _columns(render_page(sources, facts_markdown=""))
    for name, source in sources.items():
        lines = source.splitlines()
        assert len(columns[name]) == len(TITLES) + 1  # the setup block, then one per step
        shown: set[int] = set()
        for block in columns[name]:
            for chunk in block.split("\n\n...\n\n"):  # a step's definition, then its main() part
                shown.update(_find_stretch(chunk, lines))
        docstring_end = lines.index('"""', 1)  # the module docstring closes on its own line
        guard = lines.index('if __name__ == "__main__":')
        hidden = [
            f"{number + 1}: {lines[number]}"
            for number in range(docstring_end + 1, guard)
            if lines[number].strip() and number not in shown
        ]
        assert not hidden, f"{PROGRAM_FILES[name].name} lines not on the page: {hidden}"


def test_a_step_renamed_in_one_program_fails_the_page():
    sources = _sources()
    sources["torch"] = sources["torch"].replace(
        "    # Step 3: reshaping data into windows", "    # Step 3: reshaping data for torch"
    )
    with pytest.raises(TutorialPageError, match=r"step 4 differs.*'Step 3: reshaping data for"):
        render_page(sources, facts_markdown="")


def test_a_step_missing_from_one_program_fails_the_page():
    sources = _sources()
    sources["keras"] = sources["keras"].replace("    # Step 6: view the result\n", "")
    with pytest.raises(TutorialPageError, match=r"step 7 differs.*'\(none\)'"):
        render_page(sources, facts_markdown="")


def test_a_definition_marked_for_no_step_fails_the_page():
    sources = _sources()
    sources["torch"] = sources["torch"].replace(
        "# Step 4: create RNN model and train\nclass", "# Step 7: a step main() lacks\nclass"
    )
    with pytest.raises(TutorialPageError, match="'Step 7: a step main\\(\\) lacks' belongs to no"):
        render_page(sources, facts_markdown="")


def test_an_edit_to_a_program_shows_on_the_page():
    sources = _sources()
    anchor = "    test_rmse = math.sqrt(mean_squared_error(testY, test_predict))\n"
    assert sources["keras"].count(anchor) == 1
    sources["keras"] = sources["keras"].replace(anchor, anchor + "    print('an edit')\n")
    columns = _columns(render_page(sources, facts_markdown=""))
    step5 = columns["keras"][
        1 + TITLES.index("Step 5: compute and print the root mean square error")
    ]
    assert "mean_squared_error(testY, test_predict))\nprint('an edit')" in step5


@pytest.mark.slow
def test_measured_differences_are_the_true_ones(impls):
    from compare.learn.tutorial_facts import measure

    facts = measure()
    assert facts.keras_params == {"SimpleRNN": 1 * 3 + 3 * 3 + 3, "Dense": 3 + 1}  # one bias
    assert facts.torch_params == {"nn.RNN": 1 * 3 + 3 * 3 + 3 + 3, "nn.Linear": 3 + 1}  # two
    assert facts.keras_bias_max == 0.0
    assert facts.keras_orthogonality <= 1e-6  # float32 orthogonal matrix: a few ulps off I
    assert max(facts.torch_max.values()) <= facts.torch_bound == pytest.approx(1 / np.sqrt(3))
    assert min(facts.torch_max.values()) > 0  # torch's biases are random, not zero
    assert facts.epsilons == (pytest.approx(1e-7), pytest.approx(1e-8))
    # First Adam step / lr from the update rules (beta1 0.9, beta2 0.999, step 1), float32
    # arithmetic, so a relative 1e-5: Keras sqrt(1-b2) g / (sqrt(1-b2) g + eps); torch g / (g + eps)
    for gradient, (keras_step, torch_step) in facts.first_steps.items():
        corrected = np.sqrt(1 - 0.999) * gradient
        assert keras_step == pytest.approx(corrected / (corrected + 1e-7), rel=1e-5)
        assert torch_step == pytest.approx(gradient / (gradient + 1e-8), rel=1e-5)
    assert facts.first_steps[1e-9][0] < 1e-3 < facts.first_steps[1e-9][1]
    target = np.array([0.1, 0.5, 0.9, 0.3])
    output = np.array([[0.2], [0.4], [0.7], [0.6]])
    # float32 losses of values ~0.1: 1e-7 is a few ulps
    assert facts.mse["true"] == pytest.approx(np.mean((target[:, None] - output) ** 2), abs=1e-7)
    assert facts.mse["keras (B,)"] == pytest.approx(facts.mse["true"], abs=1e-7)
    broadcast = np.mean((output - target[None, :]) ** 2)  # (4, 1) - (4,) -> (4, 4)
    assert facts.mse["torch (B,)"] == pytest.approx(broadcast, abs=1e-7)
    assert abs(facts.mse["torch (B,)"] - facts.mse["true"]) > 0.05
    assert facts.mse["torch batch 1 (B,)"] == pytest.approx((0.1 - 0.2) ** 2, abs=1e-7)
    assert "target size" in facts.torch_warning
    assert facts.shuffle_defaults[0] is True and not facts.shuffle_defaults[1]
    assert facts.requires_grad == (True, False)
    assert facts.train_eval_gap == 0.0
    assert facts.keras_predict_type == "ndarray"


@pytest.mark.slow
def test_command_writes_the_programs_page(impls, tmp_path, capsys):
    path = tmp_path / "page.md"
    no_records = ["--explain-records", str(tmp_path)]  # the closing section in words only
    assert main(["walkthrough", "--side-by-side", str(path), *no_records]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    page = path.read_text()
    assert page.startswith("# The tutorial in Keras and in PyTorch Lightning, side by side")
    facts = page[page.index("## What differs and why") : page.index("## Why they train")]
    assert page == render_page(facts_markdown=facts)
    assert "SimpleRNN(3) has 15 parameters, nn.RNN(1, 3) has 18" in page
    for name, program in _sources().items():
        assert program.splitlines()[-5].strip() in page, name  # plt.savefig(...)


def test_engine_needs_the_side_by_side_flag(capsys):
    assert main(["walkthrough", "--engine"]) == 2
    assert "--engine chooses the --side-by-side page" in capsys.readouterr().err
