"""Porting trained recurrent models between Keras and torch, in memory and file to file.

Every copy goes through the canonical format, as
`torch_impl.from_canonical(keras_impl.to_canonical(model))` and back. This module never names a
framework's parameters; each impl owns its own layout. Files are told apart by extension
(`.keras` and legacy `.h5`, Lightning `.ckpt`, torch `.pt`/`.pth`, `.safetensors`, canonical
`.npz`, and `.pt2` torch.export programs for plain torch, written only; see
`compare.port.user_files` for files without an rnn-parity spec); a port is verified
after writing (the destination is read back and run against the numpy reference) and the
destination is removed again if anything fails, so a failed port leaves no file behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.frameworks import both, keras_impl, torch_impl
from compare.port.agreement import Difference, difference, random_inputs
from compare.port.divergence import first_divergence
from compare.port.graph_files import holds_graph
from compare.port.graph_port import (
    GraphPortResult,
    graph_keras_to_torch,
    graph_torch_to_keras,
    port_graph_file,
)
from compare.port.source_check import check_port, keras_source_divergence
from compare.port.user_files import (
    FORMATS,
    WRITE_ONLY,
    Assumptions,
    Source,
    check_destination,
    file_format,
    read_source,
)
from shared.errors import ModelFileError
from shared.reference import predict as reference_predict
from shared.tolerances import TOLERANCES
from shared.weight_files import save_npz
from shared.weights import CanonicalWeights, fold_single_bias

__all__ = ["FORMATS", "file_format"]  # re-exported: callers name them through this module


CHECK_BATCH = 32  # sequences per check: every padding pattern of `random_inputs` several times


def keras_to_torch(model: Any, seed: int = 0) -> Any:
    """A torch (Lightning) model computing what the Keras `model` computes, checked against it.

    The Keras model itself runs the check inputs (random, fitted to the model: token ids,
    padding at the end, middle and start where it masks) beside the port before it is returned.
    It is returned in eval mode, as it was checked (dropout off, like Keras's `model(x)`);
    `.train()` turns its dropout on to train it.

    Raises:
        ModelFileError: a model outside the grammar (naming the layer), or a port whose outputs
            differ from `model`'s (naming the tolerance and the first diverging layer).
    """
    keras_side, torch_side = both()
    try:
        weights = keras_side.to_canonical(model)
    except ModelFileError:  # not a chain: the graph reads more, and names what it cannot
        return graph_keras_to_torch(model, seed)
    ported = torch_side.from_canonical(weights)
    X = random_inputs(weights.spec, batch=CHECK_BATCH, seed=seed)

    def locate() -> str:
        inside = keras_source_divergence(model, weights, X)
        tolerance = TOLERANCES[weights.spec.dtype]
        return inside or first_divergence(weights, torch_side.to_canonical(ported), X, tolerance)

    source = keras_side.predict(model, X)
    check_port(source, torch_side.predict(ported, X), weights.spec.dtype, "the torch model", locate)
    return ported.eval()  # as checked: a net left training ran its dropout on a first call


def torch_to_keras(module: Any, seed: int = 0) -> Any:
    """A Keras model computing what rnn-parity's torch (Lightning) `module` computes, checked
    against the module's own forward before it is returned (a user's own nn.Module goes
    through `torch_module_to_keras`, which traces it).

    Raises:
        ModelFileError: a port whose outputs differ from the module's (naming the tolerance
            and the first diverging layer).
    """
    keras_side, torch_side = both()
    if isinstance(module, torch_impl().GraphNet):  # a model graph, not a chain
        return graph_torch_to_keras(module, seed)
    weights = torch_side.to_canonical(module)
    ported = keras_side.from_canonical(weights)
    X = random_inputs(weights.spec, batch=CHECK_BATCH, seed=seed)

    def locate() -> str:
        tolerance = TOLERANCES[weights.spec.dtype]
        return first_divergence(keras_side.to_canonical(ported), weights, X, tolerance)

    source = torch_side.predict(module, X)
    check_port(source, keras_side.predict(ported, X), weights.spec.dtype, "the Keras model", locate)
    return ported


def _impl(framework: str) -> Any:
    return keras_impl() if framework == "keras" else torch_impl()


def load_weights(path: str | Path, assumptions: Assumptions | None = None) -> CanonicalWeights:
    """Read any supported model file into canonical weights (framework files loaded safely).

    Args:
        path: the model file.
        assumptions: for a torch state dict without an rnn-parity spec, what it cannot say.

    Raises:
        ModelFileError: unknown extension, or a file that is missing, unreadable, unsafe or
            outside the specs (canonical .npz files included).
    """
    return read_source(path, assumptions).weights


def save_weights(weights: CanonicalWeights, path: str | Path) -> Path:
    """Write canonical weights as the format `path`'s extension names (atomically)."""
    check_destination(path)
    framework = file_format(path)
    if framework == "canonical":
        return save_npz(weights, path)
    if Path(path).suffix.lower() in WRITE_ONLY:  # a torch.export program for plain torch
        torch = torch_impl()
        return torch.export_program(torch.from_canonical(weights), path)
    impl = _impl(framework)
    return impl.save_model(impl.from_canonical(weights), path)


