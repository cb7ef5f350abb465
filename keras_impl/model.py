"""Keras models from a `ModelSpec`: the grammar's layers in order, each from its translator.

`build_model` is the only place Keras layers are made from a spec (through
`keras_impl.translators`), and `keras_impl.reading.spec_of` the only place a model's layers are
read back into one, so the two can be checked against each other and every other module
(weights, training, files) can trust `spec_of` to say what a model computes, whether
`build_model` made it or a user wrote it by hand like the tutorial's `create_RNN`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import keras

from keras_impl.translators import for_spec
from keras_impl.translators.readout import build_last_step, crop_mask_warning_silenced
from shared.errors import SpecError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, DropoutSpec, ModelSpec


@contextmanager
def floatx_scope(dtype: str) -> Iterator[None]:
    """Temporarily make `dtype` Keras's default float type, then restore the previous one.

    Keras creates some variables at `floatx()` regardless of the model's dtype: the optimizer's
    learning rate, the compiled loss and the loss tracker. A float64 model compiled under the
    default float32 would round its learning rate to float32 and report float32 losses, so
    compilation runs inside this scope, as if the user had called `set_floatx("float64")`;
    so does `model.fit`, whose array adapter casts float inputs to `floatx()`.

    The setting is process-global while the scope is open (not thread-safe). The global dtype
    policy is materialised first: Keras caches it from `floatx()` on first use, and it must not
    be cached while the temporary value is set.
    """
    keras.config.dtype_policy()
    previous = keras.config.floatx()
    keras.config.set_floatx(dtype)
    try:
        yield
    finally:
        keras.config.set_floatx(previous)


def check_backend_dtype(dtype: str) -> None:
    """Refuse a float64 model where Keras's backend would silently compute it in float32.

    JAX computes in float32 unless its 64-bit mode is on (JAX_ENABLE_X64=1, read when JAX is
    imported): a float64 Keras model on the JAX backend would hold float32 weights and only
    its outputs would be cast to float64. jax is imported only on that backend, where Keras
    has already imported it.

    Raises:
        SpecError: naming the backend and the setting that fixes it.
    """
    if dtype != "float64" or keras.backend.backend() != "jax":
        return
    import jax

    if not jax.config.jax_enable_x64:
        raise SpecError(
            "a float64 model on Keras's JAX backend needs JAX's 64-bit mode: set "
            "JAX_ENABLE_X64=1 before Keras is imported (without it JAX computes in float32)"
        )


def default_compile(model: keras.Model, dtype: str) -> None:
    """Compile `model` as the tutorial does (Adam with Keras defaults, MSE) in its own dtype.

    Compiled under `floatx_scope(dtype)`, so the loss object gets the model's dtype: a float32
    loss would cast float64 predictions down and make every gradient float32-accurate.
    """
    with floatx_scope(dtype):
        model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError())


def _layers(spec: ModelSpec) -> list[keras.layers.Layer]:
    """The Keras layers of a spec, in order, each from its kind's translator."""
    dtype = spec.dtype
    layers = []
    if spec.front is not None:
        layers.append(for_spec(spec.front).build(spec.front, spec.front.type, dtype))
    for index, layer in enumerate(spec.layers):
        layers.append(for_spec(layer).build(layer, f"rnn_{index}", dtype))
        if layer.output_dropout:
            dropout = DropoutSpec(layer.output_dropout)
            layers.append(for_spec(dropout).build(dropout, f"rnn_{index}_dropout", dtype))
    if spec.readout == "last_step":
        layers += build_last_step(spec.time_steps, dtype)
    for index, layer in enumerate(spec.head_layers):
        layers.append(for_spec(layer).build(layer, f"head_layer{index}", dtype))
    layers.append(for_spec(spec.head).build(spec.head, "head", dtype))
    return layers


def build_model(spec: ModelSpec, seed: int | None = None) -> keras.Model:
    """Build and compile the Keras model a spec describes, with Keras's default initializers.

    Layers are named "embedding" or "masking" (the front), "rnn_0", "rnn_1", ... (a Dropout
    after layer k is "rnn_k_dropout"), "last_step_crop" and "last_step" (the last-step
    readout), "head_layer0", ... and "head"; a bidirectional layer "rnn_k" wraps
    "rnn_k_<kind>" (so its halves are "forward_rnn_k_<kind>" and "backward_rnn_k_<kind>").
    Every layer gets the spec's dtype, so Keras's float setting is left alone; an Embedding
    model takes int32 token ids (batch, time_steps).

    Args:
        spec: the architecture, input shape and float precision.
        seed: if given, `keras.utils.set_random_seed(seed)` runs first (Python, numpy and
            TensorFlow global seeds, as a Keras user would set them), so the same seed gives
            the same initial weights.

    Returns:
        A `keras.Sequential` of built-in layers only (loads in plain Keras, safe_mode=True),
        compiled with Adam (Keras defaults) and mean squared error.

    Raises:
        SpecError: a float64 spec on Keras's JAX backend without JAX's 64-bit mode.
    """
    check_backend_dtype(spec.dtype)
    if seed is not None:
        keras.utils.set_random_seed(seed)
    if spec.embedded:
        inputs = keras.Input(shape=(spec.time_steps,), dtype="int32")
    else:
        inputs = keras.Input(shape=(spec.time_steps, spec.features), dtype=spec.dtype)
    with crop_mask_warning_silenced():
        model = keras.Sequential([inputs, *_layers(spec)], name="rnn_parity")
    default_compile(model, spec.dtype)
    return model


def create_rnn(
    hidden_units: int, dense_units: int, input_shape: tuple[int, int], activation: list[str]
) -> keras.Model:
    """The tutorial's `create_RNN`: SimpleRNN(hidden_units) then Dense(dense_units), float32.

    Args:
        hidden_units: units of the SimpleRNN layer.
        dense_units: units of the Dense head.
        input_shape: (time_steps, features) of one sample.
        activation: [SimpleRNN activation, Dense activation], Keras names.

    Returns:
        The compiled model (loss "mse", optimizer Adam), built through `build_model`.

    Raises:
        SpecError: if a size or activation name is invalid.
    """
    if len(activation) != 2:
        raise SpecError(f"activation must name two activations, got {activation!r}")
    if len(input_shape) != 2:
        raise SpecError(f"input_shape must be (time_steps, features), got {input_shape!r}")
    spec = ModelSpec(
        time_steps=input_shape[0],
        features=input_shape[1],
        layers=(RecurrentLayerSpec(kind="simple", units=hidden_units, activation=activation[0]),),
        head=DenseSpec(units=dense_units, activation=activation[1]),
    )
    return build_model(spec)


def canonical_activation(name: str) -> str:
    """Keras's own name for an activation ("swish" -> "silu"), for comparing specs."""
    return keras.activations.serialize(keras.activations.get(name))


def normalized(spec: ModelSpec) -> ModelSpec:
    """`spec` with every activation under Keras's own name, so aliases compare equal."""
    layers = tuple(
        dataclasses.replace(
            layer,
            activation=canonical_activation(layer.activation),
            # reset_after means nothing outside GRU; fix it so it cannot cause a mismatch
            reset_after=layer.reset_after if layer.kind == "gru" else True,
        )
        for layer in spec.layers
    )
    head_layers = tuple(
        dataclasses.replace(layer, activation=canonical_activation(layer.activation))
        if isinstance(layer, DenseSpec)
        else layer
        for layer in spec.head_layers
    )
    head = dataclasses.replace(spec.head, activation=canonical_activation(spec.head.activation))
    return dataclasses.replace(spec, layers=layers, head=head, head_layers=head_layers)
