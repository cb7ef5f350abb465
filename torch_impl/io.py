"""Save and load torch models safely: a Lightning `.ckpt`, a `.pt`/`.pth` or `.safetensors`.

A model file is only useful if it rebuilds the same network, and only safe if loading it runs
no code. Both formats therefore hold just tensors and plain JSON-able data (the `ModelSpec`),
are written atomically, and are read with `torch.load(..., weights_only=True)`; anything else
(a pickled class, a whole nn.Module, a truncated file, a state that does not fit its spec)
becomes a `ModelFileError` naming the file and the reason.

    .ckpt  {"state_dict", "hyper_parameters": {"spec": {...}}, "pytorch-lightning_version"}
           (also loadable with RNNModel.load_from_checkpoint)
    .pt    {"spec_json": str, "state_dict"}   (.pth is the same file under PyTorch's other name)
    .safetensors  the state_dict's tensors, the spec as metadata {"spec_json": str}

`read_file` also reads files rnn-parity did not write (a user's plain state dict, their own
Lightning checkpoint, their .safetensors) and hands back their state_dict with no spec, for
`torch_impl.reading.user_models` to infer one.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightning
import torch

from shared.errors import ModelFileError, SpecError
from shared.spec import ModelSpec
from torch_impl.model import RNNModel, build_model

SUFFIXES = (".ckpt", ".pt", ".pth", ".safetensors")
# torch names the class or function it refused: "Unsupported global: GLOBAL __main__.Foo"
_UNSAFE_GLOBAL = re.compile(r"Unsupported global: GLOBAL ([\w.]+)")
_UNPICKLER_DETAIL = re.compile(r"WeightsUnpickler error:\s*([^\n]+)")


def _payload(model: RNNModel, suffix: str) -> dict[str, Any]:
    """What a file of this suffix holds: tensors and JSON-able values only."""
    state = {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()}
    if suffix == ".ckpt":
        return {
            "state_dict": state,
            "hyper_parameters": {"spec": model.spec.to_dict()},
            "pytorch-lightning_version": lightning.__version__,
        }
    return {"spec_json": model.spec.to_json(), "state_dict": state}


def save_model(model: RNNModel, path: str | os.PathLike) -> Path:
    """Write `model` to `path` (.ckpt, .pt, .pth or .safetensors, by extension), atomically.

    Returns:
        The path written.

    Raises:
        ModelFileError: for any other extension, or a destination folder that does not exist.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ModelFileError(
            f"{path}: model files end in .ckpt or .pt (or .pth, .safetensors), "
            f"not {path.suffix or '(no extension)'!r}"
        )
    if path.suffix == ".safetensors":
        return write_atomically(path, lambda temporary: _save_safetensors(model, temporary))
    return write_atomically(
        path, lambda temporary: torch.save(_payload(model, path.suffix), temporary)
    )


