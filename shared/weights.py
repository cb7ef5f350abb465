"""The canonical weight format: every framework's weights, named per gate, in row-vector layout.

Keras and torch store the same recurrent weights in different shapes, gate orders and bias
splits. Each impl translates its own layout to and from this one format, so no gate order or
transpose is ever implicit anywhere else:

    layer k, direction "forward" (and "backward" when bidirectional):
      W[gate]: (input_size, units)   input weights,      used as x_t @ W
      U[gate]: (units, units)        recurrent weights,  used as h_{t-1} @ U
      b[gate]: (units,)              input-side bias
      c[gate]: (units,)              recurrent-side bias (zeros where the source had one bias)
    head: W_y (units_in, units_out), b_y (units_out,); its activation lives in the spec.

The grammar's other layers (`shared.grammar`) own these, in the same row-vector layout:

    front (Embedding):       E (vocab, dim)             row i is token id i's vector
    front (Masking):         no weights
    head layer i, Dense:     W (in, units), b (units,)  used as x @ W + b, like W_y
    head layer i, Dropout:   no weights
    head layer i, LayerNorm: gamma (F,), beta (F,)
    head layer i, BatchNorm: gamma (F,), beta (F,), mean (F,), variance (F,)  (moving statistics)

Epsilons and activations are not weights: they live in the spec. Flat names (the .npz keys) are
`layer{k}/{direction}/{param}/{gate}`, `head/W_y`, `head/b_y`, `front/E` and
`head_layer{i}/{name}`, so files of models without the new layers keep exactly today's names.

Gates: simple (h), lstm (i, f, g, o), gru (r, z, n). The weights carry their `ModelSpec`;
`shared.weight_files` writes and reads them as `.npz` files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared.errors import WeightFormatError
from shared.spec import ModelSpec

PARAMS = ("W", "U", "b", "c")


@dataclass
class DirectionWeights:
    """One direction of one recurrent layer: per-gate W, U, b, c (see the module docstring)."""

    W: dict[str, np.ndarray]
    U: dict[str, np.ndarray]
    b: dict[str, np.ndarray]
    c: dict[str, np.ndarray]

    def param(self, name: str) -> dict[str, np.ndarray]:
        return {"W": self.W, "U": self.U, "b": self.b, "c": self.c}[name]


@dataclass
class CanonicalWeights:
    """A whole model's weights in the canonical format, with the spec they belong to.

    `layers[k]` maps a direction ("forward", "backward") to that direction's weights;
    `front` holds the front's arrays by name and `head_layers[i]` head layer i's (empty where a
    layer has no weights: Masking, Dropout).
    """

    spec: ModelSpec
    layers: list[dict[str, DirectionWeights]]
    W_y: np.ndarray
    b_y: np.ndarray
    front: dict[str, np.ndarray] = field(default_factory=dict)
    head_layers: list[dict[str, np.ndarray]] = field(default_factory=list)

    def validate(self) -> CanonicalWeights:
        """Check every array's presence, shape, dtype and finiteness against the spec.

        Returns:
            self, so calls can be chained.

        Raises:
            WeightFormatError: naming the layer, direction, parameter, gate and expected shape.
        """
        spec = self.spec
        if not isinstance(spec, ModelSpec):
            raise WeightFormatError(f"weights carry no ModelSpec (got {type(spec).__name__})")
        if len(self.layers) != len(spec.layers):
            raise WeightFormatError(
                f"spec has {len(spec.layers)} recurrent layer(s), weights have {len(self.layers)}"
            )
        for index, layer_spec in enumerate(spec.layers):
            directions = self.layers[index]
            if set(directions) != set(layer_spec.directions):
                raise WeightFormatError(
                    f"layer {index} ({layer_spec.kind}): directions {sorted(directions)} "
                    f"do not match the spec's {list(layer_spec.directions)}"
                )
            units, input_size = layer_spec.units, spec.input_size(index)
            expected = {"W": (input_size, units), "U": (units, units), "b": (units,), "c": (units,)}
            for direction in layer_spec.directions:
                weights = directions[direction]
                for param in PARAMS:
                    arrays = weights.param(param)
                    where = f"layer {index} ({layer_spec.kind}) {direction} {param}"
                    if set(arrays) != set(layer_spec.gates):
                        raise WeightFormatError(
                            f"{where}: gates {sorted(arrays)} do not match {list(layer_spec.gates)}"
                        )
                    for gate in layer_spec.gates:
                        _check_array(arrays[gate], expected[param], spec.dtype, f"{where}[{gate}]")
        self._validate_extras()
        head_in = spec.head_input_size(len(spec.head_layers))
        _check_array(self.W_y, (head_in, spec.head.units), spec.dtype, "head W_y")
        _check_array(self.b_y, (spec.head.units,), spec.dtype, "head b_y")
        return self

    def _validate_extras(self) -> None:
        """The front's and the head layers' arrays: names, shapes, dtype (see the docstring)."""
        spec = self.spec
        expected_front = front_shapes(spec)
        _check_names(self.front, expected_front, "front")
        for name, shape in expected_front.items():
            _check_array(self.front[name], shape, spec.dtype, f"front ({spec.front.type}) {name}")
        if len(self.head_layers) != len(spec.head_layers):
            raise WeightFormatError(
                f"spec has {len(spec.head_layers)} head layer(s), weights have "
                f"{len(self.head_layers)}"
            )
        for index, arrays in enumerate(self.head_layers):
            where = f"head layer {index} ({spec.head_layers[index].type})"
            expected = head_layer_shapes(spec, index)
            _check_names(arrays, expected, where)
            for name, shape in expected.items():
                _check_array(arrays[name], shape, spec.dtype, f"{where} {name}")
            if spec.head_layers[index].type == "batch_norm" and np.any(arrays["variance"] < 0):
                raise WeightFormatError(f"{where} variance: holds negative values")

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flatten to names like 'layer0/forward/W/i' and 'head/W_y' (the .npz keys)."""
        arrays: dict[str, np.ndarray] = {}
        for index, directions in enumerate(self.layers):
            for direction, weights in directions.items():
                for param in PARAMS:
                    for gate, array in weights.param(param).items():
                        arrays[f"layer{index}/{direction}/{param}/{gate}"] = array
        for name, array in self.front.items():
            arrays[f"front/{name}"] = array
        for index, layer_arrays in enumerate(self.head_layers):
            for name, array in layer_arrays.items():
                arrays[f"head_layer{index}/{name}"] = array
        arrays["head/W_y"] = self.W_y
        arrays["head/b_y"] = self.b_y
        return arrays

    @classmethod
    def from_arrays(cls, spec: ModelSpec, arrays: dict[str, np.ndarray]) -> CanonicalWeights:
        """Rebuild from flat names (inverse of `to_arrays`); missing or extra names raise."""
        expected = set(_array_names(spec))
        missing, extra = sorted(expected - set(arrays)), sorted(set(arrays) - expected)
        if missing or extra:
            raise WeightFormatError(
                f"weight names do not fit the spec: missing {missing[:6]}"
                f"{'...' if len(missing) > 6 else ''}, unexpected {extra[:6]}"
            )
        layers = []
        for index, layer_spec in enumerate(spec.layers):
            directions = {}
            for direction in layer_spec.directions:
                params = {
                    param: {
                        gate: arrays[f"layer{index}/{direction}/{param}/{gate}"]
                        for gate in layer_spec.gates
                    }
                    for param in PARAMS
                }
                directions[direction] = DirectionWeights(**params)
            layers.append(directions)
        front = {name: arrays[f"front/{name}"] for name in front_shapes(spec)}
        head_layers = [
            {name: arrays[f"head_layer{index}/{name}"] for name in head_layer_shapes(spec, index)}
            for index in range(len(spec.head_layers))
        ]
        return cls(
            spec, layers, arrays["head/W_y"], arrays["head/b_y"], front, head_layers
        ).validate()

    def max_abs_diff(self, other: CanonicalWeights) -> float:
        """Largest absolute difference over all arrays (both must share the same names)."""
        mine, theirs = self.to_arrays(), other.to_arrays()
        if set(mine) != set(theirs):
            raise WeightFormatError("cannot compare weights of different architectures")
        return max(
            float(np.max(np.abs(mine[k].astype(np.float64) - theirs[k].astype(np.float64))))
            for k in mine
        )

    def bitwise_equal(self, other: CanonicalWeights) -> bool:
        """True when both hold the same names with identical dtypes, shapes and bytes."""
        mine, theirs = self.to_arrays(), other.to_arrays()
        return set(mine) == set(theirs) and all(
            mine[k].dtype == theirs[k].dtype and np.array_equal(mine[k], theirs[k]) for k in mine
        )


