"""Keras models from a `ModelSpec`, and the spec read back from any Keras model.

`build_model` is the only place Keras layers are configured from a spec, and `spec_of` the only
place a model's layers are read back into one, so the two can be checked against each other and
every other module (weights, training, files) can trust `spec_of` to say what a model computes,
whether `build_model` made it or a user wrote it by hand like the tutorial's `create_RNN`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import keras

from shared.errors import ModelFileError, SpecError
from shared.spec import DenseSpec, ModelSpec, RecurrentLayerSpec

# Keras layer class per spec kind; matched by exact type, since a subclass may compute otherwise.
RECURRENT_CLASSES: dict[str, type] = {
    "simple": keras.layers.SimpleRNN,
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
}
_KIND_OF_CLASS = {cls: kind for kind, cls in RECURRENT_CLASSES.items()}
_SUPPORTED = "only SimpleRNN, LSTM, GRU, Bidirectional and one final Dense are supported"
# Config keys that must be empty: each adds a loss term or rewrites weights during training.
_MUST_BE_NONE = (
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
)


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


def default_compile(model: keras.Model, dtype: str) -> None:
    """Compile `model` as the tutorial does (Adam with Keras defaults, MSE) in its own dtype.

    Compiled under `floatx_scope(dtype)`, so the loss object gets the model's dtype: a float32
    loss would cast float64 predictions down and make every gradient float32-accurate.
    """
    with floatx_scope(dtype):
        model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError())


def _recurrent_layer(layer: RecurrentLayerSpec, name: str, dtype: str) -> keras.layers.Layer:
    """One Keras recurrent layer (unwrapped) for a layer spec."""
    options: dict[str, Any] = {
        "units": layer.units,
        "activation": layer.activation,
        "return_sequences": layer.return_sequences,
        "dtype": dtype,
        "name": name,
    }
    if layer.kind != "simple":
        # Keras's default, written out because the reference and torch assume it.
        options["recurrent_activation"] = "sigmoid"
    if layer.kind == "gru":
        options["reset_after"] = layer.reset_after
    return RECURRENT_CLASSES[layer.kind](**options)


def build_model(spec: ModelSpec, seed: int | None = None) -> keras.Model:
    """Build and compile the Keras model a spec describes, with Keras's default initializers.

    Layers are named "rnn_0", "rnn_1", ... and "head"; a bidirectional layer "rnn_k" wraps
    "rnn_k_<kind>" (so its halves are "forward_rnn_k_<kind>" and "backward_rnn_k_<kind>").
    Every layer and the input get the spec's dtype, so Keras's float setting is left alone.

    Args:
        spec: the architecture, input shape and float precision.
        seed: if given, `keras.utils.set_random_seed(seed)` runs first (Python, numpy and
            TensorFlow global seeds, as a Keras user would set them), so the same seed gives
            the same initial weights.

    Returns:
        A `keras.Sequential`, compiled with Adam (Keras defaults) and mean squared error.
    """
    if seed is not None:
        keras.utils.set_random_seed(seed)
    stack: list[Any] = [keras.Input(shape=(spec.time_steps, spec.features), dtype=spec.dtype)]
    for index, layer in enumerate(spec.layers):
        name = f"rnn_{index}"
        if layer.bidirectional:
            inner = _recurrent_layer(layer, f"{name}_{layer.kind}", spec.dtype)
            stack.append(
                keras.layers.Bidirectional(inner, merge_mode="concat", dtype=spec.dtype, name=name)
            )
        else:
            stack.append(_recurrent_layer(layer, name, spec.dtype))
    stack.append(
        keras.layers.Dense(
            spec.head.units, activation=spec.head.activation, dtype=spec.dtype, name="head"
        )
    )
    model = keras.Sequential(stack, name="rnn_parity")
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


def _describe(layer: keras.layers.Layer) -> str:
    return f"layer {layer.name!r} ({type(layer).__name__})"


def _layer_dtype(layer: keras.layers.Layer) -> str:
    """The one float dtype a layer stores and computes in, or ModelFileError (mixed precision)."""
    policy = layer.dtype_policy
    if policy.variable_dtype != policy.compute_dtype or policy.compute_dtype not in (
        "float32",
        "float64",
    ):
        raise ModelFileError(
            f"{_describe(layer)} uses dtype policy {policy.name!r}: only float32 or float64 "
            "throughout is supported"
        )
    if getattr(policy, "quantization_mode", None):
        raise ModelFileError(f"{_describe(layer)} is quantized, which is outside the specs")
    return policy.compute_dtype


def _activation_name(value: Any, what: str, layer: keras.layers.Layer) -> str:
    """A serialized activation as its Keras name; a custom function is outside the specs."""
    if not isinstance(value, str):
        raise ModelFileError(
            f"{_describe(layer)} has a custom {what} (not one of Keras's named activations), "
            "which is outside the specs"
        )
    return value


def _check_plain(config: dict[str, Any], layer: keras.layers.Layer) -> None:
    """Reject settings that change what the layer computes or how it trains."""
    if not config.get("use_bias", True):
        raise ModelFileError(f"{_describe(layer)} has use_bias=False: the specs need biases")
    for key in _MUST_BE_NONE:
        if config.get(key) is not None:
            raise ModelFileError(f"{_describe(layer)} sets {key}, which is outside the specs")
    if config.get("lora_rank"):
        raise ModelFileError(f"{_describe(layer)} has LoRA enabled, which is outside the specs")
    if not layer.trainable:
        raise ModelFileError(f"{_describe(layer)} is frozen (trainable=False); specs train all")


def _recurrent_spec(
    layer: keras.layers.Layer, backwards: bool = False, bidirectional: bool = False
) -> RecurrentLayerSpec:
    """The spec of one unwrapped SimpleRNN/LSTM/GRU layer.

    Args:
        layer: the Keras layer.
        backwards: True for the backward half of a Bidirectional (it must read backwards).
        bidirectional: whether to mark the returned spec bidirectional.
    """
    kind = _KIND_OF_CLASS.get(type(layer))
    if kind is None:
        raise ModelFileError(f"{_describe(layer)} is outside the specs: {_SUPPORTED}")
    config = layer.get_config()
    _check_plain(config, layer)
    for key in ("stateful", "return_state"):
        if config.get(key):
            raise ModelFileError(f"{_describe(layer)} has {key}=True, which is outside the specs")
    if bool(config.get("go_backwards")) != backwards:
        raise ModelFileError(
            f"{_describe(layer)} has go_backwards={config.get('go_backwards')}: only a "
            "Bidirectional's backward half may read the sequence backwards"
        )
    for key in ("dropout", "recurrent_dropout"):
        if config.get(key, 0.0) > 0:
            raise ModelFileError(f"{_describe(layer)} has {key}={config[key]}: the specs use none")
    if kind != "simple":
        gate = _activation_name(config["recurrent_activation"], "recurrent_activation", layer)
        if gate != "sigmoid":
            raise ModelFileError(
                f"{_describe(layer)} has recurrent_activation={gate!r}: the specs use sigmoid"
            )
    try:
        return RecurrentLayerSpec(
            kind=kind,
            units=config["units"],
            activation=_activation_name(config["activation"], "activation", layer),
            return_sequences=bool(config["return_sequences"]),
            bidirectional=bidirectional,
            reset_after=bool(config.get("reset_after", True)),
        )
    except SpecError as error:
        raise ModelFileError(f"{_describe(layer)} is outside the specs: {error}") from None


def _bidirectional_spec(layer: keras.layers.Bidirectional) -> RecurrentLayerSpec:
    """The spec of a Bidirectional wrapper; both halves must be the same layer, mirrored."""
    if layer.merge_mode != "concat":
        raise ModelFileError(
            f"{_describe(layer)} has merge_mode={layer.merge_mode!r}: only 'concat' is supported"
        )
    _check_plain(layer.get_config(), layer)
    forward = _recurrent_spec(layer.forward_layer, backwards=False, bidirectional=True)
    backward = _recurrent_spec(layer.backward_layer, backwards=True, bidirectional=True)
    if forward != backward:
        raise ModelFileError(
            f"{_describe(layer)}: its forward and backward layers differ ({forward} vs "
            f"{backward}); the specs need mirrored halves"
        )
    return forward


def _dense_spec(layer: keras.layers.Layer) -> DenseSpec:
    config = layer.get_config()
    _check_plain(config, layer)
    try:
        return DenseSpec(
            units=config["units"],
            activation=_activation_name(config["activation"], "activation", layer),
        )
    except SpecError as error:
        raise ModelFileError(f"{_describe(layer)} is outside the specs: {error}") from None


def _input_shape(model: keras.Model) -> tuple[int, int]:
    """(time_steps, features) of the model's single input, which must be fully known."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ModelFileError(
            f"model {model.name!r} has no defined input shape: start it with "
            "keras.Input((time_steps, features))"
        )
    if len(inputs) != 1:
        raise ModelFileError(f"model {model.name!r} has {len(inputs)} inputs; the specs have one")
    shape = tuple(inputs[0].shape)
    if len(shape) != 3 or not all(isinstance(size, int) for size in shape[1:]):
        raise ModelFileError(
            f"model {model.name!r} takes inputs shaped {shape}: the specs need "
            "(batch, time_steps, features) with both sizes fixed"
        )
    return shape[1], shape[2]


