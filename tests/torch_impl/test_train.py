"""Training: it learns, repeats bit for bit, feeds the given order, and fit == fit_plain."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared import reference
from shared.errors import DataError
from shared.recipe import OptimizerSpec, TrainSpec
from shared.spec import BatchNormSpec, DenseSpec, EmbeddingSpec, LayerNormSpec
from shared.training import epoch_orders
from shared.weights import random_weights
from tests.specs import TORCH_SIZES, grammar_spec, make_spec, tutorial_like_spec
from tests.torch_impl.helpers import masked_inputs
from torch_impl import fit, fit_plain, from_canonical, predict, to_canonical
from torch_impl.model import RNNModel

pytestmark = pytest.mark.slow

ADAM = TrainSpec(epochs=3, batch_size=4, optimizer=OptimizerSpec(learning_rate=0.01), seed=5)


def _start(kind: str = "simple", dtype: str = "float64", seed: int = 40):
    spec = tutorial_like_spec(kind, dtype)
    return random_weights(spec, seed=seed, scale=0.3)


def test_loss_decreases(windows):
    X, Y = windows
    history = fit(from_canonical(_start()), X, Y, ADAM)
    assert len(history.epoch_loss) == 3
    assert len(history.step_loss) == 3 * 8  # ceil(30 / 4) steps per epoch
    assert history.epoch_loss[-1] < history.epoch_loss[0]
    assert not history.diverged and history.seconds > 0


def test_epoch_loss_is_the_batch_size_weighted_mean(windows):
    X, Y = windows  # 30 samples in batches of 4: seven of 4, then one of 2
    history = fit(from_canonical(_start()), X, Y, ADAM)
    sizes = np.array([4] * 7 + [2])
    for epoch in range(3):
        steps = np.array(history.step_loss[epoch * 8 : (epoch + 1) * 8])
        expected = float(np.sum(steps * sizes) / 30)
        # the same eight products summed in another order: a few ulp of float64
        assert history.epoch_loss[epoch] == pytest.approx(expected, rel=1e-14)


def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not(windows):
    X, Y = windows
    start = _start("lstm")
    runs = []
    for seed in (5, 5, 6):
        model = from_canonical(start)
        history = fit(model, X, Y, TrainSpec(epochs=2, batch_size=4, seed=seed))
        runs.append((to_canonical(model), history.step_loss))
    assert runs[0][0].bitwise_equal(runs[1][0]) and runs[0][1] == runs[1][1]
    assert not runs[0][0].bitwise_equal(runs[2][0])  # the seed really drives the shuffle


def _replay(weights, X, Y, order, learning_rate):
    """Plain SGD by hand, one sample per step in `order`, no DataLoader or sampler involved."""
    model = from_canonical(weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)
    losses = []
    for epoch_order in order:
        for index in epoch_order:
            optimizer.zero_grad()
            x = torch.from_numpy(X[index : index + 1])  # (1, time, features)
            loss = torch.nn.functional.mse_loss(model(x), torch.from_numpy(Y[index : index + 1]))
            losses.append(loss.item())
            loss.backward()
            optimizer.step()
    return losses, to_canonical(model)


def test_given_order_is_the_order_the_model_sees(windows):
    X, Y = windows[0][:10], windows[1][:10]
    start = _start("gru")
    order = epoch_orders(10, 2, seed=9)
    spec = TrainSpec(epochs=2, batch_size=1, optimizer=OptimizerSpec(name="sgd", learning_rate=0.1))
    model = from_canonical(start)
    history = fit(model, X, Y, spec, order)
    replayed, replay_weights = _replay(start, X, Y, order, 0.1)
    # Same single-sample steps in the same order: identical float64 operations, so exact.
    assert history.step_loss == replayed
    assert to_canonical(model).bitwise_equal(replay_weights)
    # The very first step, independently of torch: the numpy reference's loss of order[0][0].
    first = order[0][0]
    expected = float(np.mean((reference.predict(start, X[[first]]) - Y[[first]]) ** 2))
    assert abs(history.step_loss[0] - expected) <= 1e-12  # float64 forward, ~1e-16 apart
    # And the test can fail: another order gives other step losses.
    other = [indices[::-1].copy() for indices in order]
    assert fit(from_canonical(start), X, Y, spec, other).step_loss != replayed


@pytest.mark.parametrize(
    "optimizer",
    [
        OptimizerSpec(learning_rate=0.01),
        OptimizerSpec(learning_rate=0.01, epsilon_style="keras"),
        OptimizerSpec(name="sgd", learning_rate=0.05, momentum=0.9),
    ],
    ids=["adam", "keras-adam", "sgd-momentum"],
)
@pytest.mark.parametrize("with_order", [True, False], ids=["order", "seeded-shuffle"])
def test_fit_and_fit_plain_are_bit_identical(windows, optimizer, with_order):
    X, Y = windows
    start = _start("gru")
    spec = TrainSpec(epochs=2, batch_size=4, optimizer=optimizer, seed=3)
    order = epoch_orders(len(X), 2, seed=4) if with_order else None
    lightning_model, plain_model = from_canonical(start), from_canonical(start)
    lightning = fit(lightning_model, X, Y, spec, order, record_weights=True)
    plain = fit_plain(plain_model, X, Y, spec, order, record_weights=True)
    assert lightning.step_loss == plain.step_loss
    assert lightning.epoch_loss == plain.epoch_loss
    assert len(lightning.epoch_weights) == len(plain.epoch_weights) == 2
    for ours, theirs in zip(lightning.epoch_weights, plain.epoch_weights, strict=True):
        assert ours.bitwise_equal(theirs)
    assert to_canonical(lightning_model).bitwise_equal(to_canonical(plain_model))
    assert lightning.epoch_weights[-1].bitwise_equal(to_canonical(lightning_model))


def test_single_bias_freezes_recurrent_bias_wherever_keras_has_none(windows):
    # simple, LSTM and GRU reset_after=False have one bias per gate in Keras; only
    # GRU reset_after=True keeps a real recurrent-side bias (inside the reset gate).
    X, Y = windows
    one_bias = [{"kind": "lstm"}, {"kind": "simple", "activation": "linear"}]
    one_bias.append({"kind": "gru", "reset_after": False})
    for layer in one_bias:
        kind_spec = make_spec(
            layer,
            "single",
            "float64",
            time_steps=12,
            features=1,
            units=4,
            head=DenseSpec(1, "tanh"),
            sizes=TORCH_SIZES,
        )
        start = random_weights(kind_spec, seed=41, scale=0.3)  # c starts nonzero
        model = from_canonical(start)
        fit(model, X, Y, TrainSpec(epochs=2, batch_size=4, single_bias=True))
        after = to_canonical(model)
        for gate, c in after.layers[0]["forward"].c.items():
            assert np.all(c == 0), gate
        moved = [
            np.any(after.layers[0]["forward"].b[g] != start.layers[0]["forward"].b[g])
            for g in kind_spec.layers[0].gates
        ]
        assert all(moved)  # the input-side bias still trains
        assert all(p.requires_grad for p in model.parameters())  # frozen only during fit
    gru = make_spec(
        {"kind": "gru", "reset_after": True},
        "single",
        "float64",
        time_steps=12,
        features=1,
        units=4,
        head=DenseSpec(1, "tanh"),
        sizes=TORCH_SIZES,
    )
    start = random_weights(gru, seed=42, scale=0.3)
    model = from_canonical(start)
    fit(model, X, Y, TrainSpec(epochs=1, batch_size=4, single_bias=True))
    after_c = to_canonical(model).layers[0]["forward"].c
    assert all(np.any(after_c[g] != start.layers[0]["forward"].c[g]) for g in "rzn")


def test_float64_training_stays_float64(windows):
    X, Y = windows
    model = from_canonical(_start(dtype="float64"))
    fit(model, X.astype(np.float32), Y, TrainSpec(epochs=1, batch_size=8))
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert predict(model, X).dtype == np.float64
    assert to_canonical(model).spec.dtype == "float64"


def test_float32_training_runs_in_float32(windows):
    X, Y = windows
    model = from_canonical(_start(dtype="float32"))
    history = fit(model, X, Y, TrainSpec(epochs=1, batch_size=8))
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert not history.diverged


def test_fit_is_quiet_and_leaves_no_files(windows, tmp_path, monkeypatch, capfd):
    X, Y = windows
    monkeypatch.chdir(tmp_path)
    fit(from_canonical(_start()), X[:8], Y[:8], TrainSpec(epochs=1, batch_size=4))
    captured = capfd.readouterr()
    assert "GPU available" not in captured.out + captured.err
    assert captured.out + captured.err == ""
    assert list(tmp_path.iterdir()) == []  # no lightning_logs, no checkpoints


def test_bad_training_input_raises_data_error(windows):
    X, Y = windows
    model = from_canonical(_start())
    spec = TrainSpec(epochs=2, batch_size=4)
    with pytest.raises(DataError, match=r"X must be shaped \(samples, 12, 1\)"):
        fit(model, X[:, :10, :], Y, spec)
    with pytest.raises(DataError, match="X must be shaped"):
        fit(model, X[:, :, 0], Y, spec)
    with pytest.raises(DataError, match="Y must be shaped"):
        fit(model, X, Y[:, 0], spec)  # (n,) targets: would broadcast against (n, 1) outputs
    with pytest.raises(DataError, match="Y must be shaped"):
        fit(model, X, np.concatenate([Y, Y], axis=1), spec)
    with pytest.raises(DataError, match="epoch"):
        fit(model, X, Y, spec, epoch_orders(len(X), 1, seed=0))  # one order, two epochs
    with pytest.raises(DataError, match="permutation"):
        fit_plain(model, X, Y, spec, [np.zeros(len(X), dtype=np.int64)] * 2)
    with pytest.raises(TypeError):
        fit(model, X, Y, {"epochs": 1})


def test_predict_validates_and_restores_the_mode(windows):
    X, _ = windows
    model = from_canonical(_start())
    assert isinstance(model, RNNModel)
    model.train()
    predict(model, X)
    assert model.training
    with pytest.raises(DataError):
        predict(model, X[:, :, :, None])
    with pytest.raises(DataError):
        predict(model, np.full_like(X, np.nan))


def test_grammar_models_train_alike_through_lightning_and_the_plain_loop():
    """Masks on both routes, BatchNorm's batch statistics and token ids, in training."""
    spec = grammar_spec(
        {"kind": "gru"},
        bidirectional=True,
        front=EmbeddingSpec(6, 2, mask_zero=True),
        head_layers=(LayerNormSpec(), BatchNormSpec()),
    )
    start = random_weights(spec, seed=44, scale=0.3)
    # unshuffled batches of 4: trailing padding (packed), then holes and leading padding (loop)
    patterns = ("end", "middle", "start")
    X = np.concatenate([masked_inputs(spec, pattern, seed=i) for i, pattern in enumerate(patterns)])
    Y = np.random.default_rng(2).uniform(-0.5, 0.5, size=(len(X), 2))
    recipe = TrainSpec(
        epochs=2, batch_size=4, optimizer=OptimizerSpec(learning_rate=0.01), shuffle=False
    )
    lightning_model, plain_model = from_canonical(start), from_canonical(start)
    lightning_run = fit(lightning_model, X, Y, recipe)
    plain_run = fit_plain(plain_model, X, Y, recipe)
    assert lightning_run.step_loss == plain_run.step_loss
    trained = to_canonical(lightning_model)
    assert trained.bitwise_equal(to_canonical(plain_model))
    assert trained.max_abs_diff(start) > 1e-3  # it trained, moving statistics included
    assert not np.array_equal(trained.head_layers[1]["mean"], start.head_layers[1]["mean"])