def predict_file(path: str | Path, inputs: Any, assumptions: Assumptions | None = None) -> Any:
    """Outputs of the model stored at `path` (the reference runs canonical `.npz` files; torch
    runs torch files, rnn-parity's own or a user's state dict read under `assumptions`)."""
    framework = file_format(path)
    if framework == "keras":
        impl = keras_impl()
        return impl.predict(impl.load_model(path), inputs)
    if Path(path).suffix.lower() in WRITE_ONLY:
        return torch_impl().run_program(path, inputs)
    weights = read_source(path, assumptions).weights
    if framework == "canonical":
        return reference_predict(weights, inputs)
    impl = torch_impl()
    return impl.predict(impl.from_canonical(weights), inputs)


@dataclass
class PortResult:
    """What a file-to-file port read, wrote and measured."""

    source: Path
    destination: Path
    weights: CanonicalWeights
    weights_max_abs_diff: float | None  # None: the destination names no weights (.pt2)
    agreement: list[Difference]
    mapping: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    forward_checked: bool = False  # compared with the user's own forward (port --module)

    def summary(self) -> str:
        """Lines for the terminal: the mapping (layers, gates, shapes) and the agreement."""
        spec = self.weights.spec
        lines = [
            f"ported {self.source} ({file_format(self.source)}) -> {self.destination} "
            f"({file_format(self.destination)}), {spec.dtype}"
        ]
        if self.mapping:
            lines.append("  keys read (the file holds no rnn-parity spec):")
            lines.extend(f"    {line}" for line in self.mapping)
        if self.assumptions:
            lines.append("  assumptions:")
            lines.extend(f"    {line}" for line in self.assumptions)
        lines.append(f"  model: {spec.describe()}")
        if spec.front is not None:
            lines.append(f"  front {spec.front.type}: {_shapes(self.weights.front)}")
        for index, layer in enumerate(spec.layers):
            directions = self.weights.layers[index]
            for direction in layer.directions:
                first = directions[direction]
                gates = ", ".join(layer.gates)
                lines.append(
                    f"  layer {index} {layer.kind:<6} {direction:<8} gates {gates}: "
                    f"W {first.W[layer.gates[0]].shape}, U {first.U[layer.gates[0]].shape}"
                    f", b {first.b[layer.gates[0]].shape}, c "
                    f"{first.c[layer.gates[0]].shape} each"
                )
        for index, layer in enumerate(spec.head_layers):
            arrays = self.weights.head_layers[index]
            lines.append(f"  head layer {index} {layer.type}: {_shapes(arrays)}")
        lines.append(
            f"  head dense {spec.head.activation}: W_y {self.weights.W_y.shape}, "
            f"b_y {self.weights.b_y.shape}"
        )
        if self.weights_max_abs_diff is None:
            lines.append("  weights not read back (a .pt2 program names none): outputs below")
        else:
            lines.append(
                f"  weights read back from the destination: max abs diff "
                f"{self.weights_max_abs_diff:.2e} (one-bias layers compared as b + c)"
            )
        for row in self.agreement:
            lines.append(
                f"  outputs {row.pair}: max abs diff {row.max_abs:.2e} "
                f"(tolerance {row.tolerance:.1e}) {'ok' if row.ok else 'FAILED'}"
            )
        if self.mapping and not self.forward_checked:
            lines.append(
                "not checked against your forward (a state dict holds no forward, so the wiring "
                "above is inferred): pass --module package.module:YourClass to rebuild your "
                "own model from the file and check the port against its forward"
            )
        return "\n".join(lines)


