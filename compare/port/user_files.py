"""Models people actually have: their own torch files and modules, and legacy Keras `.h5`.

rnn-parity's own files carry a `ModelSpec`; a user's `torch.save(model.state_dict(), ...)`, their
LightningModule's checkpoint or their `.safetensors` do not. `torch_impl` infers the spec from
key names and shapes; what a state dict cannot say comes from `Assumptions` (the `port` flags
--activation, --head-activation, --time-steps), and every choice comes back as a sentence for the
port summary beside the key mapping. A live `nn.Module` says more (its nonlinearity, dtype,
layers), so `torch_module_to_keras` needs no flags at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compare.frameworks import both, keras_impl, torch_impl
from shared.errors import ModelFileError, WeightFormatError
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights, load_npz

# extension -> framework whose files it names; ".h5"/".hdf5" are read, never written
FORMATS = {
    ".keras": "keras",
    ".h5": "keras",
    ".hdf5": "keras",
    ".ckpt": "torch",
    ".pt": "torch",
    ".pth": "torch",
    ".safetensors": "torch",
    ".npz": "canonical",
}
READ_ONLY = (".h5", ".hdf5")


@dataclass(frozen=True)
class Assumptions:
    """What a user's state dict cannot say, with the defaults `port` prints.

    activation: nn.RNN's nonlinearity ("tanh" is torch's default; "relu" the other choice).
    head_activation: what the user's forward applies after the nn.Linear head.
    time_steps: window length the Keras model takes.
    """

    activation: str = "tanh"
    head_activation: str = "linear"
    time_steps: int = 12


@dataclass
class Source:
    """A source file's canonical weights and how they were read (empty for rnn-parity files)."""

    weights: CanonicalWeights
    mapping: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)


def file_format(path: str | Path) -> str:
    """'keras', 'torch' or 'canonical', from the file's extension.

    Raises:
        ModelFileError: for any other extension, listing the known ones.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ModelFileError(
            f"{path}: unknown extension {suffix or '(none)'!r}; use one of {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def check_destination(path: str | Path) -> None:
    """A destination must be a writable format in a folder that exists.

    Raises:
        ModelFileError: naming the path and the reason.
    """
    path = Path(path)
    file_format(path)
    if path.suffix.lower() in READ_ONLY:
        raise ModelFileError(
            f"{path}: legacy HDF5 ({path.suffix}) is a source only; write .keras instead"
        )
    if not path.parent.is_dir():
        raise ModelFileError(f"{path}: destination folder {path.parent} does not exist")


def read_source(path: str | Path, assumptions: Assumptions | None = None) -> Source:
    """Canonical weights of any supported file, with the key mapping and assumptions made.

    Raises:
        ModelFileError: unknown extension, or a file that is missing, unreadable, unsafe,
            outside the specs, or a state dict whose keys fit no layout.
    """
    framework = file_format(path)
    if framework == "canonical":
        try:
            return Source(load_npz(path))
        except WeightFormatError as error:  # the message already names the file and reason
            raise ModelFileError(str(error)) from None
    if framework == "keras":
        impl = keras_impl()
        return Source(impl.to_canonical(impl.load_model(path)))
    chosen = assumptions or Assumptions()
    inferred = torch_impl().read_canonical(
        path, chosen.activation, chosen.head_activation, chosen.time_steps
    )
    return Source(inferred.weights, inferred.mapping, inferred.assumptions)


def torch_module_to_keras(
    module: Any, head_activation: str | None = None, time_steps: int = 12
) -> Any:
    """A Keras model computing what a user's torch module computes (float32 or float64).

    The module's recurrent children (nn.RNN / nn.LSTM / nn.GRU, any layers and directions) and
    its final nn.Linear must form a chain; their types and settings are read from the modules.
    rnn-parity's own Lightning models are ported from their spec.

    Args:
        module: the user's nn.Module (or LightningModule).
        head_activation: the activation forward applies after the head (Keras name); None reads
            it from an activation module registered after the head, else "linear".
        time_steps: window length the Keras model takes.

    Raises:
        ModelFileError: naming the module part that cannot be ported.
    """
    keras, torch = both()
    if isinstance(getattr(module, "spec", None), ModelSpec):  # rnn-parity's own RNNModel
        return keras.from_canonical(torch.to_canonical(module))
    return keras.from_canonical(
        torch.canonical_from_module(module, head_activation, time_steps).weights
    )
