"""Where each tensor of a user's torch state dict belongs: recurrent modules, their order, the head.

torch's recurrent modules name their parameters one way (see `torch_impl.reading.user_models`), so
key names and shapes identify every nn.RNN / nn.LSTM / nn.GRU, its layers and directions, and the
one nn.Linear head. This module only reads and checks that layout; every misfit is a ModelFileError
naming the source and the keys at fault. `user_models` turns the result into canonical weights.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import torch

from shared.errors import ModelFileError
from torch_impl.common import float_dtype

_RECURRENT = re.compile(
    r"^(?P<module>(?:.*\.)?)(?P<param>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
    r"_l(?P<layer>\d+)(?P<reverse>_reverse)?$"
)
_KIND_OF_GATES = {1: "simple", 3: "gru", 4: "lstm"}
TORCH_CLASS = {"simple": "nn.RNN", "gru": "nn.GRU", "lstm": "nn.LSTM"}
MAX_LISTED = 8


@dataclass
class KeyedModule:
    """One torch recurrent module found by its state-dict keys: prefix, kind and every layer's
    tensors. No module object exists on this route (a bare state dict holds none), which is why
    it is not the traced reader's `RecurrentUse` (a live module, its fx node, a dropout after)."""

    prefix: str
    kind: str
    units: int
    features: int
    num_layers: int
    bidirectional: bool
    tensors: dict[tuple[int, str], dict[str, torch.Tensor]]  # (layer, suffix) -> param -> t

    @property
    def output_size(self) -> int:
        return self.units * (2 if self.bidirectional else 1)

    @property
    def label(self) -> str:
        return self.prefix.rstrip(".") or "(top level)"


def listed(names: list[str]) -> str:
    more = f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return ", ".join(names[:MAX_LISTED]) + more


def split_keys(
    state: dict[str, Any], source: str
) -> tuple[dict[str, dict[tuple[int, str], dict[str, torch.Tensor]]], dict[str, dict[str, Any]]]:
    """Recurrent tensors grouped by module prefix, and every other key grouped by its module."""
    recurrent: dict[str, dict[tuple[int, str], dict[str, torch.Tensor]]] = {}
    others: dict[str, dict[str, Any]] = {}
    for key, tensor in state.items():
        match = _RECURRENT.match(key)
        if match is None:
            module, _, name = key.rpartition(".")
            others.setdefault(module, {})[name] = tensor
            continue
        if match["param"] == "weight_hr":
            raise ModelFileError(
                f"{source}: {key} means proj_size > 0 (an LSTM with a projection), which no "
                "Keras layer computes; refused"
            )
        suffix = "_l0_reverse" if match["reverse"] else "_l0"
        layer = recurrent.setdefault(match["module"], {}).setdefault(
            (int(match["layer"]), suffix), {}
        )
        layer[match["param"]] = tensor
    return recurrent, others


def _expect(source: str, key: str, tensor: torch.Tensor, shape: tuple[int, ...]) -> None:
    if tuple(tensor.shape) != shape:
        raise ModelFileError(
            f"{source}: mismatched shapes: {key} is {tuple(tensor.shape)}, its module's other "
            f"weights need {shape}"
        )


