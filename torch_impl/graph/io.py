"""Save and load a GraphNet safely: the graph as JSON beside the state dict, no pickled code.

    .pt           {"graph_json": str, "state_dict"}, read with torch.load(weights_only=True)
    .safetensors  the state dict's tensors, the graph JSON as metadata {"graph_json": str}

Files are written atomically and read with `torch_impl.io`'s safe readers; every failure (a
missing or corrupt file, a pickled object, a bad graph, a state dict that does not fit the
graph) is a ModelFileError naming the file and the reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from shared.errors import ModelFileError, SpecError
from shared.graph.model import ModelGraph
from torch_impl.graph.model import GraphNet
from torch_impl.io import check_state, read_safetensors, read_torch_file, write_atomically

SUFFIXES = (".pt", ".safetensors")
_KEY = "graph_json"


def _state(net: GraphNet) -> dict[str, torch.Tensor]:
    return {name: t.detach().cpu().contiguous().clone() for name, t in net.state_dict().items()}


def _write_safetensors(net: GraphNet, path: str) -> None:
    from safetensors.torch import save_file

    save_file(_state(net), path, metadata={_KEY: net.graph.to_json()})


def save_graph_model(model: GraphNet, path: str | os.PathLike) -> Path:
    """Write `model` to `path` (.pt or .safetensors, by extension), atomically.

    Returns:
        The path written.

    Raises:
        ModelFileError: for another extension or a destination folder that does not exist.
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ModelFileError(
            f"{path}: graph model files end in .pt or .safetensors, "
            f"not {path.suffix or '(no extension)'!r}"
        )
    if path.suffix == ".safetensors":
        return write_atomically(path, lambda temporary: _write_safetensors(model, temporary))
    payload = {_KEY: model.graph.to_json(), "state_dict": _state(model)}
    return write_atomically(path, lambda temporary: torch.save(payload, temporary))


def _graph_and_state(path: Path) -> tuple[ModelGraph, dict[str, Any]]:
    if path.suffix == ".safetensors":
        if not path.is_file():
            raise ModelFileError(f"{path}: no such model file")
        content: dict[str, Any]
        state, content = read_safetensors(path)
    else:
        content = read_torch_file(path)
        if not isinstance(content, dict):
            raise ModelFileError(f"{path}: expected a dict, got {type(content).__name__}")
        state = content.get("state_dict")
        if not isinstance(state, dict):
            raise ModelFileError(f"{path}: holds no state_dict")
    if not isinstance(content.get(_KEY), str):
        raise ModelFileError(f"{path}: holds no model graph ({_KEY!r})")
    try:
        return ModelGraph.from_json(content[_KEY]), state
    except SpecError as error:
        raise ModelFileError(f"{path}: bad model graph: {error}") from None


def load_graph_model(path: str | os.PathLike) -> GraphNet:
    """Rebuild a GraphNet saved by `save_graph_model`, in eval mode.

    Raises:
        ModelFileError: naming the file and the reason (missing, unreadable or truncated,
            unsafe pickle, no or bad graph, state dict keys, shapes or dtypes that do not fit).
    """
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise ModelFileError(f"{path}: graph model files end in .pt or .safetensors")
    graph, state = _graph_and_state(path)
    net = GraphNet(graph)
    check_state(path, net, state)
    net.load_state_dict(state, strict=True)
    return net.eval()


def holds_graph(path: str | os.PathLike) -> bool:
    """Whether `path` is an rnn-parity graph file (.pt or .safetensors with a graph); False for
    anything else, unreadable files included (their own reader then names the problem)."""
    path = Path(path)
    if path.suffix not in SUFFIXES or not path.is_file():
        return False
    try:
        if path.suffix == ".safetensors":
            _, content = read_safetensors(path)
        else:
            content = read_torch_file(path)
    except ModelFileError:
        return False
    return isinstance(content, dict) and isinstance(content.get(_KEY), str)
