"""The model grammar in `shared`: specs, canonical weights and the reference, framework-free.

The reference is the oracle for both frameworks, so its masking and head layers are checked
here against independent computations: a masked step must act exactly as if it were deleted
from that sample's sequence (Keras's rule for states), head layers against their formulas
written out per element, and Embedding against a one-hot product. Specs must round-trip through
JSON, refuse bad values naming the layer, and today's files must read back unchanged.
"""

from pathlib import Path

import numpy as np
import pytest

from shared.errors import SpecError, WeightFormatError
from shared.grammar import (
    BatchNormSpec,
    DenseSpec,
    DropoutSpec,
    EmbeddingSpec,
    LayerNormSpec,
    MaskingSpec,
)
from shared.recurrent_spec import RecurrentLayerSpec
from shared.reference import forward
from shared.spec import ModelSpec
from shared.tolerances import TOLERANCES
from shared.weight_files import load_npz, save_npz
from shared.weights import CanonicalWeights, random_weights

FIXTURES = Path(__file__).parent.parent / "fixtures" / "release_0_1"
# float64 against float64 computed in another order: a few ulps of values of size ~1.
F64_TOL = 1e-13
KINDS = ("simple", "lstm", "gru")


def _layer(kind: str, units: int = 3, **options) -> RecurrentLayerSpec:
    return RecurrentLayerSpec(kind, units, **options)


def _spec(layers, **options) -> ModelSpec:
    options.setdefault("dtype", "float64")
    return ModelSpec(
        options.pop("time_steps", 6), options.pop("features", 2), tuple(layers), **options
    )


GRAMMAR_SPECS = {
    "mlp head": _spec(
        [_layer("simple", 4)],
        head_layers=(DenseSpec(5, "relu"), DropoutSpec(0.3), DenseSpec(3, "tanh")),
    ),
    "norms": _spec(
        [_layer("gru", 3, dropout=0.2, recurrent_dropout=0.1)],
        head_layers=(LayerNormSpec(1e-5), BatchNormSpec(1e-3)),
    ),
    "stacked forecaster": _spec(
        [_layer("lstm", 4, return_sequences=True, output_dropout=0.2), _layer("lstm", 3)],
        head_layers=(DropoutSpec(0.2),),
    ),
    "embedding": _spec(
        [_layer("lstm", 3)],
        features=1,
        front=EmbeddingSpec(7, 4, mask_zero=True),
        head=DenseSpec(1, "sigmoid"),
    ),
    "masked per step": _spec(
        [_layer("gru", 3, return_sequences=True, bidirectional=True)],
        front=MaskingSpec(0.0),
        head_layers=(LayerNormSpec(),),
    ),
    "last step": _spec(
        [_layer("lstm", 2, return_sequences=True, bidirectional=True)], readout="last_step"
    ),
}


@pytest.mark.parametrize("name", GRAMMAR_SPECS)
def test_grammar_specs_round_trip_through_json(name):
    spec = GRAMMAR_SPECS[name]
    assert ModelSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("name", GRAMMAR_SPECS)
def test_grammar_weights_round_trip_through_npz(name, tmp_path):
    weights = random_weights(GRAMMAR_SPECS[name], seed=4)
    path = save_npz(weights, tmp_path / "w.npz")
    assert load_npz(path).bitwise_equal(weights)