def recurrent_module(
    source: str, prefix: str, layers: dict[tuple[int, str], dict[str, torch.Tensor]]
) -> KeyedModule:
    """Kind, sizes and directions of one module's tensors, every shape checked against them."""
    first = layers.get((0, "_l0"), {})
    if "weight_ih" not in first or "weight_hh" not in first:
        raise ModelFileError(f"{source}: {prefix}* has no weight_ih_l0 and weight_hh_l0")
    rows, units = first["weight_hh"].shape if first["weight_hh"].dim() == 2 else (0, 0)
    kind = _KIND_OF_GATES.get(rows // units if units and rows % units == 0 else 0)
    if kind is None:
        raise ModelFileError(
            f"{source}: mismatched shapes: {prefix}weight_hh_l0 is "
            f"{tuple(first['weight_hh'].shape)}; nn.RNN/GRU/LSTM have (1, 3 or 4 x units, units)"
        )
    num_layers = 1 + max(index for index, _ in layers)
    bidirectional = any(suffix == "_l0_reverse" for _, suffix in layers)
    suffixes = ("_l0", "_l0_reverse") if bidirectional else ("_l0",)
    expected_keys = {(index, suffix) for index in range(num_layers) for suffix in suffixes}
    if set(layers) != expected_keys:
        missing = sorted(expected_keys - set(layers))
        raise ModelFileError(
            f"{source}: {prefix}* is missing layer(s) {missing} of its {num_layers} "
            f"{'bidirectional ' if bidirectional else ''}layers"
        )
    features = first["weight_ih"].shape[-1]
    for (index, suffix), params in layers.items():
        name = f"l{index}{suffix.removeprefix('_l0')}"
        size = features if index == 0 else units * len(suffixes)
        for param in ("weight_ih", "weight_hh"):
            if param not in params:
                raise ModelFileError(f"{source}: {prefix}{param}_{name} is missing")
        _expect(source, f"{prefix}weight_ih_{name}", params["weight_ih"], (rows, size))
        _expect(source, f"{prefix}weight_hh_{name}", params["weight_hh"], (rows, units))
        biases = [p for p in ("bias_ih", "bias_hh") if p in params]
        if len(biases) == 1:
            raise ModelFileError(f"{source}: {prefix}{biases[0]}_{name} has no partner bias")
        for bias in biases:
            _expect(source, f"{prefix}{bias}_{name}", params[bias], (rows,))
    return KeyedModule(prefix, kind, units, features, num_layers, bidirectional, layers)


def head_of(source: str, others: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """The one nn.Linear among the non-recurrent keys; anything else is refused by name."""
    linears, unknown = {}, []
    for module, params in others.items():
        weight = params.get("weight")
        fits = (
            set(params) <= {"weight", "bias"}
            and isinstance(weight, torch.Tensor)
            and weight.dim() == 2
            and ("bias" not in params or tuple(params["bias"].shape) == (weight.shape[0],))
        )
        if fits:
            linears[module] = params
        else:
            unknown.extend(f"{module}.{name}" if module else name for name in params)
    if unknown:
        raise ModelFileError(
            f"{source}: keys that fit no nn.RNN/LSTM/GRU/Linear layout: {listed(unknown)}"
        )
    if len(linears) > 1:
        keys = [f"{m}.weight" if m else "weight" for m in linears]
        raise ModelFileError(
            f"{source}: {len(linears)} nn.Linear layers ({listed(keys)}): a state dict cannot say "
            "what your forward runs between them (an activation? dropout?); pass --module "
            "package.module:YourClass to port from your own class"
        )
    if len(linears) != 1:
        found = listed([m or "(top level)" for m in linears]) if linears else "none"
        raise ModelFileError(
            f"{source}: needs exactly one nn.Linear head after the recurrent layers; "
            f"candidate heads: {found}"
        )
    return next(iter(linears.items()))


def chain(source: str, modules: list[KeyedModule], head_in: int) -> tuple[list[KeyedModule], str]:
    """Order the recurrent modules so each feeds the next and the last feeds the head.

    File order first (a torch state dict keeps registration order); safetensors sorts its keys,
    so otherwise the one order whose shapes fit is taken.
    """

    def fits(order: tuple[KeyedModule, ...]) -> bool:
        sizes = [m.features for m in order[1:]] + [head_in]
        return all(m.output_size == size for m, size in zip(order, sizes, strict=True))

    if fits(tuple(modules)):
        return modules, "file order"
    orders = [o for o in itertools.permutations(modules) if fits(o)] if len(modules) <= 6 else []
    if len(orders) == 1:
        return list(orders[0]), "the only order whose shapes fit"
    sizes = ", ".join(f"{m.label} {m.features}->{m.output_size}" for m in modules)
    reason = "several orders fit" if orders else "no order fits"
    raise ModelFileError(
        f"{source}: mismatched shapes: cannot chain the recurrent modules ({sizes}) into a "
        f"head of {head_in} inputs ({reason})"
    )


def dtype_of(source: str, state: dict[str, Any]) -> str:
    """The state dict's one float dtype; every value must be a float tensor (an integer one
    would be cast silently into the model)."""
    for key, tensor in state.items():
        if not isinstance(tensor, torch.Tensor):
            raise ModelFileError(f"{source}: {key} is a {type(tensor).__name__}, not a tensor")
        if not tensor.is_floating_point():
            raise ModelFileError(f"{source}: {key} is a {tensor.dtype} tensor, not a float weight")
    return float_dtype(source, state.items())
