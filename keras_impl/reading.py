"""The spec read back from any Keras model of the grammar, with the layer behind each part.

`read_model` walks a Sequential or a Functional chain once: each layer's translator is found by
class (`keras_impl.translators`), then the chain is matched to the grammar

    [Embedding | Masking] -> recurrent layers (a Dropout after one feeding another is its
    output_dropout) -> [Cropping1D + Flatten: the last step] -> head layers -> Dense

so that `spec_of` says what a model computes and `keras_impl.weights` knows which layer holds
which canonical arrays, whether `build_model` made the model or a user wrote it by hand.
Anything else is one `ModelFileError` naming the layer.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import keras

from keras_impl.translators import for_layer
from keras_impl.translators.common import describe
from keras_impl.translators.readout import check_last_step
from keras_impl.translators.table import DROPOUT, FRONT, HEAD, READOUT, RECURRENT
from shared.errors import ModelFileError, SpecError
from shared.grammar import DenseSpec, EmbeddingSpec
from shared.spec import ModelSpec


@dataclass(frozen=True)
class ModelLayers:
    """A model's spec and the Keras layer behind each of its parts (aligned with the spec)."""

    spec: ModelSpec
    front: keras.layers.Layer | None
    recurrent: tuple[keras.layers.Layer, ...]
    head_layers: tuple[keras.layers.Layer, ...]
    head: keras.layers.Layer


def layer_dtype(layer: keras.layers.Layer) -> str:
    """The one float dtype a layer stores and computes in, or ModelFileError (mixed precision)."""
    policy = layer.dtype_policy
    if policy.variable_dtype != policy.compute_dtype or policy.compute_dtype not in (
        "float32",
        "float64",
    ):
        raise ModelFileError(
            f"{describe(layer)} uses dtype policy {policy.name!r}: only float32 or float64 "
            "throughout is supported"
        )
    if getattr(policy, "quantization_mode", None):
        raise ModelFileError(f"{describe(layer)} is quantized, which is outside the grammar")
    return policy.compute_dtype


def _input_shape(model: keras.Model, embedded: bool) -> tuple[int, int]:
    """(time_steps, features) of the model's single input, which must be fully known.

    With an Embedding front the input is token ids (batch, time_steps): features is 1.
    """
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    want = "(time_steps,) of token ids" if embedded else "(time_steps, features)"
    if not inputs:
        raise ModelFileError(
            f"model {model.name!r} has no defined input shape: start it with keras.Input({want})"
        )
    if len(inputs) != 1:
        raise ModelFileError(f"model {model.name!r} has {len(inputs)} inputs; the grammar has one")
    shape = tuple(inputs[0].shape)
    rank = 2 if embedded else 3
    if len(shape) != rank or not all(isinstance(size, int) for size in shape[1:]):
        raise ModelFileError(
            f"model {model.name!r} takes inputs shaped {shape}: the grammar needs "
            f"(batch, {want[1:-1]}) with every size but the batch fixed"
        )
    return (shape[1], 1) if embedded else (shape[1], shape[2])


def _check_chain(model: keras.Model, layers: list[keras.layers.Layer]) -> None:
    """A functional model must be a plain chain: each layer used once, fed by the one before."""
    if isinstance(model, keras.Sequential):
        return  # a Sequential is a chain by construction
    for layer in layers:
        _check_one_output(layer)
    if len(model.outputs) != 1:
        raise ModelFileError(
            f"model {model.name!r} has {len(model.outputs)} outputs; the grammar has one"
        )
    previous = model.inputs[0]
    for layer in layers:
        # _inbound_nodes: one per call of the layer (Keras has no public count of them); its
        # arguments: the tensor it was called on, and the mask Keras passes along by keyword
        nodes = layer._inbound_nodes
        arguments = nodes[0].arguments if len(nodes) == 1 else None
        if (
            arguments is None
            or len(arguments.args) != 1
            or arguments.args[0] is not previous
            or set(arguments.kwargs) - {"mask", "training"}
        ):
            raise ModelFileError(
                f"{describe(layer)} is not fed by the layer before it (or is used twice): "
                "the grammar describes a plain chain, without branches or merges"
            )
        previous = layer.output


def _check_one_output(layer: keras.layers.Layer) -> None:
    """Refuse, naming the layer and its option, a layer that returns several tensors.

    Counted before the model's outputs, so `out, h, c = LSTM(..., return_state=True)(x)` in a
    one-output model is blamed on the LSTM, not on the Dense after it or on the model.
    """
    nodes = layer._inbound_nodes  # one per call (Keras has no public count); used twice: later
    if len(nodes) != 1 or len(nodes[0].outputs) == 1:
        return
    config = layer.get_config()
    if config.get("return_state"):
        option = "return_state=True"
    elif isinstance(layer, keras.layers.Bidirectional) and layer.merge_mode is None:
        option = "merge_mode=None"
    else:
        option = "several outputs"
    raise ModelFileError(
        f"{describe(layer)} returns {len(nodes[0].outputs)} tensors ({option}): every layer of "
        "the grammar returns one (final states handed to another layer are not supported)"
    )