def _shapes(arrays: dict[str, Any]) -> str:
    """E.g. "E (20, 8)", or "no weights" for Masking and Dropout."""
    return ", ".join(f"{name} {array.shape}" for name, array in arrays.items()) or "no weights"


def read_back_gap(written: CanonicalWeights, weights: CanonicalWeights) -> float:
    """Max abs difference of weights read back from a destination (one-bias layers as b + c)."""
    return fold_single_bias(written).max_abs_diff(fold_single_bias(weights))


def source_divergence(source: Path, weights: CanonicalWeights, inputs: Any) -> str | None:
    """For a Keras source that disagrees with what was read from it: its first diverging layer."""
    if file_format(source) != "keras":
        return None
    return keras_source_divergence(keras_impl().load_model(source), weights, inputs)


def _chain_or_none(source: Path, assumptions: Assumptions | None) -> Source | None:
    """The chain read from `source`, or None where it holds a graph or is a Keras model that
    only the graph describes (the graph reader then names any layer it cannot read)."""
    if holds_graph(source):
        return None
    try:
        return read_source(source, assumptions)
    except ModelFileError:
        if file_format(source) != "keras":
            raise
        return None


def port_file(
    source: str | Path,
    destination: str | Path,
    seed: int = 0,
    assumptions: Assumptions | None = None,
    time_steps: int | None = None,
) -> PortResult | GraphPortResult:
    """Port the model in `source` to `destination`, then verify the written file.

    `time_steps` fixes a graph's free time axis in a .pt2 program that needs one length.
    A model that is not a chain (branches, merges, states handed on, ...) is ported as a model
    graph (`compare.port.graph_port.port_graph_file`), checked against the source's own model.

    A torch source without an rnn-parity spec (a user's state dict, Lightning checkpoint or
    .safetensors) has its spec inferred; `assumptions` says what the keys cannot.

    The destination is read back and run on random inputs beside the source and the numpy
    reference; if any output differs by more than the dtype's tolerance, or anything fails
    after writing, nothing is left at (or changed at) `destination` and the error is raised.

    Raises:
        ModelFileError: unknown extensions, unreadable or unsafe files, models outside the specs,
            same source and destination, or a port whose outputs disagree.
    """
    source, destination = Path(source), Path(destination)
    file_format(source)
    file_format(destination)
    if source.resolve() == destination.resolve():
        raise ModelFileError(f"{source}: source and destination are the same file")
    check_destination(destination)
    if not source.is_file():
        raise ModelFileError(f"{source}: no such file")
    read = _chain_or_none(source, assumptions)
    if read is None:  # a graph file, or a Keras model the chain grammar cannot describe
        return port_graph_file(source, destination, seed, time_steps)
    weights = read.weights
    # Write and verify under a temporary name beside the destination, then move it into place:
    # a failed port neither leaves a file behind nor destroys a file already at `destination`.
    candidate = destination.with_name(f".{destination.stem}.porting{destination.suffix}")
    save_weights(weights, candidate)
    try:
        written = None if destination.suffix.lower() in WRITE_ONLY else load_weights(candidate)
        inputs = random_inputs(weights.spec, batch=32, seed=seed)
        expected = reference_predict(weights, inputs)
        tolerance = TOLERANCES[weights.spec.dtype]
        agreement = [
            difference(
                "outputs",
                "source vs reference",
                predict_file(source, inputs, assumptions),
                expected,
                tolerance,
            ),
            difference(
                "outputs",
                "destination vs reference",
                predict_file(candidate, inputs),
                expected,
                tolerance,
            ),
        ]
        bad = [row for row in agreement if not row.ok]
        if bad:
            where = source_divergence(source, weights, inputs) if bad[0] is agreement[0] else None
            raise ModelFileError(
                f"{destination}: ported outputs disagree ({bad[0].pair}: max abs "
                f"diff {bad[0].max_abs:.2e} > tolerance {bad[0].tolerance:.1e})"
                + (f"; {where}" if where else "")
                + "; not written"
            )
        candidate.replace(destination)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    return PortResult(
        source,
        destination,
        weights,
        None if written is None else read_back_gap(written, weights),
        agreement,
        read.mapping,
        read.assumptions,
    )
