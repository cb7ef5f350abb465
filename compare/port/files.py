"""Porting trained recurrent models between Keras and torch, in memory and file to file.

Every copy goes through the canonical format, as
`torch_impl.from_canonical(keras_impl.to_canonical(model))` and back. This module never names a
framework's parameters; each impl owns its own layout. Files are told apart by extension
(`.keras`, Lightning `.ckpt`, torch state dict `.pt`, canonical `.npz`); a port is verified after
writing (the destination is read back and run against the numpy reference) and the destination
is removed again if anything fails, so a failed port leaves no file behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compare.frameworks import both, keras_impl, torch_impl
from compare.port.agreement import TOLERANCES, Difference, difference, random_inputs
from shared.errors import ModelFileError, WeightFormatError
from shared.reference import predict as reference_predict
from shared.weights import CanonicalWeights, fold_single_bias, load_npz, save_npz

FORMATS = {".keras": "keras", ".ckpt": "torch", ".pt": "torch", ".npz": "canonical"}


def keras_to_torch(model: Any) -> Any:
    """A torch (Lightning) model computing what the Keras `model` computes."""
    keras, torch = both()
    return torch.from_canonical(keras.to_canonical(model))


def torch_to_keras(module: Any) -> Any:
    """A Keras model computing what the torch (Lightning) `module` computes."""
    keras, torch = both()
    return keras.from_canonical(torch.to_canonical(module))


def file_format(path: str | Path) -> str:
    """'keras', 'torch' or 'canonical', from the file's extension.

    Raises:
        ModelFileError: for any other extension, listing the known ones.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ModelFileError(
            f"{path}: unknown extension {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def _impl(framework: str) -> Any:
    return keras_impl() if framework == "keras" else torch_impl()


def _load_npz(path: str | Path) -> CanonicalWeights:
    """`load_npz`, its errors reported as ModelFileError like every other model file's."""
    try:
        return load_npz(path)
    except WeightFormatError as error:  # the message already names the file and the reason
        raise ModelFileError(str(error)) from None


def load_weights(path: str | Path) -> CanonicalWeights:
    """Read any supported model file into canonical weights (framework files loaded safely).

    Raises:
        ModelFileError: unknown extension, or a file that is missing, unreadable, unsafe or
            outside the specs (canonical .npz files included).
    """
    framework = file_format(path)
    if framework == "canonical":
        return _load_npz(path)
    impl = _impl(framework)
    return impl.to_canonical(impl.load_model(path))


def save_weights(weights: CanonicalWeights, path: str | Path) -> Path:
    """Write canonical weights as the format `path`'s extension names (atomically)."""
    framework = file_format(path)
    if framework == "canonical":
        return save_npz(weights, path)
    impl = _impl(framework)
    return impl.save_model(impl.from_canonical(weights), path)


def predict_file(path: str | Path, inputs: Any) -> Any:
    """Outputs of the model stored at `path` (the reference runs canonical `.npz` files)."""
    framework = file_format(path)
    if framework == "canonical":
        return reference_predict(_load_npz(path), inputs)
    impl = _impl(framework)
    return impl.predict(impl.load_model(path), inputs)


@dataclass
class PortResult:
    """What a file-to-file port read, wrote and measured."""

    source: Path
    destination: Path
    weights: CanonicalWeights
    weights_max_abs_diff: float
    agreement: list[Difference]

    def summary(self) -> str:
        """Lines for the terminal: the mapping (layers, gates, shapes) and the agreement."""
        spec = self.weights.spec
        lines = [
            f"ported {self.source} ({file_format(self.source)}) -> {self.destination} "
            f"({file_format(self.destination)}), {spec.dtype}"
        ]
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
        lines.append(
            f"  head dense {spec.head.activation}: W_y {self.weights.W_y.shape}, "
            f"b_y {self.weights.b_y.shape}"
        )
        lines.append(
            f"  weights read back from the destination: max abs diff "
            f"{self.weights_max_abs_diff:.2e} (one-bias layers compared as b + c)"
        )
        for row in self.agreement:
            lines.append(
                f"  outputs {row.pair}: max abs diff {row.max_abs:.2e} "
                f"(tolerance {row.tolerance:.0e}) {'ok' if row.ok else 'FAILED'}"
            )
        return "\n".join(lines)


def port_file(source: str | Path, destination: str | Path, seed: int = 0) -> PortResult:
    """Port the model in `source` to `destination`, then verify the written file.

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
    if not source.is_file():
        raise ModelFileError(f"{source}: no such file")
    weights = load_weights(source)
    # Write and verify under a temporary name beside the destination, then move it into place:
    # a failed port neither leaves a file behind nor destroys a file already at `destination`.
    candidate = destination.with_name(f".{destination.stem}.porting{destination.suffix}")
    save_weights(weights, candidate)
    try:
        written = load_weights(candidate)
        inputs = random_inputs(weights.spec, batch=32, seed=seed)
        expected = reference_predict(weights, inputs)
        tolerance = TOLERANCES[weights.spec.dtype]
        agreement = [
            difference(
                "outputs", "source vs reference", predict_file(source, inputs), expected, tolerance
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
            raise ModelFileError(
                f"{destination}: ported outputs disagree ({bad[0].pair}: max abs "
                f"diff {bad[0].max_abs:.2e} > {bad[0].tolerance:.0e}); not written"
            )
        candidate.replace(destination)
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    return PortResult(
        source,
        destination,
        weights,
        fold_single_bias(written).max_abs_diff(fold_single_bias(weights)),
        agreement,
    )