def _misplaced(layer: keras.layers.Layer, role: str) -> ModelFileError:
    where = {
        FRONT: "must come first (Embedding or Masking starts the model)",
        RECURRENT: "comes after the readout or head: the recurrent layers come first",
        DROPOUT: "must follow a recurrent layer or sit in the head (one Dropout at a time)",
        READOUT: "is only read as the last-step readout, Cropping1D then Flatten right after "
        "a bidirectional sequence",
        HEAD: "sits between recurrent layers: the head comes after the last recurrent layer",
    }[role]
    return ModelFileError(f"{describe(layer)} {where}")


def _recurrent_stack(parts: list[tuple[keras.layers.Layer, Any]]) -> list[Any]:
    """The recurrent layers' specs; a Dropout right after one becomes its output_dropout."""
    specs: list[Any] = []
    dropout_open = False  # whether the last recurrent layer may still take a Dropout
    for layer, translator in parts:
        if translator.role == RECURRENT:
            specs.append(translator.spec_of(layer))
            dropout_open = True
        elif translator.role == DROPOUT and dropout_open:
            rate = translator.spec_of(layer).rate
            specs[-1] = dataclasses.replace(specs[-1], output_dropout=rate)
            dropout_open = False
        else:
            raise _misplaced(layer, translator.role)
    return specs


def _split(
    parts: list[tuple[keras.layers.Layer, Any]], model: keras.Model
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """(front, recurrent, readout, head) parts of the chain, by the translators' roles."""
    front = parts[:1] if parts and parts[0][1].role == FRONT else []
    rest = parts[len(front) :]
    last = max((i for i, (_, t) in enumerate(rest) if t.role == RECURRENT), default=None)
    if last is None:
        raise ModelFileError(f"model {model.name!r} has no recurrent layer: the grammar needs one")
    recurrent, after = rest[: last + 1], rest[last + 1 :]
    count = next((i for i, (_, t) in enumerate(after) if t.role != READOUT), len(after))
    return front, recurrent, after[:count], after[count:]


def read_model(model: keras.Model) -> ModelLayers:
    """Match a Keras model to the grammar: its spec, and the layer behind each part.

    Raises:
        ModelFileError: naming the layer (and its class or setting) outside the grammar.
    """
    if not isinstance(model, keras.Model):
        raise ModelFileError(f"expected a keras.Model, got {type(model).__name__}")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        raise ModelFileError(f"model {model.name!r} has no layers")
    parts = [(layer, for_layer(layer)) for layer in layers]  # refuses unknown classes, in order
    _check_chain(model, layers)
    dtypes = {layer_dtype(layer) for layer in layers}
    if len(dtypes) != 1:
        raise ModelFileError(f"model {model.name!r} mixes dtypes {sorted(dtypes)}; use one")
    front, recurrent, readout, head = _split(parts, model)
    front_spec = front[0][1].spec_of(front[0][0]) if front else None
    time_steps, features = _input_shape(model, isinstance(front_spec, EmbeddingSpec))
    specs = _recurrent_stack(recurrent)
    if readout:
        last = specs[-1]
        check_last_step([layer for layer, _ in readout], time_steps, last.output_size)
        if not (last.bidirectional and last.return_sequences):
            raise ModelFileError(
                f"{describe(readout[0][0])} reads the last step of a sequence: the grammar reads "
                "it from a Bidirectional(return_sequences=True) layer (for one direction the "
                "last step is the final state: use return_sequences=False)"
            )
    for layer, translator in head:
        if translator.role not in (HEAD, DROPOUT):
            raise _misplaced(layer, translator.role)
    head_specs = [translator.spec_of(layer) for layer, translator in head]
    if not head_specs or not isinstance(head_specs[-1], DenseSpec):
        ending = describe(head[-1][0]) if head else describe(parts[-1][0])
        raise ModelFileError(f"{ending} ends the model, but the grammar ends with a Dense layer")
    try:
        spec = ModelSpec(
            time_steps=time_steps,
            features=features,
            layers=tuple(specs),
            head=head_specs[-1],
            dtype=dtypes.pop(),
            front=front_spec,
            readout="last_step" if readout else None,
            head_layers=tuple(head_specs[:-1]),
        )
    except SpecError as error:  # e.g. a layer without return_sequences feeding another
        raise ModelFileError(f"model {model.name!r} is outside the grammar: {error}") from None
    return ModelLayers(
        spec=spec,
        front=front[0][0] if front else None,
        recurrent=tuple(layer for layer, t in recurrent if t.role == RECURRENT),
        head_layers=tuple(layer for layer, _ in head[:-1]),
        head=head[-1][0],
    )


def spec_of(model: keras.Model) -> ModelSpec:
    """Read the architecture of a Keras model back into a `ModelSpec`.

    Works for models from `build_model` and for hand-written ones, Sequential or a Functional
    chain (branches and merges are refused): see the module docstring for the grammar, and
    `keras_impl.translators` for what each layer may set. TimeDistributed(Dense) reads as Dense;
    activation aliases come back under Keras's own name ("swish" reads back as "silu").

    Args:
        model: a built Keras model.

    Returns:
        The spec that `build_model` would turn into the same computation.

    Raises:
        ModelFileError: naming the layer (and its class or setting) outside the grammar, e.g.
            a Conv1D layer, use_bias=False, go_backwards, stateful, mixed dtypes, a branch.
    """
    return read_model(model).spec
