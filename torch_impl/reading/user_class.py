"""Your own class, rebuilt from your weight file: `--module my_project.models:LSTMModel`.

A state dict holds tensors, not the forward that wires them, so `port --module` imports the
class the user names (their own code: importing it runs it, which is why it must be named
explicitly) and loads the file into an instance:

* `.pt` / `.pth` / `.safetensors` (a state dict, or {"state_dict": ...}): `Class(**kwargs)`;
* a Lightning `.ckpt`: `Class(**hyper_parameters, **kwargs)`, the LightningModule rebuilt from
  the hyper-parameters `save_hyperparameters()` stored, then its "state_dict".

Files are read with `torch.load(weights_only=True)` (or safetensors), and the module is built in
the file's dtype: a float64 file makes a float64 module (never a silent cast).
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from shared.errors import ModelFileError
from torch_impl.common import float_dtype, torch_dtype
from torch_impl.io import read_file


def import_class(target: str) -> type:
    """The class `target` names, "package.module:Class" (the current folder is importable).

    Raises:
        ModelFileError: a malformed name, an import that fails, or no nn.Module class there.
    """
    module_name, _, class_name = target.partition(":")
    if not module_name or not class_name:
        raise ModelFileError(f"--module {target!r}: expected package.module:Class")
    if os.getcwd() not in sys.path:  # as `python -m` does: the user's project is importable
        sys.path.insert(0, os.getcwd())
    try:
        found = importlib.import_module(module_name)
    except Exception as error:  # the user's code may raise anything while importing
        raise ModelFileError(
            f"--module {target!r}: cannot import {module_name} ({error})"
        ) from None
    cls = getattr(found, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, nn.Module):
        raise ModelFileError(f"--module {target!r}: {module_name} has no nn.Module {class_name}")
    return cls


def _file_dtype(path: Path, state: dict[str, Any]) -> torch.dtype:
    tensors = [(k, t) for k, t in state.items() if isinstance(t, torch.Tensor)]
    return torch_dtype(float_dtype(str(path), tensors))


def _hyper_parameters(path: Path) -> dict[str, Any]:
    if path.suffix != ".ckpt":
        return {}
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # read_file already succeeded, so this is unexpected
        raise ModelFileError(f"{path}: cannot read the checkpoint ({error})") from None
    found = checkpoint.get("hyper_parameters", {}) if isinstance(checkpoint, dict) else {}
    return dict(found) if isinstance(found, dict) else {}


def module_from_file(cls: type, path: str | os.PathLike, kwargs: dict[str, Any]) -> nn.Module:
    """An instance of `cls` holding the file's weights, in the file's dtype, in eval mode.

    Raises:
        ModelFileError: naming the file and what failed (construction, missing or unexpected
            keys, shapes).
    """
    path = Path(path)
    _, state = read_file(path)  # weights_only=True, or safetensors
    dtype = _file_dtype(path, state)
    arguments = {**_hyper_parameters(path), **kwargs}
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # tensors the class creates itself come out in the file's
    try:
        module = cls(**arguments)
    except Exception as error:  # the user's constructor may raise anything
        raise ModelFileError(
            f"{cls.__name__}(**{arguments}) failed: {error} (give the constructor's arguments "
            "as module kwargs: --module-kwargs '{\"name\": value}' on the command line)"
        ) from None
    finally:
        torch.set_default_dtype(previous)
    module = module.to(dtype)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as error:
        detail = " ".join(str(error).split("\n\t")[1:]).strip() or str(error)
        raise ModelFileError(f"{path}: does not fit {cls.__name__}: {detail}") from None
    return module.eval()
