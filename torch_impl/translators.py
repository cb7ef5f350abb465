"""One translator per layer kind: torch's tensors <-> the canonical arrays of `shared.weights`.

Each translator says, for one layer kind, which torch tensor holds which canonical array and
whether it is transposed; nothing else in torch_impl writes a parameter name down. They are
found from two tables, by the spec class (`for_spec`) and by the torch module class
(`for_module`, through the class's MRO so a subclass such as `layers.Dense` finds nn.Linear's):

    kind         torch module                          canonical <- torch
    embedding    nn.Embedding                          E = weight (vocab, dim)
    masking      layers.Masking                        (no weights)
    dense        nn.Linear (also the final head)       W = weight.T (in, units), b = bias
    dropout      nn.Dropout                            (no weights)
    layer_norm   nn.LayerNorm                          gamma = weight, beta = bias
    batch_norm   nn.BatchNorm1d                        gamma = weight, beta = bias,
                                                       mean = running_mean, variance = running_var
    recurrent    nn.RNN / nn.LSTM / nn.GRU, loop ones  per gate g (rows g*units .. (g+1)*units):
                                                       W = weight_ih.T, U = weight_hh.T,
                                                       b = bias_ih, c = bias_hh; `_l0` forward,
                                                       `_l0_reverse` backward

Gate blocks are stacked along torch's rows in the canonical orders (LSTM i, f, g, o; GRU r, z, n).
A stacked module's layer k (`weight_ih_l{k}[_reverse]`, from a live module or a state dict) is
read through `layer_view`, which names it as layer 0 and fills absent biases (bias=False) with
zeros, the values that compute the same.
BatchNorm's `num_batches_tracked` counts training steps: it is no weight and stays as it is.

The vocabulary is keras_impl's (`keras_impl.translators.table`): `to_canonical(module, spec)`
gives a module's canonical arrays, `assignments(module, spec, arrays)` what each tensor receives
(nothing is assigned there). Keras's translators also read a layer's spec (`spec_of`); torch's
need not, since a module's spec is read from the traced forward (`torch_impl.reading`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from shared.grammar import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.recurrent_spec import RecurrentLayerSpec
from shared.weights import DirectionWeights
from torch_impl.layers import Masking
from torch_impl.loops import LoopGRU, LoopLSTM, LoopSimpleRNN

Pair = tuple[torch.Tensor, torch.Tensor]  # (the module's tensor, the value it receives)
_SUFFIX = {"forward": "_l0", "backward": "_l0_reverse"}


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A contiguous numpy copy, so later training never changes arrays already handed out."""
    return np.ascontiguousarray(tensor.detach().cpu().numpy()).copy()


def _from_numpy(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))


@dataclass(frozen=True)
class Translator:
    """A layer kind whose canonical arrays are whole torch tensors, maybe transposed.

    names: canonical name -> (torch attribute, transposed?).
    """

    kind: str
    names: dict[str, tuple[str, bool]]

    def to_canonical(self, module: nn.Module, spec: object) -> dict[str, np.ndarray]:
        """The module's canonical arrays by name."""
        arrays = {}
        for name, (attribute, transpose) in self.names.items():
            tensor = getattr(module, attribute)
            arrays[name] = to_numpy(tensor.T if transpose else tensor)
        return arrays

    def assignments(
        self, module: nn.Module, spec: object, arrays: dict[str, np.ndarray]
    ) -> list[Pair]:
        """Each module tensor paired with the value canonical `arrays` puts there."""
        return [
            (getattr(module, attribute), _from_numpy(arrays[name].T if transpose else arrays[name]))
            for name, (attribute, transpose) in self.names.items()
        ]


@dataclass(frozen=True)
class RecurrentTranslator:
    """Recurrent layers: per direction and gate, row blocks of torch's stacked tensors."""

    kind: str = "recurrent"
    # canonical parameter -> (torch parameter prefix, transposed?)
    names: tuple[tuple[str, str, bool], ...] = (
        ("W", "weight_ih", True),
        ("U", "weight_hh", True),
        ("b", "bias_ih", False),
        ("c", "bias_hh", False),
    )

    def prefix(self, param: str) -> str:
        """The torch parameter prefix holding canonical `param` ("c" -> "bias_hh")."""
        return next(prefix for name, prefix, _ in self.names if name == param)

    def to_canonical(
        self, module: nn.Module, spec: RecurrentLayerSpec
    ) -> dict[str, DirectionWeights]:
        """direction -> DirectionWeights of one spec layer."""
        units, directions = spec.units, {}
        for direction in spec.directions:
            params: dict[str, dict[str, np.ndarray]] = {}
            for param, prefix, transpose in self.names:
                full = to_numpy(getattr(module, prefix + _SUFFIX[direction]))
                blocks = {
                    gate: full[position * units : (position + 1) * units]  # rows of this gate
                    for position, gate in enumerate(spec.gates)
                }
                params[param] = {
                    gate: np.ascontiguousarray(block.T if transpose else block)
                    for gate, block in blocks.items()
                }
            # a translator without the bias names (use_bias=False) reads no b, c
            directions[direction] = DirectionWeights(**({"b": {}, "c": {}} | params))
        return directions

    def assignments(
        self, module: nn.Module, spec: RecurrentLayerSpec, arrays: dict[str, DirectionWeights]
    ) -> list[Pair]:
        pairs = []
        for direction in spec.directions:
            source = arrays[direction]
            for param, prefix, transpose in self.names:
                blocks = [source.param(param)[gate] for gate in spec.gates]
                # stack gate blocks along torch's rows: (gates*units, in) or (gates*units,)
                stacked = np.concatenate([block.T if transpose else block for block in blocks])
                pairs.append((getattr(module, prefix + _SUFFIX[direction]), _from_numpy(stacked)))
        return pairs


