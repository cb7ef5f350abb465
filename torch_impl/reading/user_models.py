"""A user's own torch weights (no rnn-parity spec) read into canonical weights and a ModelSpec.

PyTorch users save `model.state_dict()`, and Lightning users save checkpoints of their own
LightningModule: neither says which network it belongs to. The state dict's key names and
shapes do say most of it, because torch's recurrent modules name their parameters one way:

    <prefix>weight_ih_l{k}[_reverse]  (gates * units, input)   gates: RNN 1, GRU 3, LSTM 4
    <prefix>weight_hh_l{k}[_reverse]  (gates * units, units)
    <prefix>bias_ih_l{k}, bias_hh_l{k}  (gates * units,)      (absent when bias=False)
    <prefix>weight_hr_l{k}            only with proj_size, which no Keras layer computes
    <head>weight (out, in), <head>bias (out,)                  the one nn.Linear

so this module finds every nn.RNN / nn.LSTM / nn.GRU (any num_layers, either direction count),
chains them by shapes, finds the head, and reads each layer's tensors through the translator
of its kind (`torch_impl.translators`, the one place torch's layout is written down). What a
state dict cannot say (nn.RNN's nonlinearity, the head's activation, the window length) comes from
arguments, and every such assumption is returned as a sentence for the port summary.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from shared.errors import ModelFileError, SpecError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.weights import CanonicalWeights
from torch_impl.io import load_model, read_file
from torch_impl.reading.user_layout import (
    TORCH_CLASS,
    KeyedModule,
    chain,
    dtype_of,
    head_of,
    listed,
    recurrent_module,
    split_keys,
)
from torch_impl.translators import DENSE, RECURRENT, stacked_view
from torch_impl.weights import to_canonical


@dataclass
class Inferred:
    """Canonical weights read from a user's tensors, and how: key mapping and assumptions."""

    weights: CanonicalWeights
    mapping: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def canonical_from_state_dict(
    state_dict: dict[str, Any],
    activation: str | dict[str, str] = "tanh",
    head_activation: str = "linear",
    time_steps: int = 12,
    source: str = "state dict",
    *,
    head_origin: str = "not stored in a state dict; --head-activation",
    readout: str | None = None,
) -> Inferred:
    """Infer the spec of a user's state dict and read its weights into canonical form.

    Args:
        state_dict: tensors by name, e.g. `model.state_dict()` or a checkpoint's "state_dict".
        activation: nn.RNN's nonlinearity ("tanh" or "relu"; any Keras name is accepted), or a
            mapping from module prefix (e.g. "encoder.rnn.") to it; LSTM and GRU ignore it.
        head_activation: what the user's forward applies after the nn.Linear (Keras name).
        time_steps: window length of the spec (a state dict does not say).
        source: the file or object named in errors.
        head_origin: where `head_activation` came from, for the assumptions.
        readout: what the head reads of a bidirectional last module, which a state dict cannot
            say: "final" (h_n of both directions) or "last_step" (`out[:, -1]`: the backward
            half has read one step). None refuses such a state dict rather than guess; for one
            direction both are the same and it is not needed.

    Returns:
        The canonical weights, which key went where, and the assumptions made.

    Raises:
        ModelFileError: keys that fit no layout (listed), no or several candidate heads,
            proj_size, mismatched shapes, mixed or non-float dtypes, a bidirectional last
            module without `readout`.
    """
    if not isinstance(state_dict, dict) or not state_dict:
        raise ModelFileError(f"{source}: holds no tensors")
    dtype = dtype_of(source, state_dict)
    groups, others = split_keys(state_dict, source)
    if not groups:
        raise ModelFileError(
            f"{source}: no nn.RNN, nn.LSTM or nn.GRU weights (keys like weight_ih_l0) among "
            f"{listed(list(state_dict))}"
        )
    head_name, head = head_of(source, others)
    found = [recurrent_module(source, prefix, layers) for prefix, layers in groups.items()]
    modules, how = chain(source, found, head["weight"].shape[1])
    activations = activation if isinstance(activation, dict) else {}
    layers, canonical, mapping, no_bias = [], [], [], []
    for module in modules:
        if "bias_ih" not in module.tensors[(0, "_l0")]:
            no_bias.append(module.label)
        name = activations.get(module.prefix, activation if isinstance(activation, str) else "tanh")
        for index in range(module.num_layers):
            k = len(layers)
            try:
                layers.append(
                    RecurrentLayerSpec(
                        kind=module.kind,
                        units=module.units,
                        activation=name if module.kind == "simple" else "tanh",
                        return_sequences=True,
                        bidirectional=module.bidirectional,
                    )
                )
            except SpecError as error:
                raise ModelFileError(f"{source}: {error}") from None
            view = stacked_view(
                lambda key, prefix=module.prefix: state_dict.get(prefix + key),
                index,
                module.bidirectional,
            )
            canonical.append(RECURRENT.to_canonical(view, layers[-1]))
            for direction in layers[-1].directions:
                reverse = "_reverse" if direction == "backward" else ""
                mapping.append(
                    f"{module.prefix}*_l{index}{reverse} ({TORCH_CLASS[module.kind]}) -> layer "
                    f"{k} {direction}: W, U, b, c per gate {', '.join(layers[-1].gates)}"
                )
    last_step = _reads_last_step(source, modules[-1], readout)
    layers[-1] = dataclasses.replace(layers[-1], return_sequences=last_step)
    try:
        spec = ModelSpec(
            time_steps=time_steps,
            features=modules[0].features,
            layers=tuple(layers),
            head=DenseSpec(units=head["weight"].shape[0], activation=head_activation),
            dtype=dtype,
            readout="last_step" if last_step else None,
        )
    except SpecError as error:
        raise ModelFileError(f"{source}: {error}") from None
    prefix = f"{head_name}." if head_name else ""
    bias = head.get("bias", head["weight"].new_zeros(head["weight"].shape[0]))
    final = DENSE.to_canonical(SimpleNamespace(weight=head["weight"], bias=bias), spec.head)
    mapping.append(f"{prefix}weight, {prefix}bias (nn.Linear) -> head W_y, b_y")
    weights = CanonicalWeights(spec, canonical, final["W"], final["b"]).validate()
    assumptions = _assumptions(spec, modules, how, activation, f"{head_activation} ({head_origin})")
    if no_bias or "bias" not in head:
        missing = no_bias + ([] if "bias" in head else [head_name or "(top level)"])
        assumptions.append(f"no biases (bias=False) in {listed(missing)}: zeros")
    return Inferred(weights, mapping, assumptions)


