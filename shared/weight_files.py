"""Canonical weights on disk: the `.npz` file that holds the arrays and the spec they fit.

`shared.weights` defines the format in memory; this module is its one file form. A file holds
every array under its flat name (`CanonicalWeights.to_arrays`) and the `ModelSpec` as JSON
beside them, is written atomically, and is read with allow_pickle=False, so a damaged or
hostile file raises `WeightFormatError` naming the file instead of running anything.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from shared.errors import SpecError, WeightFormatError
from shared.graph.model import ModelGraph
from shared.graph.weights import GraphWeights
from shared.spec import ModelSpec
from shared.weights import CanonicalWeights

_SPEC_KEY = "__spec_json__"
_GRAPH_KEY = "__graph_json__"  # a model graph's file holds its graph here instead of a spec


def save_npz(weights: CanonicalWeights | GraphWeights, path: str | os.PathLike) -> Path:
    """Write weights and their spec or graph (as JSON) to a `.npz` file, atomically.

    Returns:
        The path written.
    """
    weights.validate()
    path = Path(path)
    temporary = path.with_name(path.name + ".partial.npz")
    arrays = weights.to_arrays()
    if isinstance(weights, GraphWeights):
        arrays[_GRAPH_KEY] = np.array(weights.graph.to_json())
    else:
        arrays[_SPEC_KEY] = np.array(weights.spec.to_json())
    try:
        np.savez(temporary, **arrays)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def load_npz(path: str | os.PathLike) -> CanonicalWeights:
    """Read a chain's `.npz` written by `save_npz` (allow_pickle=False) and validate it.

    Raises:
        WeightFormatError: naming the file and what is wrong (missing, not an npz, no spec,
            bad spec, misfit arrays, a graph's file).
    """
    weights = load_any_npz(path)
    if isinstance(weights, GraphWeights):
        raise WeightFormatError(f"{path}: holds a model graph, not a chain spec")
    return weights


def load_any_npz(path: str | os.PathLike) -> CanonicalWeights | GraphWeights:
    """Read a `.npz` written by `save_npz`, a chain's or a graph's, and validate it.

    Raises:
        WeightFormatError: as `load_npz`.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightFormatError(f"{path}: no such weight file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (
        zipfile.BadZipFile,
        zlib.error,
        NotImplementedError,
        ValueError,
        OSError,
        EOFError,
    ) as error:
        # NotImplementedError: a zip member with an unknown compression method or version
        raise WeightFormatError(f"{path}: not a readable .npz weight file ({error})") from None
    except MemoryError as error:  # a member's header claims an absurd shape
        raise WeightFormatError(
            f"{path}: not a readable .npz weight file (a member claims an array too large to "
            f"load: {error})"
        ) from None
    if _GRAPH_KEY in arrays:
        return _graph_weights(path, arrays)
    if _SPEC_KEY not in arrays:
        raise WeightFormatError(f"{path}: holds no model spec (key {_SPEC_KEY!r} missing)")
    try:
        spec = ModelSpec.from_json(str(arrays.pop(_SPEC_KEY)))
    except SpecError as error:
        raise WeightFormatError(f"{path}: bad model spec: {error}") from None
    try:
        return CanonicalWeights.from_arrays(spec, arrays)
    except WeightFormatError as error:
        raise WeightFormatError(f"{path}: {error}") from None


def _graph_weights(path: Path, arrays: dict[str, np.ndarray]) -> GraphWeights:
    try:
        graph = ModelGraph.from_json(str(arrays.pop(_GRAPH_KEY)))
    except SpecError as error:
        raise WeightFormatError(f"{path}: bad model graph: {error}") from None
    try:
        return GraphWeights.from_arrays(graph, arrays)
    except WeightFormatError as error:
        raise WeightFormatError(f"{path}: {error}") from None
