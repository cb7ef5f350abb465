"""Where two computations of one model first part: layer, direction and time step, or the part.

When a port's outputs differ, the number alone does not say what is wrong. This compares, in
the model's own order: every recurrent layer's hidden states (in each direction's reading
order, step by step), then the readout, then each head layer. Each framework computes its side
from its own canonical weights through probe models (a model cut after the part, with an
identity linear head, so its output is the part's output exactly; see
`compare.port.agreement.probe_weights`); the torch side of a user's own module can instead be
that module's own forward, recorded part by part (`torch_impl.reading.traced_parts`).

A different weight shows as the first layer and time step whose hidden state diverges; a
different forward (the readout, a head layer) as "every hidden state agrees" and the part.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from compare.port.agreement import probe_weights
from shared.spec import DenseSpec, ModelSpec
from shared.tolerances import allowed_difference
from shared.twins import FrameworkSide
from shared.weights import CanonicalWeights

Key = tuple[str, int]  # ("readout", 0) or ("head", i): a part after the recurrent layers


def cut_after(weights: CanonicalWeights, key: Key) -> CanonicalWeights:
    """Weights of the model cut after the readout or head layer `key`, with an identity head."""
    spec = weights.spec
    kept = 0 if key[0] == "readout" else key[1] + 1
    size = spec.head_input_size(kept)
    cut = dataclasses.replace(
        spec, head_layers=spec.head_layers[:kept], head=DenseSpec(size, "linear")
    )
    return CanonicalWeights(
        cut,
        weights.layers,
        np.eye(size, dtype=spec.dtype),
        np.zeros(size, dtype=spec.dtype),
        front=dict(weights.front),
        head_layers=list(weights.head_layers[:kept]),
    )


def after_keys(spec: ModelSpec) -> list[Key]:
    """The parts after the recurrent layers: the readout, then each head layer."""
    return [("readout", 0)] + [("head", index) for index in range(len(spec.head_layers))]


def label(spec: ModelSpec, key: Key) -> str:
    if key[0] == "readout":
        return f"the readout ({spec.readout})"
    return f"head layer {key[1]} ({spec.head_layers[key[1]].type})"


def _run(side: FrameworkSide, weights: CanonicalWeights, X: np.ndarray) -> np.ndarray:
    return np.asarray(side.predict(side.from_canonical(weights), X), dtype=np.float64)


def _tail(spec: ModelSpec) -> str:
    """The spec after the recurrent layers, e.g. "readout last_step -> dense(1, linear)"."""
    described = spec.describe().split(" [")[0].split(" -> ")
    return " -> ".join([f"readout {spec.readout}", *described[-1 - len(spec.head_layers) :]])


def _hidden(
    keras_side: FrameworkSide,
    torch_side: FrameworkSide,
    keras: Any,
    torch: Any,
    X: Any,
    atol: float,
) -> str | None:
    """The first layer, direction and step whose hidden states part, or None."""
    for index, layer in enumerate(keras.spec.layers):
        ours = _run(keras_side, probe_weights(keras, index), X)
        gap = np.abs(ours - _run(torch_side, probe_weights(torch, index), X))
        # (batch, time, units * directions); the bound grows with the states' size (relu layers)
        bound = allowed_difference(atol, float(np.abs(ours).max()) if ours.size else 0.0)
        for position, direction in enumerate(layer.directions):
            per_step = gap[:, :, position * layer.units : (position + 1) * layer.units]
            per_step = per_step.max(axis=(0, 2))  # (time,)
            steps = range(len(per_step))
            for step in reversed(steps) if direction == "backward" else steps:
                if not per_step[step] <= bound:
                    return (
                        f"first diverging hidden state: layer {index} {direction}, time step "
                        f"{step} (max abs {per_step[step]:.2e})"
                    )
    return None


def first_divergence(
    keras: CanonicalWeights,
    torch: CanonicalWeights,
    X: np.ndarray,
    atol: float,
    torch_after: dict[Key, np.ndarray] | None = None,
    labels: dict[Key, str] | None = None,
) -> str:
    """Where a Keras model (its canonical weights) and a torch one first part on inputs X.

    Args:
        keras, torch: each side's canonical weights (with their specs).
        X: the inputs both ran (batch-major; token ids for an Embedding).
        atol: the base tolerance: a part agrees within `allowed_difference(atol, its size)`.
        torch_after: the torch side's readout and head-layer outputs from its own forward
            (a user's traced module); None computes them from `torch` as for Keras.
        labels: names for those parts (the user's nodes); default "the readout (final)", ...

    Returns:
        One sentence naming the first diverging layer, direction and time step, or the part.
    """
    from compare.frameworks import both

    keras_side, torch_side = both()
    keras_layers = [(x.kind, x.units, x.bidirectional) for x in keras.spec.layers]
    torch_layers = [(x.kind, x.units, x.bidirectional) for x in torch.spec.layers]
    if keras_layers != torch_layers:
        return f"the recurrent layers differ: Keras {keras_layers}, torch {torch_layers}"
    found = _hidden(keras_side, torch_side, keras, torch, X, atol)
    if found is not None:
        return found
    tails = _tail(keras.spec), _tail(torch.spec)
    if tails[0] != tails[1]:
        return (
            "every hidden state agrees; the models differ after the recurrent layers: Keras "
            f"{tails[0]}, torch {tails[1]}"
        )
    for key in after_keys(keras.spec):
        ours = _run(keras_side, cut_after(keras, key), X)
        if torch_after is None:
            theirs = _run(torch_side, cut_after(torch, key), X)
        else:
            theirs = np.asarray(torch_after[key], dtype=np.float64)
        gap = float(np.abs(ours - theirs).max()) if ours.shape == theirs.shape else np.inf
        if not gap <= allowed_difference(atol, float(np.abs(ours).max()) if ours.size else 0.0):
            name = (labels or {}).get(key, label(keras.spec, key))
            return f"every hidden state agrees; first diverging layer: {name} (max abs {gap:.2e})"
    return (
        "every hidden state, the readout and every head layer agree: the difference is in the "
        "final Dense or its activation"
    )