READOUTS = ("final", "last_step")


def _reads_last_step(source: str, last: KeyedModule, readout: str | None) -> bool:
    """Whether the head reads `out[:, -1]` of a bidirectional last module (not its h_n).

    The two differ in the backward half (its state after the whole sequence, or after one
    step), and a state dict holds no forward to tell them apart: a guess would port a model
    that computes something else, so without `readout` it is refused.
    """
    if readout is not None and readout not in READOUTS:
        raise ModelFileError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
    if not last.bidirectional:
        return False  # one direction: out[:, -1] is h_n[-1]
    if readout is None:
        raise ModelFileError(
            f"{source}: the last recurrent module ({last.label}) is bidirectional, and a state "
            "dict cannot say what the head reads: h_n of both directions (--readout final) or "
            "out[:, -1] (--readout last_step); or pass --module package.module:YourClass to "
            "read it from your forward"
        )
    return readout == "last_step"


def _assumptions(
    spec: ModelSpec,
    modules: list[KeyedModule],
    how: str,
    activation: str | dict[str, str],
    head: str,
) -> list[str]:
    """Sentences for every choice a state dict could not make itself."""
    notes = []
    if isinstance(activation, dict) and activation:
        read = ", ".join(
            f"{prefix.rstrip('.') or '(top level)'} {name}" for prefix, name in activation.items()
        )
        notes.append(f"nn.RNN nonlinearity: read from each module ({read})")
    elif any(m.kind == "simple" for m in modules):
        notes.append(
            f"nn.RNN nonlinearity: {activation} (not stored in a state dict; --activation)"
        )
    notes.append(f"head activation: {head}")
    notes.append(f"time steps: {spec.time_steps} (the Keras model's window length; --time-steps)")
    if spec.readout == "last_step":
        notes.append("the head reads out[:, -1] of both directions (--readout last_step)")
    elif spec.layers[-1].bidirectional:
        notes.append("the head reads h_n of both directions (--readout final)")
    else:
        notes.append("the head reads the last layer's final hidden state (out[:, -1])")
    if any(m.kind == "gru" for m in modules):
        notes.append("nn.GRU ports to Keras GRU(reset_after=True), torch's own formula")
    if len(modules) > 1:
        chain = " -> ".join(m.label for m in modules)
        notes.append(f"recurrent modules chained {chain} ({how})")
    return notes


def read_state_dict(path: str | os.PathLike) -> dict[str, Any]:
    """The state dict in any torch weight file: .pt/.pth (plain or {"state_dict": ...}), any
    Lightning .ckpt, or .safetensors; loaded with weights_only=True (or safetensors).

    Raises:
        ModelFileError: naming the file and the reason.
    """
    return read_file(path)[1]


def read_canonical(
    path: str | os.PathLike,
    activation: str = "tanh",
    head_activation: str = "linear",
    time_steps: int = 12,
    readout: str | None = None,
) -> Inferred:
    """Canonical weights from any torch weight file, rnn-parity's own or a user's.

    A file that carries an rnn-parity spec is rebuilt from it (nothing assumed); any other
    state dict goes through `canonical_from_state_dict` with the given assumptions.

    Raises:
        ModelFileError: naming the file and the reason.
    """
    spec, state = read_file(path)
    if spec is not None:
        return Inferred(to_canonical(load_model(path)), [], ["spec read from the file"])
    return canonical_from_state_dict(
        state, activation, head_activation, time_steps, str(path), readout=readout
    )
