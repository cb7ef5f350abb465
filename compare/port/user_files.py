"""Models people actually have: their own torch files and modules, and legacy Keras `.h5`.

rnn-parity's own files carry a `ModelSpec`; a user's `torch.save(model.state_dict(), ...)`, their
LightningModule's checkpoint or their `.safetensors` do not. `torch_impl` infers the spec from
key names and shapes; what a state dict cannot say comes from `Assumptions` (the `port` flags
--activation, --head-activation, --time-steps), and every choice comes back as a sentence for the
port summary beside the key mapping. A live `nn.Module` says more (its nonlinearity, dtype,
layers, its forward), so `compare.port.module_port` traces it instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from compare.frameworks import keras_impl, torch_impl
from shared.errors import ModelFileError, WeightFormatError
from shared.weight_files import load_npz
from shared.weights import CanonicalWeights

# extension -> framework whose files it names; ".h5"/".hdf5" are read, never written
FORMATS = {
    ".keras": "keras",
    ".h5": "keras",
    ".hdf5": "keras",
    ".ckpt": "torch",
    ".pt": "torch",
    ".pth": "torch",
    ".safetensors": "torch",
    ".pt2": "torch",
    ".npz": "canonical",
}
READ_ONLY = (".h5", ".hdf5")
# a torch.export program: the forward as a graph, for plain torch; it names no weights to read
WRITE_ONLY = (".pt2",)


@dataclass(frozen=True)
class Assumptions:
    """What a user's state dict cannot say, with the defaults `port` prints.

    activation: nn.RNN's nonlinearity ("tanh" is torch's default; "relu" the other choice).
    head_activation: what the user's forward applies after the nn.Linear head.
    time_steps: window length the Keras model takes.
    readout: what the head reads of a bidirectional last module ("final": h_n; "last_step":
        out[:, -1]); None refuses such a state dict instead of guessing.
    """

    activation: str = "tanh"
    head_activation: str = "linear"
    time_steps: int = 12
    readout: str | None = None


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
    if Path(path).suffix.lower() in WRITE_ONLY:
        raise ModelFileError(
            f"{path}: a .pt2 torch.export program is a destination only (it runs in plain "
            "torch: torch.export.load(path).module()); port from the file it was written from"
        )
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
        path, chosen.activation, chosen.head_activation, chosen.time_steps, chosen.readout
    )
    return Source(inferred.weights, inferred.mapping, inferred.assumptions)