def _check_chain(model: keras.Model, layers: list[keras.layers.Layer]) -> None:
    """A functional model must be a plain chain: each layer used once, fed by the one before."""
    if isinstance(model, keras.Sequential):
        return  # a Sequential is a chain by construction
    if len(model.outputs) != 1:
        raise ModelFileError(f"model {model.name!r} has {len(model.outputs)} outputs; specs have 1")
    previous = model.inputs[0]
    for layer in layers:
        # _inbound_nodes: one per call of the layer; Keras has no public count of them
        if len(layer._inbound_nodes) != 1 or layer.input is not previous:
            raise ModelFileError(
                f"{_describe(layer)} is not fed by the layer before it (or is used twice): "
                "the specs describe a plain stack"
            )
        previous = layer.output


def spec_of(model: keras.Model) -> ModelSpec:
    """Read the architecture of a Keras model back into a `ModelSpec`.

    Works for models from `build_model` and for hand-written ones (Sequential or functional),
    as long as they are a plain stack: InputLayer, SimpleRNN / LSTM / GRU layers (optionally in
    Bidirectional with merge_mode "concat"), then exactly one Dense as the last layer.
    Activation aliases come back under Keras's own name ("swish" reads back as "silu").

    Args:
        model: a built Keras model.

    Returns:
        The spec that `build_model` would turn into the same computation.

    Raises:
        ModelFileError: naming the layer (and its class or setting) that is outside the specs,
            e.g. a Conv1D layer, use_bias=False, dropout, go_backwards, stateful, mixed dtypes.
    """
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"expected a keras.Model, got {type(model).__name__}")
    time_steps, features = _input_shape(model)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise ModelFileError(f"model {model.name!r} has no layers")
    _check_chain(model, layers)
    dtypes = {_layer_dtype(layer) for layer in layers}
    if len(dtypes) != 1:
        raise ModelFileError(f"model {model.name!r} mixes dtypes {sorted(dtypes)}; use one")
    *recurrent, last = layers
    if type(last) is not keras.layers.Dense:
        raise ModelFileError(
            f"{_describe(last)} ends the model, but the specs end with a Dense layer: {_SUPPORTED}"
        )
    specs = []
    for layer in recurrent:
        if type(layer) is keras.layers.Bidirectional:
            specs.append(_bidirectional_spec(layer))
        else:
            specs.append(_recurrent_spec(layer))
    if not specs:
        raise ModelFileError(f"model {model.name!r} has no recurrent layer before its Dense head")
    try:
        return ModelSpec(
            time_steps=time_steps,
            features=features,
            layers=tuple(specs),
            head=_dense_spec(last),
            dtype=dtypes.pop(),
        )
    except SpecError as error:  # e.g. a layer without return_sequences feeding another
        raise ModelFileError(f"model {model.name!r} is outside the specs: {error}") from None


def canonical_activation(name: str) -> str:
    """Keras's own name for an activation ("swish" -> "silu"), for comparing specs."""
    return keras.activations.serialize(keras.activations.get(name))


def normalized(spec: ModelSpec) -> ModelSpec:
    """`spec` with every activation under Keras's own name, so aliases compare equal."""
    layers = tuple(
        RecurrentLayerSpec(
            kind=layer.kind,
            units=layer.units,
            activation=canonical_activation(layer.activation),
            return_sequences=layer.return_sequences,
            bidirectional=layer.bidirectional,
            # reset_after means nothing outside GRU; fix it so it cannot cause a mismatch
            reset_after=layer.reset_after if layer.kind == "gru" else True,
        )
        for layer in spec.layers
    )
    head = DenseSpec(units=spec.head.units, activation=canonical_activation(spec.head.activation))
    return ModelSpec(spec.time_steps, spec.features, layers, head, spec.dtype)
