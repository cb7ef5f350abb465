"""What the reader cannot read exactly is refused in one line naming the layer (and its class
or option), never read with a silent default."""

from __future__ import annotations

import keras
import pytest
from keras import layers

from keras_impl.graph import read_graph
from keras_impl.graph.lengths import length_mask
from shared.errors import ModelFileError


class Doubler(layers.Layer):
    def call(self, x):
        return x * 2.0


def _model(*stack: layers.Layer, shape: tuple = (5, 3), batch: int | None = None) -> keras.Model:
    inputs = keras.Input(shape=shape, batch_size=batch)
    x = inputs
    for layer in stack:
        x = layer(x)
    return keras.Model(inputs, x)


def _shared_twice() -> keras.Model:
    inputs = keras.Input(shape=(5, 3))
    dense = layers.Dense(3, name="shared")
    return keras.Model(inputs, layers.LSTM(2)(dense(dense(inputs))))


def _mask_by_hand() -> keras.Model:
    inputs = keras.Input(shape=(5, 3))
    mask = keras.ops.not_equal(inputs[..., 0], -1.0)  # the user's own padding rule
    return keras.Model(inputs, layers.LSTM(2, name="rnn")(inputs, mask=mask))


def _lengths_clamped_to_two() -> keras.Model:
    """The lengths-mask pattern with ops.maximum(lengths, 2): no length_mask node computes it."""
    inputs, lengths = keras.Input((5, 3), name="x"), keras.Input((), dtype="int32", name="n")
    mask = length_mask(inputs, lengths, "clamped", min_length=2)
    output = layers.LSTM(2, name="rnn")(inputs, mask=mask)
    return keras.Model([inputs, lengths], output, name="clamped")


REFUSED = {
    "mask by hand": (
        _mask_by_hand,
        r"layer 'rnn' \(LSTM\) is called with a mask= of its own",
    ),
    "lengths clamped to 2": (
        _lengths_clamped_to_two,
        r"length mask 'clamped' clamps the lengths with maximum\(lengths, 2\): only maximum",
    ),
    "lambda": (
        lambda: _model(layers.Lambda(lambda x: x + 1, name="lam"), layers.LSTM(2)),
        r"layer 'lam' \(Lambda\) is not supported: supported are SimpleRNN",
    ),
    "custom": (
        lambda: _model(Doubler(name="doubler"), layers.LSTM(2)),
        r"layer 'doubler' \(Doubler\) is not supported",
    ),
    "stateful": (
        lambda: _model(layers.LSTM(2, stateful=True, name="st"), batch=2),
        r"layer 'st' \(LSTM\) has stateful=True: only stateful=False",
    ),
    "used_twice": (_shared_twice, r"layer 'shared' \(Dense\) is called 2 times"),
    "backward_differs": (
        lambda: _model(
            layers.Bidirectional(
                layers.LSTM(2), backward_layer=layers.GRU(2, go_backwards=True), name="bi"
            )
        ),
        r"layer 'bi' \(Bidirectional\) has a backward_layer that differs",
    ),
    "dot_normalize": (
        lambda: (
            lambda i: keras.Model(
                i,
                layers.Dot(axes=2, normalize=True, name="cos")(
                    [
                        layers.LSTM(2, return_sequences=True)(i),
                        layers.GRU(2, return_sequences=True)(i),
                    ]
                ),
            )
        )(keras.Input((5, 3))),
        r"layer 'cos' \(Dot\) has normalize=True",
    ),
    "conv_groups": (
        lambda: _model(layers.Conv1D(6, 2, groups=3, name="cv"), shape=(5, 3)),
        r"layer 'cv' \(Conv1D\) has groups=3",
    ),
    "layer_norm_axis": (
        lambda: _model(
            layers.LSTM(2, return_sequences=True), layers.LayerNormalization(axis=1, name="ln")
        ),
        r"layer 'ln' \(LayerNormalization\) has axis=\[1\]",
    ),
    "mixed_precision": (
        lambda: _model(layers.LSTM(2, dtype="mixed_float16", name="half")),
        r"layer 'half' \(LSTM\) uses dtype policy 'mixed_float16'",
    ),
    "time_distributed_lstm": (
        lambda: _model(
            layers.TimeDistributed(layers.Dense(2)),
            layers.LSTM(2, return_sequences=True),
            layers.TimeDistributed(layers.Reshape((2,)), name="td"),
        ),
        r"layer 'td' \(TimeDistributed\) wraps",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_in_one_line_naming_the_layer(name: str) -> None:
    make, message = REFUSED[name]
    with pytest.raises(ModelFileError, match=message) as caught:
        read_graph(make())
    assert "\n" not in str(caught.value)


def test_a_crop_that_keeps_several_steps_is_refused() -> None:
    model = _model(
        layers.LSTM(2, return_sequences=True),
        layers.Cropping1D((2, 0), name="crop"),
        layers.Flatten(),
    )
    with pytest.raises(ModelFileError, match=r"layer 'crop' \(Cropping1D\) crops \(2, 0\)"):
        read_graph(model)


def test_a_subclassed_model_is_refused() -> None:
    class Net(keras.Model):
        def call(self, x):
            return x

    with pytest.raises(ModelFileError, match="no graph of layer calls"):
        read_graph(Net())
