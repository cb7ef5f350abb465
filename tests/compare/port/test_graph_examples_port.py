"""Public-example-shaped Keras models port through the CLI and agree in plain Keras and torch.

Each model of tests/keras_impl/graph/examples.py (written as Keras's examples write them: a
bidirectional text classifier on free-length token ids, relu LSTM/GRU stacks with dropout, a
masked tagger, an LSTM autoencoder, two branches merged, an encoder handing its state to a
decoder, attention pooling, a CNN-LSTM) gets random weights, then travels `.keras -> .pt ->
.keras` and `.keras -> .pt2` through `rnn-parity port`. The returned `.keras` runs in plain Keras
(`keras.saving.load_model`, safe_mode) and the `.pt2` in plain torch (`torch.export.load`), and
both must give the first model's outputs (1e-6 float32, scaled above magnitude 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.cli import main
from shared.graph.samples import sample_inputs
from shared.graph.weights import random_weights
from shared.tolerances import TOLERANCES, allowed_difference
from tests.keras_impl.graph.examples import EXAMPLES

pytestmark = pytest.mark.slow
PT2_TIME_STEPS = 6  # the one length a free-time recurrent graph's .pt2 is exported for
# torch.export costs seconds per model, so .pt2 goes with the shapes that differ for it: token
# ids on a free time axis with masks, a repeat vector, attention, a convolutional front, states
# handed on, and branches (the rest take the same export path node for node).
PT2_EXAMPLES = (
    "bidirectional_text_classifier",
    "lstm_autoencoder",
    "attention_dot",
    "conv_front",
    "encoder_decoder",
    "two_branches_concatenate",
)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_an_example_ports_and_runs_in_plain_keras_and_plain_torch(impls, tmp_path, name):
    import keras
    import torch

    keras_impl, _ = impls
    model = EXAMPLES[name]()
    graph, _ = keras_impl.read_graph(model)
    keras_impl.graph_set_canonical(model, random_weights(graph, seed=4))
    source = tmp_path / "model.keras"
    model.save(source)
    fixed = ["--time-steps", str(PT2_TIME_STEPS)] if graph.free_time else []
    assert main(["port", str(source), str(tmp_path / "model.pt")]) == 0
    assert main(["port", str(tmp_path / "model.pt"), str(tmp_path / "back.keras")]) == 0
    with_pt2 = name in PT2_EXAMPLES
    if with_pt2:
        assert main(["port", str(source), str(tmp_path / "model.pt2"), *fixed]) == 0

    inputs = sample_inputs(graph, batch=7, seed=9, time_steps=PT2_TIME_STEPS)
    feed = [
        inputs[i.name].astype("int32" if i.kind == "tokens" else graph.dtype) for i in graph.inputs
    ]
    expected = np.asarray(model(feed if len(feed) > 1 else feed[0], training=False))
    bound = allowed_difference(TOLERANCES[graph.dtype], float(np.abs(expected).max()))
    back = keras.saving.load_model(tmp_path / "back.keras", safe_mode=True)
    in_keras = np.asarray(back(feed if len(feed) > 1 else feed[0], training=False))
    assert np.max(np.abs(in_keras - expected)) <= bound, name
    if with_pt2:
        program = torch.export.load(str(tmp_path / "model.pt2")).module()
        tensors = [torch.from_numpy(inputs[i.name]) for i in graph.inputs]
        with torch.no_grad():
            in_torch = program(*tensors).numpy()
        assert np.max(np.abs(in_torch - expected)) <= bound, name


def test_a_graph_in_a_legacy_h5_ports(impls, tmp_path):
    import keras

    keras_impl, _ = impls
    model = EXAMPLES["two_branches_add"]()
    graph, _ = keras_impl.read_graph(model)
    keras_impl.graph_set_canonical(model, random_weights(graph, seed=1))
    source = tmp_path / "branches.h5"
    keras.saving.save_model(model, source)  # Keras's legacy HDF5 saver
    assert main(["port", str(source), str(tmp_path / "branches.pt")]) == 0
    assert main(["check", str(source)]) == 0