def test_readout_is_derived_from_the_last_layer():
    assert _spec([_layer("simple")]).readout == "final"
    assert _spec([_layer("simple", return_sequences=True)]).readout == "sequence"
    assert _spec([_layer("simple")], readout="final") == _spec([_layer("simple")])


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: _spec([_layer("simple")], readout="sequence"), "return_sequences=True"),
        (lambda: _spec([_layer("simple", return_sequences=True)], readout="last_step"), "bidir"),
        (lambda: _spec([_layer("simple")], readout="every"), "readout must be one of"),
        (lambda: _spec([_layer("lstm", output_dropout=0.2)]), "output_dropout must be 0"),
        (lambda: _spec([_layer("lstm", dropout=1.0)]), "lstm layer: dropout must be in [0, 1)"),
        (lambda: _spec([_layer("simple")], front=EmbeddingSpec(5, 2)), "features must be 1"),
        (lambda: _spec([_layer("simple")], head_layers=[DenseSpec()]), "must be a tuple"),
        (lambda: _spec([_layer("simple")], head_layers=("dense",)), "head layer 0 must be"),
        (lambda: LayerNormSpec(0.0), "layer_norm: epsilon must be a finite number > 0"),
        (lambda: MaskingSpec(float("nan")), "masking: mask_value must be finite"),
        (lambda: EmbeddingSpec(1, 2, mask_zero=True), "vocab >= 2"),
    ],
)
def test_bad_grammar_specs_name_the_layer(build, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace(")", r"\)")):
        build()


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"head_layers": [{"type": "conv1d"}]}, "head layer 0: type must be one of"),
        ({"head_layers": [{"type": "dense", "units": 0}]}, "head layer 0: dense head: units"),
        ({"head_layers": [{"type": "dropout", "p": 0.1}]}, r"head layer 0: \(dropout\) unknown"),
        ({"front": {"type": "embedding", "vocab": 3}}, "front: \\(embedding\\)"),
        ({"front": "masking"}, "front: expected a JSON object"),
        ({"head_layers": {"type": "dense"}}, "'head_layers' must be a list"),
    ],
)
def test_bad_grammar_json_names_the_layer(patch, message):
    data = GRAMMAR_SPECS["mlp head"].to_dict() | patch
    with pytest.raises(SpecError, match=message):
        ModelSpec.from_dict(data)


def test_weights_name_the_head_layer_at_fault():
    weights = random_weights(GRAMMAR_SPECS["norms"], seed=0)
    weights.head_layers[1]["variance"] = -weights.head_layers[1]["variance"]
    with pytest.raises(
        WeightFormatError, match=r"head layer 1 \(batch_norm\) variance: .*negative"
    ):
        weights.validate()
    weights = random_weights(GRAMMAR_SPECS["norms"], seed=0)
    weights.head_layers[0]["gamma"] = weights.head_layers[0]["gamma"][:2]
    with pytest.raises(WeightFormatError, match=r"head layer 0 \(layer_norm\) gamma: expected"):
        weights.validate()
    weights = random_weights(GRAMMAR_SPECS["embedding"], seed=0)
    weights.front = {}
    with pytest.raises(WeightFormatError, match=r"front: arrays \[\] do not match \['E'\]"):
        weights.validate()


def _compressed(inputs: np.ndarray, keep: np.ndarray) -> list[np.ndarray]:
    """Each sample's sequence with its masked steps deleted, (1, kept, features) each."""
    return [inputs[i : i + 1, keep[i]] for i in range(len(inputs))]


def _masked_inputs(batch: int = 5, steps: int = 6, features: int = 2, seed: int = 0):
    """Inputs with masked steps at the end, in the middle and at the start, and the mask."""
    rng = np.random.default_rng(seed)
    inputs = rng.normal(size=(batch, steps, features))
    keep = np.ones((batch, steps), dtype=bool)
    keep[0, 4:] = False  # trailing padding
    keep[1, 2] = keep[1, 3] = False  # a gap in the middle
    keep[2, :2] = False  # leading padding
    keep[3, ::2] = False  # every other step
    inputs[~keep] = 0.0
    return inputs, keep


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_final_state_equals_the_sequence_without_its_masked_steps(kind, bidirectional):
    """Keras's rule: a masked step leaves the state alone, so it acts as if it were deleted."""
    spec = _spec([_layer(kind, bidirectional=bidirectional)], front=MaskingSpec(0.0))
    weights = random_weights(spec, seed=1)
    inputs, keep = _masked_inputs()
    trace = forward(weights, inputs)
    assert np.array_equal(trace.mask, keep)
    for sample, short in enumerate(_compressed(inputs, keep)):
        plain_spec = ModelSpec(short.shape[1], 2, spec.layers, spec.head, "float64")
        plain = CanonicalWeights(plain_spec, weights.layers, weights.W_y, weights.b_y)
        expected = forward(plain, short).outputs[0]
        np.testing.assert_allclose(trace.outputs[sample], expected, rtol=0, atol=F64_TOL)


