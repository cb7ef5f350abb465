"""Save and load torch models safely: a Lightning `.ckpt` or a plain `.pt`, spec included.

A model file is only useful if it rebuilds the same network, and only safe if loading it runs
no code. Both formats therefore hold just tensors and plain JSON-able data (the `ModelSpec`),
are written atomically, and are read with `torch.load(..., weights_only=True)`; anything else
(a pickled class, a whole nn.Module, a truncated file, a state that does not fit its spec)
becomes a `ModelFileError` naming the file and the reason.

    .ckpt  {"state_dict", "hyper_parameters": {"spec": {...}}, "pytorch-lightning_version"}
           (also loadable with RNNModel.load_from_checkpoint)
    .pt    {"spec_json": str, "state_dict"}
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
from pathlib import Path
from typing import Any

import lightning
import torch

from shared.errors import ModelFileError, SpecError
from shared.spec import ModelSpec
from torch_impl.model import RNNModel, build_model, torch_dtype

SUFFIXES = (".ckpt", ".pt")
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
    """Write `model` to `path` (.ckpt or .pt, by extension), atomically.

    Returns:
        The path written.

    Raises:
        ModelFileError: for an extension other than .ckpt or .pt.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ModelFileError(
            f"{path}: model files end in {' or '.join(SUFFIXES)}, "
            f"not {path.suffix or '(no extension)'!r}"
        )
    payload = _payload(model, path.suffix)
    # Write beside the target and rename: a crash never leaves a half-written model file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    os.close(handle)
    try:
        torch.save(payload, temporary)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def _read(path: Path) -> Any:
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


def _spec_and_state(path: Path, content: Any) -> tuple[ModelSpec, dict[str, Any]]:
    """Find the spec and state_dict in either file layout."""
    if not isinstance(content, dict):
        raise ModelFileError(
            f"{path}: expected a dict with a spec and a state_dict, got {type(content).__name__}"
        )
    try:
        if "spec_json" in content:
            spec = ModelSpec.from_json(str(content["spec_json"]))
        elif isinstance(content.get("hyper_parameters"), dict) and (
            "spec" in content["hyper_parameters"]
        ):
            spec = ModelSpec.from_dict(content["hyper_parameters"]["spec"])
        else:
            raise ModelFileError(
                f"{path}: holds no model spec ('spec_json' or 'hyper_parameters'['spec'])"
            )
    except SpecError as error:
        raise ModelFileError(f"{path}: bad model spec: {error}") from None
    state = content.get("state_dict")
    if not isinstance(state, dict):
        raise ModelFileError(f"{path}: holds no state_dict")
    return spec, state


def _check_state(path: Path, model: RNNModel, state: dict[str, Any]) -> None:
    """Every key present, nothing extra, each tensor of the model's shape and dtype."""
    expected = model.state_dict()
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ModelFileError(
            f"{path}: state_dict does not fit the spec: missing {missing[:4]}, "
            f"unexpected {extra[:4]}"
        )
    dtype = torch_dtype(model.spec.dtype)
    for name, target in expected.items():
        tensor = state[name]
        if not isinstance(tensor, torch.Tensor):
            raise ModelFileError(f"{path}: {name} is a {type(tensor).__name__}, not a tensor")
        if tensor.shape != target.shape:
            raise ModelFileError(
                f"{path}: {name} has shape {tuple(tensor.shape)}, the spec "
                f"needs {tuple(target.shape)}"
            )
        if tensor.dtype != dtype:  # a silent cast would change the stored values
            raise ModelFileError(f"{path}: {name} is {tensor.dtype}, the spec says {dtype}")


def load_model(path: str | os.PathLike) -> RNNModel:
    """Rebuild a model saved by `save_model` (.ckpt or .pt), loading with weights_only=True.

    Raises:
        ModelFileError: naming the file and the reason (missing, unreadable or truncated,
            unsafe pickle, no or bad spec, state_dict keys or shapes that do not fit).
    """
    path = Path(path)
    spec, state = _spec_and_state(path, _read(path))
    model = build_model(spec)
    _check_state(path, model, state)
    model.load_state_dict(state, strict=True)
    model.eval()
    return model
