"""A user's own torch module ported to Keras, verified against that module's own forward.

A port checked only against rnn-parity's reconstruction of a model checks rnn-parity against
itself: a head read from the wrong step agrees with itself perfectly. So whenever a live module
is at hand (`torch_module_to_keras(module)`, or `port --module` rebuilding the user's class
from their file), its forward is traced (`torch_impl.trace_module`) into the grammar, the Keras
model is built from what was read, and both run the same random inputs (token ids for an
Embedding; the module's dtype; time-major where the module wants it) *before anything is
written*. A difference above 1e-6 (float32) / 1e-12 (float64), scaled by the outputs' size
above 1 (`shared.tolerances`), is an error naming the max difference and the first diverging
layer (`compare.port.divergence`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from compare.frameworks import both, keras_impl, torch_impl
from compare.port.agreement import Difference, difference, random_inputs
from compare.port.divergence import first_divergence
from compare.port.files import PortResult, load_weights, predict_file, read_back_gap, save_weights
from compare.port.graph_port import GraphPortResult
from compare.port.module_graph_port import graph_module_to_keras, port_module_graph
from compare.port.user_files import WRITE_ONLY, check_destination, file_format
from shared.errors import ModelFileError
from shared.tolerances import TOLERANCES

CHECK_BATCH = 16
CHAIN_WINDOW = 12  # the chain's window length where the caller names none


def trace(module: Any, example_input: Any = None, time_steps: int = 12) -> Any:
    """The module read into the grammar (`torch_impl.TracedModel`); an example input fixes
    the window length (its time axis, in the module's own layout)."""
    traced = torch_impl().trace_module(module, time_steps)
    if example_input is not None:
        shape = np.shape(example_input)
        steps = shape[0 if traced.input_time_major else 1] if len(shape) >= 2 else None
        if steps is None:
            raise ModelFileError(f"example_input must be at least (batch, time), got {shape}")
        if steps != traced.weights.spec.time_steps:
            traced = torch_impl().trace_module(module, int(steps))
    return traced


def check_inputs(spec: Any, seed: int, example_input: Any, time_major: bool) -> np.ndarray:
    """Random inputs that fit the spec, plus the example (batch-major) when one is given."""
    X = random_inputs(spec, batch=CHECK_BATCH, seed=seed)
    if example_input is None:
        return X
    example = np.asarray(example_input)
    example = np.swapaxes(example, 0, 1) if time_major else example
    return np.concatenate([X, example.astype(X.dtype)])


def verify(
    module: Any, traced: Any, keras_model: Any, X: np.ndarray, what: str = "the Keras model"
) -> Difference:
    """Compare `keras_model` with the user's own forward on X.

    Raises:
        ModelFileError: "<what> differs from your forward: max abs difference 1.5e-02 > 1e-06;
            <first diverging layer>; nothing written".
    """
    keras_side, _ = both()
    torch = torch_impl()  # tracing is torch_impl's own, not a twin
    spec = traced.weights.spec
    tolerance = TOLERANCES[spec.dtype]
    expected = torch.traced_outputs(traced, module, X)
    got = keras_side.predict(keras_model, X)
    if got.shape != expected.shape:
        raise ModelFileError(
            f"{what} gives outputs {got.shape}, your forward {expected.shape}; nothing written"
        )
    row = difference("outputs", f"{what} vs your forward", got, expected, tolerance)
    if not row.ok:
        where = first_divergence(
            keras_side.to_canonical(keras_model),
            traced.weights,
            X,
            tolerance,
            torch.traced_parts(traced, X),
            {(p.kind, p.index): p.label for p in traced.parts if p.kind != "layer"},
        )
        raise ModelFileError(
            f"{what} differs from your forward: max abs difference {row.max_abs:.2e} > "
            f"tolerance {row.tolerance:.1e}; {where}; nothing written"
        )
    return row


def torch_module_to_keras(
    module: Any, example_input: Any = None, time_steps: int | None = None, seed: int = 0
) -> Any:
    """A Keras model computing what a user's torch module computes, checked against its forward.

    rnn-parity's own models are ported from their spec; any other module is traced
    (torch.fx) into the grammar, or, where the chain grammar refuses it, into a model graph
    (`compare.port.module_graph_port`), and the port run against the module's own forward.

    Args:
        module: the user's nn.Module or LightningModule (float32 or float64).
        example_input: an input the forward takes (its layout and time axis), also checked.
        time_steps: window length of the Keras model when no example is given (a chain: 12 by
            default); a graph's time axis stays free unless it is given.
        seed: seed of the random check inputs.

    Raises:
        ModelFileError: a forward outside the grammar (naming the node), or a port whose
            outputs differ from the forward (naming the max difference and the first
            diverging layer).
    """
    keras_side, torch_side = both()
    if hasattr(module, "spec") and hasattr(module, "net"):  # rnn-parity's own RNNModel
        return keras_side.from_canonical(torch_side.to_canonical(module))
    try:
        traced = trace(module, example_input, time_steps or CHAIN_WINDOW)
    except ModelFileError:  # outside the chain grammar: read the forward as a graph
        return graph_module_to_keras(module, example_input, time_steps, seed)
    keras_model = keras_side.from_canonical(traced.weights)
    X = check_inputs(traced.weights.spec, seed, example_input, traced.input_time_major)
    verify(module, traced, keras_model, X)
    return keras_model


def parse_kwargs(text: str | None) -> dict[str, Any]:
    """--module-kwargs '{"hidden_dim": 16}' as a dict (one line naming a bad value)."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFileError(f"--module-kwargs is not valid JSON ({error})") from None
    if not isinstance(value, dict):
        raise ModelFileError(f"--module-kwargs must be a JSON object, got {type(value).__name__}")
    return value


def port_with_module(
    source: str | Path,
    destination: str | Path,
    module_name: str,
    module_kwargs: dict[str, Any] | None = None,
    time_steps: int | None = None,
    seed: int = 0,
) -> PortResult | GraphPortResult:
    """`port model.pt out.keras --module pkg.mod:Class`: rebuild the user's class from the file,
    port it, check the Keras model and then the written file against its forward.

    Raises:
        ModelFileError: import, construction or loading failures, a forward outside the grammar,
            a disagreement (nothing is left at `destination`).
    """
    source, destination = Path(source), Path(destination)
    if file_format(source) != "torch":
        raise ModelFileError(f"{source}: --module reads torch files (.pt, .pth, .ckpt, ...)")
    check_destination(destination)
    if source.resolve() == destination.resolve():
        raise ModelFileError(f"{source}: source and destination are the same file")
    torch = torch_impl()
    module = torch.module_from_file(torch.import_class(module_name), source, module_kwargs or {})
    try:
        traced = trace(module, None, time_steps or CHAIN_WINDOW)
    except ModelFileError:  # outside the chain grammar: read the forward as a graph
        return port_module_graph(module, source, destination, time_steps, seed)
    X = check_inputs(traced.weights.spec, seed, None, False)
    rows = [verify(module, traced, keras_impl().from_canonical(traced.weights), X)]
    candidate = destination.with_name(f".{destination.stem}.porting{destination.suffix}")
    save_weights(traced.weights, candidate)
    try:
        expected = torch.traced_outputs(traced, module, X)
        row = difference(
            "outputs",
            "destination vs your forward",
            predict_file(candidate, X),
            expected,
            TOLERANCES[traced.weights.spec.dtype],
        )
        if not row.ok:
            raise ModelFileError(
                f"{destination}: the written file differs from your forward by "
                f"{row.max_abs:.2e} > tolerance {row.tolerance:.1e}; not written"
            )
        gap = (
            None
            if destination.suffix in WRITE_ONLY
            else read_back_gap(load_weights(candidate), traced.weights)
        )
        candidate.replace(destination)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    rows.append(row)
    mapping = [f"{module_name}: {type(module).__name__} rebuilt from {source} (weights_only)"]
    return PortResult(
        source, destination, traced.weights, gap, rows, mapping, traced.notes, forward_checked=True
    )