@pytest.mark.parametrize("kind", KINDS)
def test_masked_steps_repeat_the_previous_output_or_zero_it_when_bidirectional(kind):
    inputs, keep = _masked_inputs()
    for bidirectional in (False, True):
        layer = _layer(kind, return_sequences=True, bidirectional=bidirectional)
        trace = forward(random_weights(_spec([layer], front=MaskingSpec(0.0)), 2), inputs)
        sequence = trace.sequences[0]
        if bidirectional:  # Keras sets zero_output_for_mask inside Bidirectional
            assert np.all(sequence[~keep] == 0) and np.all(sequence[keep] != 0)
            continue
        for sample, step in zip(*np.nonzero(~keep), strict=True):
            previous = sequence[sample, step - 1] if step > 0 else np.zeros(3)
            assert np.array_equal(sequence[sample, step], previous)


def test_a_stacked_masked_model_skips_masked_steps_in_every_layer():
    layers = [_layer("gru", 3, return_sequences=True, bidirectional=True), _layer("lstm", 2)]
    spec = _spec(layers, front=MaskingSpec(0.0))
    weights = random_weights(spec, seed=5)
    inputs, keep = _masked_inputs()
    trace = forward(weights, inputs)
    for sample, short in enumerate(_compressed(inputs, keep)):
        plain = CanonicalWeights(
            ModelSpec(short.shape[1], 2, spec.layers, spec.head, "float64"),
            weights.layers,
            weights.W_y,
            weights.b_y,
        )
        np.testing.assert_allclose(
            trace.outputs[sample], forward(plain, short).outputs[0], rtol=0, atol=F64_TOL
        )


def test_masking_uses_all_features_and_the_mask_value():
    spec = _spec([_layer("simple")], front=MaskingSpec(-1.0))
    inputs = np.zeros((1, 6, 2))
    inputs[0, 1] = [-1.0, -1.0]  # masked: every feature is the mask value
    inputs[0, 2] = [-1.0, 0.5]  # kept: one feature differs
    assert forward(random_weights(spec), inputs).mask.tolist() == [
        [True, False, True, True, True, True]
    ]


def test_embedding_is_a_one_hot_product_and_id_zero_masks():
    spec = GRAMMAR_SPECS["embedding"]
    weights = random_weights(spec, seed=3)
    ids = np.array([[1, 2, 3, 0, 0, 0], [0, 0, 6, 5, 4, 3]])
    trace = forward(weights, ids)
    assert trace.mask.tolist() == (ids != 0).tolist()
    one_hot = np.eye(7)[ids]  # (batch, time, vocab)
    vectors = one_hot @ weights.front["E"]
    plain_spec = ModelSpec(6, 4, spec.layers, spec.head, "float64", front=MaskingSpec(0.0))
    plain = CanonicalWeights(plain_spec, weights.layers, weights.W_y, weights.b_y)
    vectors[ids == 0] = 0.0  # Masking reads the same steps as masked
    np.testing.assert_allclose(trace.outputs, forward(plain, vectors).outputs, atol=F64_TOL)


@pytest.mark.parametrize("bad", [np.array([[1, 7]]), np.array([[1.5, 2]]), np.array([[-1, 2]])])
def test_bad_token_ids_are_refused(bad):
    spec = _spec([_layer("simple")], features=1, front=EmbeddingSpec(7, 2), time_steps=2)
    with pytest.raises(Exception, match="token ids"):
        forward(random_weights(spec), bad)