def write_atomically(path: Path, write: Callable[[str], None]) -> Path:
    """Call `write(temporary)` on a file beside `path`, then rename it to `path`.

    A crash never leaves a half-written model file.

    Raises:
        ModelFileError: if the destination folder does not exist.
    """
    if not path.parent.is_dir():
        raise ModelFileError(f"{path}: folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _save_safetensors(model: RNNModel, path: str) -> None:
    from safetensors.torch import save_file

    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    save_file(state, path, metadata={"spec_json": model.spec.to_json()})


def read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Tensors and metadata of a .safetensors file (a format that holds no code at all)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    except Exception as error:  # noqa: BLE001 - any reader failure means an unusable file
        raise ModelFileError(
            f"{path}: not a readable .safetensors file, truncated or corrupt ({_first_line(error)})"
        ) from None
    return state, metadata


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def read_torch_file(path: Path) -> Any:
    """torch.load with weights_only=True, every failure turned into a ModelFileError."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        unsafe = _UNSAFE_GLOBAL.search(str(error))
        if unsafe:
            raise ModelFileError(
                f"{path}: refused: it holds a pickled object ({unsafe.group(1)}) whose loading "
                "could run code; model files hold only tensors and JSON-able values "
                "(loaded with weights_only=True)"
            ) from None
        # anything else the safe unpickler rejects is garbage to it, e.g. "Unsupported operand"
        detail = _UNPICKLER_DETAIL.search(str(error))
        reason = f"UnpicklingError: {detail.group(1)}" if detail else _first_line(error)
        raise ModelFileError(f"{path}: not a readable torch model file ({reason})") from None
    except Exception as error:  # noqa: BLE001 - any reader failure means an unusable file
        raise ModelFileError(
            f"{path}: not a readable torch model file, truncated or corrupt ({_first_line(error)})"
        ) from None


def _spec_in(path: Path, content: dict[str, Any]) -> ModelSpec | None:
    """The rnn-parity spec a file's content carries, or None (a user's own file)."""
    try:
        if "spec_json" in content:
            return ModelSpec.from_json(str(content["spec_json"]))
        hyper = content.get("hyper_parameters")
        if isinstance(hyper, dict) and "spec" in hyper:
            return ModelSpec.from_dict(hyper["spec"])
    except SpecError as error:
        raise ModelFileError(f"{path}: bad model spec: {error}") from None
    return None


def _is_state_dict(content: dict[str, Any]) -> bool:
    return bool(content) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in content.items()
    )


def read_file(path: str | os.PathLike) -> tuple[ModelSpec | None, dict[str, Any]]:
    """The spec (None if the file holds none) and the state_dict of any torch weight file.

    Reads `.safetensors` with the safetensors package and everything else with
    `torch.load(..., weights_only=True)`. A torch file may hold a plain state dict
    (`torch.save(model.state_dict(), path)`) or a dict with a "state_dict" entry (any Lightning
    checkpoint, rnn-parity's own files).

    Raises:
        ModelFileError: naming the file and the reason (missing, unreadable, unsafe pickle,
            bad spec, nothing that looks like a state dict).
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        state, metadata = read_safetensors(path)
        return _spec_in(path, metadata), state
    content = read_torch_file(path)
    if not isinstance(content, dict):
        raise ModelFileError(
            f"{path}: expected a dict (a state_dict or one holding it), "
            f"got {type(content).__name__}"
        )
    spec = _spec_in(path, content)
    if _is_state_dict(content):
        return spec, content
    state = content.get("state_dict")
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: holds no state_dict (keys: {sorted(map(str, content))[:6]})")
    return spec, state


def _spec_and_state(path: Path) -> tuple[ModelSpec, dict[str, Any]]:
    """The spec and state_dict of a file rnn-parity wrote; a file without a spec is refused."""
    spec, state = read_file(path)
    if spec is None:
        raise ModelFileError(
            f"{path}: holds no model spec ('spec_json' or 'hyper_parameters'['spec'])"
        )
    return spec, state


def check_state(path: Path, model: torch.nn.Module, state: dict[str, Any]) -> None:
    """Every key present, nothing extra, each tensor of the model's shape and dtype."""
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"{path}: state_dict does not fit the spec: missing {missing[:4]}, "
            f"unexpected {extra[:4]}"
        )
    for name, target in expected.items():
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):
            raise ModelFileError(f"{path}: {name} is a {type(tensor).__name__}, not a tensor")
        if tensor.shape != target.shape:
            raise ModelFileError(
                f"{path}: {name} has shape {tuple(tensor.shape)}, the spec "
                f"needs {tuple(target.shape)}"
            )
        # the spec's float dtype (BatchNorm's step count num_batches_tracked is int64); a silent
        # cast would change the stored values
        if tensor.dtype != target.dtype:
            raise ModelFileError(f"{path}: {name} is {tensor.dtype}, the spec says {target.dtype}")


def load_model(path: str | os.PathLike) -> RNNModel:
    """Rebuild a model saved by `save_model`, loading with weights_only=True (or safetensors).

    Raises:
        ModelFileError: naming the file and the reason (missing, unreadable or truncated,
            unsafe pickle, no or bad spec, state_dict keys or shapes that do not fit).
    """
    path = Path(path)
    spec, state = _spec_and_state(path)
    model = build_model(spec)
    check_state(path, model, state)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model
