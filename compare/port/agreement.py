"""Forward-pass agreement among the numpy reference, Keras and torch, on the same inputs.

Given canonical weights, both frameworks build their model from them and run the same inputs;
the report gives the max absolute and max relative difference of the outputs and of every
layer's hidden states at every time step, for each pair (Keras vs reference, torch vs reference,
Keras vs torch), with a tolerance per dtype.

Hidden states are read without touching any framework's internals: for layer k, a *probe* model
is built from the canonical weights of the front and layers 0..k with return_sequences on, no
head layers and an identity dense head (W_y = I, b_y = 0, linear), so its output is exactly
layer k's output sequence (x @ I + 0 is exact in floating point), compared with the reference's
`sequences[k]` (masked steps included: the previous output, or zeros inside a bidirectional
layer, as Keras returns them). Every framework runs it through its public `from_canonical` and
`predict`.

Inputs fit the spec's front: token ids for an Embedding (with padding id 0 at the end, in the
middle and at the start of some sequences when it masks), and for Masking, sequences whose
masked steps sit at the end, in the middle and at the start, so both of torch's mask paths
(packed sequences for trailing padding, the step loop otherwise) are exercised.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from compare.frameworks import both
from shared.errors import DataError
from shared.graph.samples import padding_mask
from shared.reference import forward
from shared.spec import DenseSpec, EmbeddingSpec, MaskingSpec, ModelSpec
from shared.tolerances import TOLERANCES, allowed_difference
from shared.weights import CanonicalWeights

PAIRS = (("keras", "reference"), ("torch", "reference"), ("keras", "torch"))


@dataclass
class Difference:
    """How far two computations of one quantity are apart.

    max_rel is normwise: max |a - b| / max |b| (elementwise ratios explode near zero).
    tolerance is the bound applied: the base tolerance scaled by the baseline's magnitude
    (`shared.tolerances.allowed_difference`) unless an absolute bound was asked for.
    per_step holds the max abs difference at each time step, for hidden states.
    """

    quantity: str
    pair: str
    max_abs: float
    max_rel: float
    tolerance: float
    worst_step: int | None = None
    per_step: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.max_abs <= self.tolerance)


@dataclass
class AgreementReport:
    """Every difference measured for one spec and one batch of inputs."""

    spec: ModelSpec
    inputs: str
    rows: list[Difference]

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    def to_dict(self) -> dict:
        rows = [dataclasses.asdict(row) | {"ok": row.ok} for row in self.rows]
        return {"spec": self.spec.to_dict(), "inputs": self.inputs, "ok": self.ok, "rows": rows}

    def format_table(self) -> str:
        """A fixed-width table for the terminal, worst rows visible at a glance."""
        header = f"{'quantity':<34} {'pair':<20} {'max abs':>10} {'max rel':>10} {'tol':>8}  ok"
        lines = [header, "-" * len(header)]
        for row in self.rows:
            step = f" (worst t={row.worst_step})" if row.worst_step is not None else ""
            lines.append(
                f"{(row.quantity + step):<34} {row.pair:<20} {row.max_abs:>10.2e} "
                f"{row.max_rel:>10.2e} {row.tolerance:>8.1e}  "
                f"{'yes' if row.ok else 'NO'}"
            )
        return "\n".join(lines)


def difference(
    quantity: str,
    pair: str,
    a: np.ndarray,
    b: np.ndarray,
    tolerance: float,
    scaled: bool = True,
) -> Difference:
    """Compare a with b (b is the baseline); for (batch, time, ...) arrays also per time step.

    Args:
        tolerance: the base bound; with `scaled` it grows with max |b| above 1
            (`shared.tolerances.allowed_difference`), else it is an absolute bound.
    """
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a64.shape != b64.shape:
        raise ValueError(f"{quantity} ({pair}): shapes differ, {a64.shape} vs {b64.shape}")
    gap = np.abs(a64 - b64)
    max_abs = float(gap.max()) if gap.size else 0.0
    scale = float(np.abs(b64).max()) if b64.size else 0.0
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    bound = allowed_difference(tolerance, scale) if scaled else tolerance
    per_step: list[float] = []
    worst_step = None
    if gap.ndim == 3:  # (batch, time, units)
        per_step = [float(v) for v in gap.max(axis=(0, 2))]
        worst_step = int(np.argmax(per_step))
    return Difference(quantity, pair, max_abs, max_rel, bound, worst_step, per_step)


def probe_weights(weights: CanonicalWeights, layer_index: int) -> CanonicalWeights:
    """Weights of a model whose output is layer `layer_index`'s hidden-state sequence.

    Returns:
        Canonical weights for layers 0..layer_index (the last with return_sequences=True) and
        an identity linear head, so outputs are (batch, time, units * directions).
    """
    spec = weights.spec
    layers = list(spec.layers[: layer_index + 1])
    layers[-1] = dataclasses.replace(layers[-1], return_sequences=True, output_dropout=0.0)
    size = layers[-1].output_size
    probe_spec = ModelSpec(
        spec.time_steps,
        spec.features,
        tuple(layers),
        DenseSpec(size, "linear"),
        spec.dtype,
        front=spec.front,
    )
    return CanonicalWeights(
        probe_spec,
        weights.layers[: layer_index + 1],
        np.eye(size, dtype=spec.dtype),
        np.zeros(size, dtype=spec.dtype),
        front=dict(weights.front),
    )


def measure(
    weights: CanonicalWeights,
    inputs: np.ndarray,
    inputs_label: str = "random",
    tolerance: float | None = None,
) -> AgreementReport:
    """Run reference, Keras and torch on `inputs` and compare outputs and hidden states.

    Args:
        weights: canonical weights (with their spec) that both frameworks are built from.
        inputs: (batch, time, features), or token ids (batch, time) for an Embedding.
        inputs_label: what the inputs are, for the report.
        tolerance: an absolute max abs difference; default TOLERANCES[dtype], scaled by the
            magnitude of each quantity's reference values.

    Returns:
        An AgreementReport with one row per quantity and pair.
    """
    keras_side, torch_side = both()
    spec = weights.validate().spec
    scaled = tolerance is None
    tolerance = TOLERANCES[spec.dtype] if tolerance is None else tolerance
    trace = forward(weights, inputs)
    runners = {"keras": keras_side, "torch": torch_side}

    def outputs_of(framework: str, model_weights: CanonicalWeights) -> np.ndarray:
        impl = runners[framework]
        return impl.predict(impl.from_canonical(model_weights), inputs)

    results = {
        "reference": trace.outputs,
        "keras": outputs_of("keras", weights),
        "torch": outputs_of("torch", weights),
    }
    rows = [
        difference("outputs", f"{a} vs {b}", results[a], results[b], tolerance, scaled)
        for a, b in PAIRS
    ]
    for index, layer in enumerate(spec.layers):
        probe = probe_weights(weights, index)
        hidden = {
            "reference": trace.sequences[index],
            "keras": outputs_of("keras", probe),
            "torch": outputs_of("torch", probe),
        }
        for position, direction in enumerate(layer.directions):
            columns = slice(position * layer.units, (position + 1) * layer.units)
            quantity = f"layer {index} {direction} h"
            rows.extend(
                difference(
                    quantity,
                    f"{a} vs {b}",
                    hidden[a][:, :, columns],
                    hidden[b][:, :, columns],
                    tolerance,
                    scaled,
                )
                for a, b in PAIRS
            )
    return AgreementReport(spec, inputs_label, rows)


def random_inputs(spec: ModelSpec, batch: int = 64, seed: int = 0) -> np.ndarray:
    """Inputs that fit the spec's front, drawn from a seeded generator.

    Returns:
        Standard-normal (batch, time_steps, features) in the spec's dtype; int64 token ids
        (batch, time_steps) for an Embedding front. Where the front masks, some sequences are
        padded at the end, in the middle and at the start (see `padding_mask`).
    """
    rng = np.random.default_rng(seed)
    shape = (batch, spec.time_steps)
    if isinstance(spec.front, EmbeddingSpec):
        low = 1 if spec.front.mask_zero else 0  # id 0 appears only where padding is planted
        ids = rng.integers(low, spec.front.vocab, size=shape)
        if spec.front.mask_zero:
            ids[~padding_mask(batch, spec.time_steps, rng)] = 0
        return ids.astype(np.int64)
    inputs = rng.normal(size=(*shape, spec.features)).astype(spec.dtype)
    if isinstance(spec.front, MaskingSpec):
        inputs[~padding_mask(batch, spec.time_steps, rng)] = spec.front.mask_value
    return inputs


def sunspot_inputs(spec: ModelSpec, batch: int = 64) -> np.ndarray:
    """Real windows of the scaled sunspots series, (batch, time_steps, 1), in the spec's dtype.

    Raises:
        DataError: if the spec does not take one input feature.
    """
    from shared.data import get_train_test, load_sunspots
    from shared.windows import sliding_windows

    if spec.features != 1 or spec.embedded:
        raise DataError(
            "sunspot windows are one real value per step; the spec takes "
            + ("token ids" if spec.embedded else f"{spec.features} features")
        )
    train, _, _ = get_train_test(load_sunspots())
    X, _ = sliding_windows(train, spec.time_steps, stride=spec.time_steps)
    return X[:batch].astype(spec.dtype)