def test_head_layers_follow_their_formulas_element_by_element():
    spec = GRAMMAR_SPECS["norms"]
    weights = random_weights(spec, seed=6)
    inputs = np.random.default_rng(1).normal(size=(3, 6, 2))
    trace = forward(weights, inputs)
    state = trace.hidden[0]["forward"][:, -1, :]  # (batch, 3): the final state
    norm, batch_norm = weights.head_layers
    expected = np.empty((3, 1))
    for row in range(3):
        values = list(state[row])
        mean = sum(values) / 3
        variance = sum((v - mean) ** 2 for v in values) / 3
        normed = [(v - mean) / (variance + 1e-5) ** 0.5 for v in values]
        layer_norm = [
            n * g + b for n, g, b in zip(normed, norm["gamma"], norm["beta"], strict=True)
        ]
        batch = [
            (v - m) / (var + 1e-3) ** 0.5 * g + b
            for v, m, var, g, b in zip(
                layer_norm,
                batch_norm["mean"],
                batch_norm["variance"],
                batch_norm["gamma"],
                batch_norm["beta"],
                strict=True,
            )
        ]
        expected[row, 0] = sum(v * w for v, w in zip(batch, weights.W_y[:, 0], strict=True))
        expected[row, 0] += weights.b_y[0]
    np.testing.assert_allclose(trace.outputs, expected, rtol=0, atol=F64_TOL)


def test_mlp_head_and_dropout_identity():
    spec = GRAMMAR_SPECS["mlp head"]
    weights = random_weights(spec, seed=8)
    inputs = np.random.default_rng(2).normal(size=(4, 6, 2))
    trace = forward(weights, inputs)
    state = trace.hidden[0]["forward"][:, -1, :]
    first, _dropout, second = weights.head_layers
    hidden = np.maximum(state @ first["W"] + first["b"], 0)
    hidden = np.tanh(hidden @ second["W"] + second["b"])
    np.testing.assert_allclose(trace.outputs, hidden @ weights.W_y + weights.b_y, atol=F64_TOL)


def test_last_step_readout_is_the_sequence_at_its_last_step():
    spec = GRAMMAR_SPECS["last step"]
    weights = random_weights(spec, seed=9)
    inputs = np.random.default_rng(3).normal(size=(4, 6, 2))
    trace = forward(weights, inputs)
    last = np.concatenate(
        [trace.hidden[0]["forward"][:, -1], trace.hidden[0]["backward"][:, -1]], axis=1
    )
    np.testing.assert_allclose(trace.outputs, last @ weights.W_y + weights.b_y, atol=F64_TOL)
    # the backward half at step T-1 has read that one step only: it is not the final state
    assert not np.allclose(trace.hidden[0]["backward"][:, -1], trace.hidden[0]["backward"][:, 0])


def test_per_step_head_acts_on_every_step():
    spec = GRAMMAR_SPECS["masked per step"]
    weights = random_weights(spec, seed=10)
    inputs, _ = _masked_inputs()
    trace = forward(weights, inputs)
    assert trace.outputs.shape == (5, 6, 1) == (5, *spec.output_shape)


@pytest.mark.parametrize("name", ["tutorial", "stacked_bilstm_seq64"])
def test_files_of_the_previous_release_read_back_unchanged(name):
    """Specs and .npz weights written by release 0.1 (before the grammar) load as they were."""
    text = (FIXTURES / f"{name}.json").read_text()
    spec = ModelSpec.from_json(text)
    assert spec.to_json() == text  # the same JSON, byte for byte: no new keys appear
    weights = load_npz(FIXTURES / f"{name}.npz")
    assert weights.spec == spec
    stored = np.load(FIXTURES / f"{name}_io.npz")
    # the stored outputs are Keras's (release 0.1); the reference agrees to the usual bounds
    tolerance = TOLERANCES[spec.dtype]
    np.testing.assert_allclose(forward(weights, stored["X"]).outputs, stored["y"], atol=tolerance)
