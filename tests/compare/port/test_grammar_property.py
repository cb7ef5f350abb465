"""A property test over the whole grammar: any spec builds in Keras, ports to torch and back.

Hypothesis draws specs from every part of the grammar (front, kinds, stacks, directions,
dropout rates, readouts, head layers with their epsilons, both dtypes), random non-constant
weights are loaded into Keras, and the model travels `.keras -> torch file -> .keras` through
`port_file`, which itself checks source and destination against the numpy reference. The final
file must then agree with the first Keras model (1e-6 float32, 1e-12 float64, as everywhere).
A failure names the spec in one line (`ModelSpec.describe`) and its JSON.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from compare.port import files as port
from compare.port.agreement import random_inputs
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
    ModelSpec,
)
from shared.tolerances import TOLERANCES
from shared.weights import random_weights

pytestmark = pytest.mark.slow

_rates = st.sampled_from([0.0, 0.2])
_head_layer = st.one_of(
    st.builds(DenseSpec, st.integers(1, 4), st.sampled_from(["relu", "tanh", "linear"])),
    st.builds(DropoutSpec, st.sampled_from([0.1, 0.5])),
    st.builds(LayerNormSpec, st.sampled_from([1e-3, 1e-5])),
    st.builds(BatchNormSpec, st.sampled_from([1e-3, 1e-5])),
)


@st.composite
def grammar_specs(draw) -> ModelSpec:
    front = draw(
        st.sampled_from(
            [None, EmbeddingSpec(9, 3), EmbeddingSpec(9, 3, mask_zero=True), MaskingSpec(0.0)]
        )
    )
    depth = draw(st.integers(1, 2))
    readout = draw(st.sampled_from(["final", "sequence", "last_step"]))
    layers = []
    for index in range(depth):
        last = index == depth - 1
        kind = draw(st.sampled_from(["simple", "lstm", "gru"]))
        simple_activation = draw(st.sampled_from(["tanh", "linear"]))
        layers.append(
            RecurrentLayerSpec(
                kind,
                draw(st.integers(1, 3)),
                activation=simple_activation if kind == "simple" else "tanh",
                return_sequences=not last or readout != "final",
                bidirectional=draw(st.booleans()) or (last and readout == "last_step"),
                reset_after=draw(st.booleans()),
                dropout=draw(_rates),
                recurrent_dropout=draw(_rates),
                output_dropout=0.0 if last else draw(_rates),
            )
        )
    return ModelSpec(
        draw(st.integers(2, 5)),
        1 if isinstance(front, EmbeddingSpec) else draw(st.integers(1, 2)),
        tuple(layers),
        DenseSpec(draw(st.integers(1, 2)), draw(st.sampled_from(["linear", "sigmoid"]))),
        draw(st.sampled_from(["float32", "float64"])),
        front=front,
        readout=readout,
        head_layers=tuple(draw(st.lists(_head_layer, max_size=2))),
    )


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,  # the same six specs every run: CI stays reproducible
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=grammar_specs(), seed=st.integers(0, 99))
def test_any_spec_ports_keras_torch_keras_and_agrees(impls, tmp_path_factory, spec, seed):
    keras_impl, _ = impls
    note(f"spec: {spec.describe()}\n{spec.to_json()}")
    folder = tmp_path_factory.mktemp("property")
    source = keras_impl.from_canonical(random_weights(spec, seed=seed))
    keras_impl.save_model(source, folder / "source.keras")
    port.port_file(folder / "source.keras", folder / "model.pt", seed=seed)
    port.port_file(folder / "model.pt", folder / "back.keras", seed=seed)
    inputs = random_inputs(spec, batch=8, seed=seed)
    back = port.predict_file(folder / "back.keras", inputs)
    gap = float(np.max(np.abs(np.asarray(back) - keras_impl.predict(source, inputs))))
    assert gap <= TOLERANCES[spec.dtype], f"{spec.describe()}: max abs diff {gap:.2e}"
