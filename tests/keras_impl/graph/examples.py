"""Keras models written the way Keras's own examples and tutorials write them, for the reader.

Each function returns a fresh model; none goes through `build_graph_model`.
"""

from __future__ import annotations

import keras
from keras import layers


def bidirectional_text_classifier() -> keras.Model:
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(20, 6, mask_zero=True)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def stacked_relu_with_dropout() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(None, 3)),
            layers.LSTM(5, activation="relu", return_sequences=True),
            layers.Dropout(0.2),
            layers.GRU(4, activation="relu"),
            layers.Dropout(0.2),
            layers.Dense(1),
        ]
    )


def masked_sequence_tagger() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(None, 3)),
            layers.Masking(mask_value=0.0),
            layers.LSTM(4, return_sequences=True),
            layers.TimeDistributed(layers.Dense(2)),
        ]
    )


def lstm_dense_activation() -> keras.Model:
    model = keras.Sequential()
    model.add(keras.Input(shape=(6, 2)))
    model.add(layers.LSTM(4))
    model.add(layers.Dense(3))
    model.add(layers.Activation("softmax"))
    return model


def sequence_flatten_dense() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(5, 2)),
            layers.SimpleRNN(3, return_sequences=True),
            layers.Flatten(),
            layers.Dense(1),
        ]
    )


def lstm_autoencoder() -> keras.Model:
    inputs = keras.Input(shape=(6, 2))
    encoded = layers.LSTM(4)(inputs)
    repeated = layers.RepeatVector(6)(encoded)
    decoded = layers.LSTM(4, return_sequences=True)(repeated)
    outputs = layers.TimeDistributed(layers.Dense(2))(decoded)
    return keras.Model(inputs, outputs)


def two_branches(merge: str) -> keras.Model:
    inputs = keras.Input(shape=(None, 3))
    forward = layers.GRU(4)(inputs)
    backward = layers.GRU(4, go_backwards=True)(inputs)
    merged = (
        layers.Add()([forward, backward])
        if merge == "add"
        else layers.Concatenate()([forward, backward])
    )
    return keras.Model(inputs, layers.Dense(1)(merged))


def encoder_decoder() -> keras.Model:
    encoder_inputs = keras.Input(shape=(None, 3))
    _, state_h, state_c = layers.LSTM(4, return_state=True)(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, 2))
    decoder_outputs = layers.LSTM(4, return_sequences=True)(
        decoder_inputs, initial_state=[state_h, state_c]
    )
    outputs = layers.Dense(2, activation="softmax")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], outputs)


def attention_pooling(use_dot: bool) -> keras.Model:
    inputs = keras.Input(shape=(7, 3))
    sequence = layers.Bidirectional(layers.GRU(3, return_sequences=True))(inputs)
    scores = layers.Dense(1, activation="tanh")(sequence)
    weights = layers.Softmax(axis=1)(scores)
    if use_dot:
        context = layers.Flatten()(layers.Dot(axes=1)([weights, sequence]))
    else:
        context = layers.GlobalAveragePooling1D()(layers.Multiply()([sequence, weights]))
    return keras.Model(inputs, layers.Dense(1)(context))


def conv_front() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input(shape=(None, 3)),
            layers.Conv1D(4, 3, padding="causal", activation="relu"),
            layers.MaxPooling1D(2),
            layers.LSTM(4),
            layers.Dense(1),
        ]
    )


EXAMPLES = {
    "bidirectional_text_classifier": bidirectional_text_classifier,
    "stacked_relu_with_dropout": stacked_relu_with_dropout,
    "masked_sequence_tagger": masked_sequence_tagger,
    "lstm_dense_activation": lstm_dense_activation,
    "sequence_flatten_dense": sequence_flatten_dense,
    "lstm_autoencoder": lstm_autoencoder,
    "two_branches_add": lambda: two_branches("add"),
    "two_branches_concatenate": lambda: two_branches("concatenate"),
    "encoder_decoder": encoder_decoder,
    "attention_dot": lambda: attention_pooling(use_dot=True),
    "attention_multiply_pool": lambda: attention_pooling(use_dot=False),
    "conv_front": conv_front,
}
