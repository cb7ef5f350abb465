"""The walkthrough is teaching material: every number it prints must be the true one.

`rnn-parity walkthrough` shows the tutorial's tiny SimpleRNN(2, linear) in both frameworks and
computes h1, h2, h3 and o3 by hand. A learner checks their own arithmetic against it, so these
tests read the printed numbers back and compare them with the numpy reference, check the hand
computation and both frameworks against each other, check that each framework's own arrays are
named with their shapes, and check that the side-by-side page quotes the impls' current source
verbatim (so it cannot go stale).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

from compare.cli import main
from compare.learn.walkthrough import DEMO_INPUT, compute, hand_computation, render
from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import forward
from shared.spec import DenseSpec, ModelSpec
from shared.tolerances import TOLERANCES
from shared.weights import random_weights

# The text prints states and o3 with 8 decimals: a printed value is within half a unit of the
# last digit (5e-9) of the true one; the 1e-9 pad covers the float64 -> decimal conversion.
PRINT_PRECISION = 5e-9 + 1e-9
# Hand computation vs reference, Keras and torch: tolerances as in the rest of the project.
# float64: ulp 2.2e-16 and these are a handful of operations, so 1e-12 is very loose yet safe;
# float32: ulp ~1.2e-7 at 1 and values here reach ~2, so a few ulps of drift stay under 1e-6.


@pytest.fixture(scope="module")
def result64(impls):
    return compute("float64")


@pytest.fixture(scope="module")
def text64(result64):
    return render(result64)


def _printed_vector(text: str, name: str) -> np.ndarray:
    match = re.search(rf"^  {name} = \[([^\]]*)\]$", text, re.MULTILINE)
    assert match, f"{name} not printed"
    return np.array([float(value) for value in match.group(1).split(",")])


def _printed_scalar(text: str, pattern: str) -> float:
    match = re.search(pattern, text, re.MULTILINE)
    assert match, pattern
    return float(match.group(1))


@pytest.mark.slow
def test_printed_states_and_output_are_the_references(result64, text64):
    trace = forward(result64.weights, DEMO_INPUT)
    hidden = trace.hidden[0]["forward"][0]  # (time 3, units 2)
    for step in range(3):
        printed = _printed_vector(text64, f"h{step + 1}")
        assert printed.shape == (2,)
        assert np.max(np.abs(printed - hidden[step])) <= PRINT_PRECISION
    o3 = _printed_scalar(text64, r"^  o3 = (\S+)$")
    assert abs(o3 - trace.outputs[0, 0]) <= PRINT_PRECISION
    # not a degenerate demo: the states move
    assert np.min(np.abs(hidden)) > 1e-3


@pytest.mark.slow
def test_hand_computation_is_the_reference(result64):
    trace = forward(result64.weights, DEMO_INPUT)
    states = np.stack(result64.hand_states)  # (3, 2)
    assert states.dtype == np.float64
    assert np.max(np.abs(states - trace.hidden[0]["forward"][0])) <= TOLERANCES["float64"]
    assert abs(result64.hand_output - trace.outputs[0, 0]) <= TOLERANCES["float64"]


def test_hand_computation_with_random_biases():
    # Keras starts with zero biases, so the demo never exercises b and c; random ones do.
    spec = ModelSpec(
        3,
        1,
        (RecurrentLayerSpec("simple", 2, activation="linear"),),
        DenseSpec(1, "linear"),
        "float64",
    )
    weights = random_weights(spec, seed=13)
    assert np.all(weights.layers[0]["forward"].c["h"] != 0)
    states, output = hand_computation(weights, [1.0, 2.0, 3.0])
    trace = forward(weights, DEMO_INPUT)
    # float64: a dozen operations, rounding ~1e-16; 1e-12 is the project's float64 tolerance
    assert np.max(np.abs(np.stack(states) - trace.hidden[0]["forward"][0])) <= 1e-12
    assert abs(output - trace.outputs[0, 0]) <= 1e-12


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_frameworks_match_the_hand_computation(impls, dtype):
    result = compute(dtype)
    tolerance = TOLERANCES[dtype]  # see the comment on TOLERANCES
    hand_states = np.stack(result.hand_states).astype(np.float64)
    for framework in ("keras", "torch"):
        states = result.framework_states[framework]
        assert states.shape == (3, 2) and states.dtype == np.dtype(dtype)
        assert np.max(np.abs(states.astype(np.float64) - hand_states)) <= tolerance
        assert abs(result.framework_output[framework] - result.hand_output) <= tolerance
    text = render(result)
    for framework in ("keras", "torch"):
        printed = _printed_scalar(text, rf"^  {framework}\s+h1\.\.h3 .*;  o3 = (\S+)")
        assert abs(printed - result.framework_output[framework]) <= PRINT_PRECISION


@pytest.mark.slow
def test_native_arrays_are_named_with_their_shapes(result64, text64):
    expected = {
        r"simple_rnn_cell/kernel": "(1, 2)",  # (inputs, units)
        r"simple_rnn_cell/recurrent_kernel": "(2, 2)",
        r"simple_rnn_cell/bias": "(2,)",  # one bias
        r"\.weight_ih_l0": "(2, 1)",  # (units, inputs)
        r"\.weight_hh_l0": "(2, 2)",
        r"\.bias_ih_l0": "(2,)",
        r"\.bias_hh_l0": "(2,)",  # the second bias torch keeps
    }
    for name, shape in expected.items():
        assert re.search(rf"^  \S*{name}\s+{re.escape(shape)}\s", text64, re.MULTILINE), name
    assert any(key.endswith("simple_rnn_cell/kernel") for key in result64.keras_native)
    assert "net.recurrent.0.rnn.weight_ih_l0" in result64.torch_native
    # the two views hold the same numbers: torch's weight_ih is Keras's kernel transposed
    keras_kernel = next(v for k, v in result64.keras_native.items() if k.endswith("cell/kernel"))
    assert np.array_equal(result64.torch_native["net.recurrent.0.rnn.weight_ih_l0"], keras_kernel.T)
    assert "Keras's own weights" in text64 and "torch's own weights" in text64


@pytest.mark.slow
def test_engine_side_by_side_quotes_the_current_source(impls, tmp_path, capsys):
    keras_impl, torch_impl = impls
    from shared import data, windows

    path = tmp_path / "sbs.md"
    assert main(["walkthrough", "--side-by-side", str(path), "--engine"]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    page = path.read_text()
    assert page.startswith("# The tutorial in Keras and in PyTorch Lightning, side by side")
    for function in ("fit", "build_model", "predict", "to_canonical"):
        for impl in (keras_impl, torch_impl):
            source = inspect.getsource(getattr(impl, function)).rstrip()
            assert source in page, f"{impl.__name__}.{function} is not quoted verbatim"
        assert f"`{function}`" in page
    assert inspect.getsource(data.get_train_test).rstrip() in page
    assert inspect.getsource(windows.get_XY).rstrip() in page
    assert page.count("```python") == page.count("```") // 2  # every code block closed


@pytest.mark.slow
def test_walkthrough_command_prints_the_page(impls, capsys):
    assert main(["walkthrough", "--dtype", "float64", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "SimpleRNN(2, linear) + Dense(1, linear), input (3, 1), float64" in out
    assert "By hand, for x = 1, 2, 3" in out
    result = compute("float64", seed=2)
    o3 = _printed_scalar(out, r"^  o3 = (\S+)$")
    assert abs(o3 - result.hand_output) <= PRINT_PRECISION
