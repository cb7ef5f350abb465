"""A graph's weights in the canonical format: per node, named arrays in row-vector layout.

Each node kind names its arrays (`NodeKind.weight_shapes`); the flat names, the `.npz` keys,
are `{node}/{name}`:

    recurrent   {node}/{direction}/{W|U|b|c}/{gate}   W (in, units) as x @ W, U (units, units)
                                                      as h @ U, b input-side, c recurrent-side
                                                      (b and c absent with use_bias=False)
    embedding   {node}/E (vocab, dim)      dense  {node}/W (in, units), {node}/b (units,)
    conv1d      {node}/W (kernel, in, filters) as sum_k x[t*s + k*d] @ W[k], {node}/b
    layer_norm  {node}/gamma, {node}/beta  batch_norm  + {node}/mean, {node}/variance

This is the chain format's layout (`shared.weights`) node by node, so a chain's arrays map one to
one (`shared.graph.chain`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.errors import WeightFormatError
from shared.graph.model import ModelGraph


@dataclass
class GraphWeights:
    """`arrays[node name][array name]`: every node's arrays (nodes without weights: absent)."""

    graph: ModelGraph
    arrays: dict[str, dict[str, np.ndarray]]

    def validate(self) -> GraphWeights:
        """Names, shapes, dtype and finiteness of every array against the graph.

        Raises:
            WeightFormatError: naming the node, its kind, the array and the expected shape.
        """
        if not isinstance(self.graph, ModelGraph):
            raise WeightFormatError(
                f"weights carry no ModelGraph (got {type(self.graph).__name__})"
            )
        expected_nodes = {n.name for n in self.graph.nodes if self.graph.weight_shapes(n)}
        extra = sorted(set(self.arrays) - expected_nodes)
        if extra:
            raise WeightFormatError(
                f"weights name node(s) {extra} that hold no weights in the graph"
            )
        for node in self.graph.nodes:
            expected = self.graph.weight_shapes(node)
            held = self.arrays.get(node.name, {})
            where = f"node {node.name!r} ({node.kind.type})"
            if set(held) != set(expected):
                raise WeightFormatError(
                    f"{where}: arrays {sorted(held)} do not match the expected {sorted(expected)}"
                )
            for name, shape in expected.items():
                _check_array(held[name], shape, self.graph.dtype, f"{where} {name}")
            if "variance" in expected and np.any(held["variance"] < 0):
                raise WeightFormatError(f"{where} variance: holds negative values")
        return self

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            f"{node}/{name}": array
            for node, arrays in self.arrays.items()
            for name, array in arrays.items()
        }

    @classmethod
    def from_arrays(cls, graph: ModelGraph, flat: dict[str, np.ndarray]) -> GraphWeights:
        """Inverse of `to_arrays`; missing or extra names raise WeightFormatError."""
        expected = {
            f"{node.name}/{name}" for node in graph.nodes for name in graph.weight_shapes(node)
        }
        missing, extra = sorted(expected - set(flat)), sorted(set(flat) - expected)
        if missing or extra:
            raise WeightFormatError(
                f"weight names do not fit the graph: missing {missing[:6]}"
                f"{'...' if len(missing) > 6 else ''}, unexpected {extra[:6]}"
            )
        arrays: dict[str, dict[str, np.ndarray]] = {}
        for key, array in flat.items():
            node, _, name = key.partition("/")
            arrays.setdefault(node, {})[name] = array
        return cls(graph, arrays).validate()

    def max_abs_diff(self, other: GraphWeights) -> float:
        """Largest absolute difference over all arrays (both must share the same names)."""
        mine, theirs = self.to_arrays(), other.to_arrays()
        if set(mine) != set(theirs):
            raise WeightFormatError("cannot compare weights of different graphs")
        gaps = [
            float(np.max(np.abs(mine[k].astype(np.float64) - theirs[k].astype(np.float64))))
            for k in mine
            if mine[k].size
        ]
        return max(gaps, default=0.0)


def fold_single_bias(weights: GraphWeights) -> GraphWeights:
    """A copy where b holds b + c and c is zero in every recurrent node whose math has one bias
    per gate (all but GRU reset_after=True, whose c_n sits inside the reset gate): the form a
    one-bias framework (Keras) stores, so weights from both frameworks compare equal."""
    arrays = {node: dict(held) for node, held in weights.arrays.items()}
    for node in weights.graph.nodes:
        kind = node.kind
        if kind.type != "recurrent" or not kind.use_bias:
            continue
        if kind.kind == "gru" and kind.reset_after:
            continue
        held = arrays[node.name]
        for name in [n for n in held if "/c/" in n]:
            bias = name.replace("/c/", "/b/")
            held[bias] = held[bias] + held[name]
            held[name] = np.zeros_like(held[name])
    return GraphWeights(weights.graph, arrays)


def random_weights(graph: ModelGraph, seed: int = 0, scale: float = 0.5) -> GraphWeights:
    """Random, non-constant weights for every node (tests, the property, the bench).

    Normal(0, scale) everywhere; batch-norm variances uniform in [0.5, 1.5] and gammas around 1,
    so no array is constant and no variance is negative.
    """
    rng = np.random.default_rng(seed)
    arrays: dict[str, dict[str, np.ndarray]] = {}
    for node in graph.nodes:
        for name, shape in graph.weight_shapes(node).items():
            if name == "variance":
                value = rng.uniform(0.5, 1.5, shape)
            elif name == "gamma":
                value = 1.0 + rng.normal(0.0, 0.2, shape)
            else:
                value = rng.normal(0.0, scale, shape)
            arrays.setdefault(node.name, {})[name] = value.astype(graph.dtype)
    return GraphWeights(graph, arrays).validate()


def _check_array(array: object, shape: tuple[int, ...], dtype: str, where: str) -> None:
    if not isinstance(array, np.ndarray):
        raise WeightFormatError(f"{where}: expected a numpy array, got {type(array).__name__}")
    if array.shape != shape:
        raise WeightFormatError(f"{where}: shape {array.shape}, expected {shape}")
    if array.dtype != np.dtype(dtype):
        raise WeightFormatError(f"{where}: dtype {array.dtype}, expected {dtype}")
    if not np.all(np.isfinite(array)):
        raise WeightFormatError(f"{where}: holds NaN or infinite values")