def front_shapes(spec: ModelSpec) -> dict[str, tuple[int, ...]]:
    """Name -> shape of the front's canonical arrays (none without a front, or for Masking)."""
    return spec.front.weight_shapes(spec.features) if spec.front is not None else {}


def head_layer_shapes(spec: ModelSpec, index: int) -> dict[str, tuple[int, ...]]:
    """Name -> shape of head layer `index`'s canonical arrays (none for Dropout)."""
    return spec.head_layers[index].weight_shapes(spec.head_input_size(index))


def _array_names(spec: ModelSpec) -> list[str]:
    names = [
        f"layer{index}/{direction}/{param}/{gate}"
        for index, layer in enumerate(spec.layers)
        for direction in layer.directions
        for param in PARAMS
        for gate in layer.gates
    ]
    names += [f"front/{name}" for name in front_shapes(spec)]
    names += [
        f"head_layer{index}/{name}"
        for index in range(len(spec.head_layers))
        for name in head_layer_shapes(spec, index)
    ]
    return names + ["head/W_y", "head/b_y"]


def _check_names(arrays: object, expected: dict[str, tuple[int, ...]], where: str) -> None:
    if not isinstance(arrays, dict) or set(arrays) != set(expected):
        found = sorted(arrays) if isinstance(arrays, dict) else type(arrays).__name__
        raise WeightFormatError(f"{where}: arrays {found} do not match {sorted(expected)}")


