"""Model graphs on every route (port, keras_to_torch, torch_to_keras, check FILE), each checked
against the SOURCE model, with teeth.

`zero_output_for_mask=True` on a one-direction layer, once read as False without a word, now
ports exactly. A planted mis-read of that option in the graph reader is refused by
`keras_to_torch`, `port` and `check FILE`, each naming the node; a planted error well under 1e-3
(a BatchNorm epsilon off) is refused with the tolerance stated; a correct float32 port at
magnitude ~1e4 passes while the same mis-read at magnitude 1e-2 still fails.
"""

from __future__ import annotations

import dataclasses
import re

import keras
import numpy as np
import pytest

from compare.cli import main
from compare.port import keras_to_torch, torch_to_keras
from compare.port.graph_port import check_inputs, compare_outputs
from shared.errors import ModelFileError
from shared.graph.weights import random_weights
from tests.compare.port.plants import plant_zero_output_misread

pytestmark = pytest.mark.slow  # real Keras and torch models on every test


def _randomised(model: keras.Model, seed: int = 0, scale: float = 0.5) -> keras.Model:
    import keras_impl

    graph, _ = keras_impl.read_graph(model)
    weights = random_weights(graph, seed=seed, scale=scale)
    keras_impl.graph_set_canonical(model, weights)
    return model


def _zero_output_tagger(units: int = 3) -> keras.Model:
    """Masking -> LSTM(return_sequences, zero_output_for_mask=True) -> TimeDistributed(Dense)."""
    inputs = keras.Input((6, 2))
    masked = keras.layers.Masking(0.0, name="mask")(inputs)
    sequence = keras.layers.LSTM(
        units, return_sequences=True, zero_output_for_mask=True, name="enc"
    )(masked)
    outputs = keras.layers.TimeDistributed(keras.layers.Dense(2), name="tag")(sequence)
    return _randomised(keras.Model(inputs, outputs))


def _agrees(keras_impl, source, port_run, weights) -> None:
    for label, inputs in check_inputs(weights, seed=5):
        rows = compare_outputs("port", port_run(inputs), source(inputs), weights.graph.dtype, label)
        assert all(row.ok for row in rows), rows


def test_zero_output_for_mask_ports_exactly_on_every_route(impls, tmp_path, capsys):
    keras_impl, torch_impl = impls
    model = _zero_output_tagger()
    weights = keras_impl.graph_to_canonical(model)
    assert weights.graph.by_name["enc"].kind.zero_output_for_mask
    net = keras_to_torch(model)
    _agrees(
        keras_impl,
        lambda X: keras_impl.graph_predict(model, X),
        lambda X: torch_impl.graph_predict(net, X),
        weights,
    )
    back = torch_to_keras(net)
    _agrees(
        keras_impl,
        lambda X: keras_impl.graph_predict(model, X),
        lambda X: keras_impl.graph_predict(back, X),
        weights,
    )
    source = tmp_path / "tagger.keras"
    model.save(source)
    assert main(["port", str(source), str(tmp_path / "tagger.pt")]) == 0
    assert main(["port", str(tmp_path / "tagger.pt"), str(tmp_path / "back.keras")]) == 0
    assert main(["check", str(source)]) == 0
    out = capsys.readouterr().out
    assert "your file vs reference" in out and "all agree" in out


