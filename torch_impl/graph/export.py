"""A GraphNet as a torch.export program (.pt2) that plain torch runs, without this project.

    program = torch.export.load("model.pt2").module()
    outputs = program(x, ids)   # one tensor per graph input, any batch size

The batch axis is always free. A graph input's time axis is exported free where the graph's is
and every node can keep it free: torch.export unrolls every recurrent node to one length (the
step loop, and torch's fused modules as well), and Keras's "same" padding with strides depends
on the length. Such a graph exports with the length given as
`time_steps`, or is refused in one line naming the node.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from shared.errors import ModelFileError
from shared.graph.model import ModelGraph
from torch_impl.export import SUFFIX, capture, save_program
from torch_impl.graph.model import GraphNet, input_tensors

_EXAMPLE_BATCH = 2  # not 0 or 1, which torch.export would specialise
_EXAMPLE_TIME = 5


def fixed_time_node(net: GraphNet) -> str | None:
    """The first node that fixes the time axis when exported, described, or None."""
    for node in net.graph.nodes:
        if not getattr(net.module(node.name), "dynamic_time", True):
            return node.describe()
    return None


def _examples(graph: ModelGraph, time_steps: int) -> list[torch.Tensor]:
    """Inputs to trace with: ones (token id 1, a kept step) of each input's shape."""
    arrays = {}
    for graph_input in graph.inputs:
        time = graph_input.time_steps or time_steps
        if graph_input.kind == "lengths":  # every sequence whole: one length per sample
            arrays[graph_input.name] = np.full(_EXAMPLE_BATCH, time)
            continue
        shape = (_EXAMPLE_BATCH, time) + (
            (graph_input.features,) if graph_input.kind == "floats" else ()
        )
        arrays[graph_input.name] = np.ones(shape)
    return input_tensors(graph, arrays)


def _dynamic_shapes(graph: ModelGraph, free_time: bool) -> tuple[dict[int, object], ...]:
    batch = torch.export.Dim("batch", min=1)
    shapes = []
    for index, graph_input in enumerate(graph.inputs):
        axes: dict[int, object] = {0: batch}
        if free_time and graph_input.time_steps is None and graph_input.kind != "lengths":
            axes[1] = torch.export.Dim(f"time_{index}", min=1)
        shapes.append(axes)
    return tuple(shapes)


def export_graph_program(
    net: GraphNet, path: str | os.PathLike, *, time_steps: int | None = None
) -> Path:
    """Write `net` as a torch.export program, atomically.

    Args:
        net: the GraphNet (exported from an eval-mode copy; `net` is kept as it is).
        path: the .pt2 file to write.
        time_steps: for a graph with a free time axis, export that one length instead of a
            free one (needed where a node fixes the length, see the module docstring).

    Raises:
        ModelFileError: for another extension, a missing folder, a free time axis some node
            cannot keep free (naming the node), or a graph torch.export cannot capture.
    """
    path = Path(path)
    if path.suffix != SUFFIX:
        raise ModelFileError(f"{path}: torch.export programs end in {SUFFIX}")
    if not path.parent.is_dir():
        raise ModelFileError(f"{path}: folder {path.parent} does not exist")
    fixing = fixed_time_node(net)
    free_time = net.graph.free_time and time_steps is None
    if free_time and fixing is not None:
        raise ModelFileError(
            f"{path}: node {fixing} fixes the time axis when exported (a recurrence "
            "or strided 'same' padding); pass time_steps=N to export that length"
        )
    examples = _examples(net.graph, time_steps or _EXAMPLE_TIME)
    program = capture(
        copy.deepcopy(net).eval(),
        tuple(examples),
        (_dynamic_shapes(net.graph, free_time),),  # forward(*inputs)
        path,
        "graph",
    )
    return save_program(program, path)


def run_graph_program(path: str | os.PathLike, inputs: Any) -> list[np.ndarray]:
    """Outputs of the program at `path` (as plain torch runs it), one array per output.

    Args:
        path: a .pt2 written by `export_graph_program`.
        inputs: one array, or one per graph input in the graph's order as a sequence or a
            mapping by name in that order (floats in the graph's dtype, token ids integers).

    Raises:
        ModelFileError: if the file is not a loadable torch.export program.
    """
    try:
        program = torch.export.load(str(path)).module()
    except Exception as error:  # a truncated or foreign file
        raise ModelFileError(f"{path}: not a readable torch.export program ({error})") from None
    if isinstance(inputs, dict):  # by name, in the graph's input order (the program has no names)
        arrays = list(inputs.values())
    else:
        arrays = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
    tensors = [
        torch.from_numpy(np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iu" else None))
        for a in arrays
    ]
    with torch.no_grad():
        outputs = program(*tensors)
    outputs = outputs if isinstance(outputs, tuple | list) else (outputs,)
    return [output.numpy() for output in outputs]