def _check_array(array: object, shape: tuple[int, ...], dtype: str, where: str) -> None:
    if not isinstance(array, np.ndarray):
        raise WeightFormatError(f"{where}: expected a numpy array, got {type(array).__name__}")
    if array.shape != shape:
        raise WeightFormatError(f"{where}: expected shape {shape}, got {array.shape}")
    if array.dtype != np.dtype(dtype):
        raise WeightFormatError(f"{where}: expected dtype {dtype}, got {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise WeightFormatError(f"{where}: holds NaN or infinite values")


def random_weights(spec: ModelSpec, seed: int = 0, scale: float = 0.5) -> CanonicalWeights:
    """Random, non-constant weights (uniform in +-scale) for `spec`, in the spec's dtype.

    Every array, recurrent-side biases included, is random: a constant initialiser would hide a
    swapped gate or a dropped bias, which is exactly what the adapters' tests must catch.
    """
    rng = np.random.default_rng(seed)
    arrays = {}
    for name in _array_names(spec):
        shape = _expected_shape(spec, name)
        arrays[name] = rng.uniform(-scale, scale, size=shape).astype(spec.dtype)
        if name.endswith("/variance"):  # a variance is positive: draw it in [0.5, 1.5)
            arrays[name] = (rng.uniform(0.5, 1.5, size=shape)).astype(spec.dtype)
        elif name.endswith("/gamma"):  # a scale near 1, as trained normalisation layers hold
            arrays[name] = (1 + arrays[name]).astype(spec.dtype)
    return CanonicalWeights.from_arrays(spec, arrays)


def zero_recurrent_bias(weights: CanonicalWeights) -> CanonicalWeights:
    """A copy with every c[gate] set to zero, as weights from a one-bias Keras layer look."""
    arrays = weights.to_arrays()
    for name in arrays:
        if "/c/" in name:
            arrays[name] = np.zeros_like(arrays[name])
    return CanonicalWeights.from_arrays(weights.spec, arrays)


def fold_single_bias(weights: CanonicalWeights) -> CanonicalWeights:
    """A copy where b holds b + c and c is zero, for layers whose math has one bias per gate.

    Simple, LSTM and GRU with reset_after=False compute x W + b + h U + c, so only b + c matters
    and a one-bias framework (Keras) stores exactly that. GRU with reset_after=True is left as it
    is: its c_n sits inside the reset gate, r * (h U_n + c_n), so b and c are distinct there.
    """
    arrays = weights.to_arrays()
    for index, layer in enumerate(weights.spec.layers):
        if layer.kind == "gru" and layer.reset_after:
            continue
        for name in [n for n in arrays if n.startswith(f"layer{index}/") and "/c/" in n]:
            bias = name.replace("/c/", "/b/")
            arrays[bias] = arrays[bias] + arrays[name]
            arrays[name] = np.zeros_like(arrays[name])
    return CanonicalWeights.from_arrays(weights.spec, arrays)


def _expected_shape(spec: ModelSpec, name: str) -> tuple[int, ...]:
    if name == "head/W_y":
        return (spec.head_input_size(len(spec.head_layers)), spec.head.units)
    if name == "head/b_y":
        return (spec.head.units,)
    part, _, array_name = name.partition("/")
    if part == "front":
        return front_shapes(spec)[array_name]
    if part.startswith("head_layer"):
        return head_layer_shapes(spec, int(part.removeprefix("head_layer")))[array_name]
    layer_part, _direction, param, _gate = name.split("/")
    index = int(layer_part.removeprefix("layer"))
    units = spec.layers[index].units
    return {
        "W": (spec.input_size(index), units),
        "U": (units, units),
        "b": (units,),
        "c": (units,),
    }[param]