EMBEDDING = Translator("embedding", {"E": ("weight", False)})
MASKING = Translator("masking", {})
DENSE = Translator("dense", {"W": ("weight", True), "b": ("bias", False)})
DROPOUT = Translator("dropout", {})
LAYER_NORM = Translator("layer_norm", {"gamma": ("weight", False), "beta": ("bias", False)})
BATCH_NORM = Translator(
    "batch_norm",
    {
        "gamma": ("weight", False),
        "beta": ("bias", False),
        "mean": ("running_mean", False),
        "variance": ("running_var", False),
    },
)
RECURRENT = RecurrentTranslator()

BY_SPEC: dict[type, Translator | RecurrentTranslator] = {
    EmbeddingSpec: EMBEDDING,
    MaskingSpec: MASKING,
    DenseSpec: DENSE,
    DropoutSpec: DROPOUT,
    LayerNormSpec: LAYER_NORM,
    BatchNormSpec: BATCH_NORM,
    RecurrentLayerSpec: RECURRENT,
}
BY_MODULE: dict[type, Translator | RecurrentTranslator] = {
    nn.Embedding: EMBEDDING,
    Masking: MASKING,
    nn.Linear: DENSE,
    nn.Dropout: DROPOUT,
    nn.LayerNorm: LAYER_NORM,
    nn.BatchNorm1d: BATCH_NORM,
    nn.RNN: RECURRENT,
    nn.LSTM: RECURRENT,
    nn.GRU: RECURRENT,
    LoopSimpleRNN: RECURRENT,
    LoopGRU: RECURRENT,
    LoopLSTM: RECURRENT,
}


def stacked_view(
    tensor: Callable[[str], torch.Tensor | None], layer: int, bidirectional: bool
) -> SimpleNamespace:
    """Layer `layer` of a stacked torch recurrent module under layer 0's names, as `RECURRENT`
    reads them; `tensor(name)` finds `weight_ih_l1_reverse` and the like (None when absent).
    Absent biases (bias=False) are zeros, which compute what no bias computes."""
    view = {}
    for suffix in ("", "_reverse")[: 1 + bidirectional]:
        weight_ih = tensor(f"weight_ih_l{layer}{suffix}")  # (gates * units, input)
        for _, name, _ in RECURRENT.names:
            found = tensor(f"{name}_l{layer}{suffix}")
            zeros = weight_ih.new_zeros(weight_ih.shape[0])
            view[f"{name}_l0{suffix}"] = found if found is not None else zeros
    return SimpleNamespace(**view)


def layer_view(module: nn.Module, layer: int) -> SimpleNamespace:
    """Layer `layer` of a live nn.RNN / nn.LSTM / nn.GRU, see `stacked_view`."""
    return stacked_view(lambda name: getattr(module, name, None), layer, module.bidirectional)


def for_spec(spec: object) -> Translator | RecurrentTranslator:
    """The translator of a spec layer (EmbeddingSpec, DenseSpec, RecurrentLayerSpec, ...)."""
    return BY_SPEC[type(spec)]


def for_module(module: nn.Module) -> Translator | RecurrentTranslator:
    """The translator of a torch module, found through its class's MRO.

    Raises:
        KeyError: naming the module class, if no translator knows it.
    """
    for cls in type(module).__mro__:
        if cls in BY_MODULE:
            return BY_MODULE[cls]
    raise KeyError(f"no translator for torch module {type(module).__name__}")


def translator(module: nn.Module, spec: object, where: str) -> Translator | RecurrentTranslator:
    """The translator for `module` built for `spec`; they must agree, or the model is miswired.

    Raises:
        TypeError: naming `where`, the module class and the spec kind, if they disagree.
    """
    found = for_module(module)
    if found is not for_spec(spec):
        raise TypeError(
            f"{where}: a {type(module).__name__} does not compute a "
            f"{getattr(spec, 'type', type(spec).__name__)} layer"
        )
    return found