def test_a_misread_option_is_refused_on_every_route_naming_the_node(
    impls, tmp_path, capsys, monkeypatch
):
    model = _zero_output_tagger()
    source = tmp_path / "tagger.keras"
    model.save(source)
    plant_zero_output_misread(monkeypatch)
    with pytest.raises(ModelFileError, match=r"first diverging node: enc = recurrent") as caught:
        keras_to_torch(model)
    assert "tolerance" in str(caught.value) and "nothing written or returned" in str(caught.value)
    destination = tmp_path / "tagger.pt"
    assert main(["port", str(source), str(destination)]) == 2
    error = capsys.readouterr().err
    assert "first diverging node: enc = recurrent" in error and len(error.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tagger.keras"]
    assert main(["check", str(source)]) == 1
    out = capsys.readouterr().out
    assert "first diverging node: enc = recurrent" in out
    assert "your file vs reference" in out


def test_a_planted_error_under_1e_3_is_refused_with_its_tolerance(impls, monkeypatch):
    """A BatchNorm epsilon read 1.25x too large moves outputs by ~1e-5..1e-4: a tolerance
    loosened 1000x (1e-3) would pass it, the real one does not."""
    from keras_impl.graph.translators import layers as graph_layers

    inputs = keras.Input((None, 2))  # a free time axis: a graph, not a chain
    sequence = keras.layers.GRU(4, name="gru")(inputs)
    normed = keras.layers.BatchNormalization(epsilon=1e-3, name="bn")(sequence)
    model = _randomised(keras.Model(inputs, keras.layers.Dense(1, name="out")(normed)))
    translator = graph_layers.BatchNormTranslator
    kind_of = translator.kind_of.__func__
    monkeypatch.setattr(
        translator,
        "kind_of",
        classmethod(lambda cls, layer: dataclasses.replace(kind_of(cls, layer), epsilon=1.25e-3)),
    )
    with pytest.raises(ModelFileError) as caught:
        keras_to_torch(model)
    message = str(caught.value)
    gap = float(message.split("differs by ")[1].split(" ")[0])
    assert 1e-6 < gap < 1e-3, message
    assert re.search(r"tolerance \d\.\de-06 \(1e-06 x max\(1, max \|outputs\|\)\)", message)
    assert "first diverging node: bn" in message


@pytest.mark.parametrize(("scale", "ok"), [(1e4, True), (1e-2, False)])
def test_the_graph_tolerance_scales_with_the_outputs(impls, monkeypatch, scale, ok):
    """A correct float32 port at magnitude ~1e4 passes; a mis-read at magnitude 1e-2 fails."""
    keras_impl, _ = impls
    model = _zero_output_tagger(units=4)
    head = model.get_layer("tag").layer
    head.kernel.assign(head.kernel.numpy() * scale)
    head.bias.assign(head.bias.numpy() * scale)
    weights = keras_impl.graph_to_canonical(model)
    magnitude = max(
        float(np.abs(keras_impl.graph_predict(model, inputs)[0]).max())
        for _, inputs in check_inputs(weights)
    )
    assert (magnitude > 1e3) if ok else (magnitude < 1e-1)
    if ok:
        keras_to_torch(model)
        return
    plant_zero_output_misread(monkeypatch)
    with pytest.raises(ModelFileError, match="first diverging node: enc"):
        keras_to_torch(model)


def test_a_lengths_model_ports_to_pt_pt2_and_back_and_checks(impls, tmp_path):
    """x and its lengths (the usual torch way to feed padded batches) on every file route, on a
    free time axis (the harder case: .pt2 fixes it, the check runs two lengths elsewhere)."""
    time = None
    from tests.torch_impl.graph.graphs import lengths_graph

    keras_impl, _ = impls
    model = keras_impl.graph_from_canonical(random_weights(lengths_graph("float32", time), 1))
    source = tmp_path / "lengths.keras"
    model.save(source)
    fixed = ["--time-steps", "6"] if time is None else []
    assert main(["port", str(source), str(tmp_path / "lengths.pt")]) == 0
    assert main(["port", str(source), str(tmp_path / "lengths.pt2"), *fixed]) == 0
    assert main(["port", str(tmp_path / "lengths.pt"), str(tmp_path / "back.keras")]) == 0
    assert main(["check", str(tmp_path / "back.keras")]) == 0


@pytest.mark.parametrize("route", ["chain", "graph"])
def test_keras_to_torch_returns_the_net_in_eval_mode_as_it_was_checked(impls, route):
    """A net returned training ran its dropout on the user's first `net(x)`: 0.75 off the
    source on a public toxic-comment classifier whose port had been checked and passed."""
    import torch

    inputs = keras.Input((6, 2))
    if route == "chain":
        hidden = keras.layers.LSTM(3, dropout=0.3, name="rnn")(inputs)
    else:
        sequence = keras.layers.LSTM(3, return_sequences=True, dropout=0.3, name="rnn")(inputs)
        hidden = keras.layers.GlobalMaxPooling1D(name="pool")(sequence)
    dropped = keras.layers.Dropout(0.5, name="drop")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(dropped))
    model.set_weights([w + 0.3 for w in model.get_weights()])  # non-zero biases too
    net = keras_to_torch(model)
    assert not net.training
    X = np.random.default_rng(0).normal(size=(16, 6, 2)).astype("float32")
    with torch.no_grad():
        got = net(torch.as_tensor(X))
    got = got[0] if isinstance(got, list | tuple) else got
    np.testing.assert_allclose(got.numpy(), np.asarray(model(X)), rtol=0, atol=1e-6)
