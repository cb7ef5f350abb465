"""fit_compiled: the compiled training step takes fit_plain's steps, in one graph, or says why not.

Each end-to-end test compiles one tiny model (2 units, 3 time steps, 6 windows, one epoch of
three batches of 2): inductor's compile of even this model took 110-125 s on 2 cores shared
by other work (a first run's compile, cache included), so the suite compiles twice, once per
code path: the model's own forward in float32 (torch_compiled's options) and the fused cell
with the C++ wrapper and skipped guards in float64 (torch_compiled_fused's, which hold
torch_compiled_tuned's). The two other pairings were checked by hand (see the report).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from shared.recipe import OptimizerSpec, TrainSpec
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from torch_impl import CompilerMissingError, build_model, fit_compiled, fit_plain, to_canonical
from torch_impl import compiled as compiled_module
from torch_impl.fused import check_fusable, fused_forward

RECIPE = TrainSpec(epochs=1, batch_size=2, optimizer=OptimizerSpec(learning_rate=0.01), seed=3)
# After three Adam steps from the same weights: float32 rounding of the reordered arithmetic
# inductor generates (fused ops, its own tanh) stays near 1e-7 per step; float64's near 1e-16.
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def _tiny(dtype: str) -> tuple[ModelSpec, np.ndarray, np.ndarray]:
    spec = ModelSpec(
        time_steps=3,
        features=1,
        layers=(RecurrentLayerSpec(kind="simple", units=2, activation="tanh"),),
        head=DenseSpec(units=1, activation="tanh"),
        dtype=dtype,
    )
    rng = np.random.default_rng(0)
    return spec, rng.uniform(0, 1, (6, 3, 1)).astype(dtype), rng.uniform(0, 1, (6, 1)).astype(dtype)


FUSED = {"cpp_wrapper": True, "skip_guards": True, "fused_cell": True}


@pytest.mark.slow
@pytest.mark.parametrize(("dtype", "options"), [("float32", {}), ("float64", FUSED)])
def test_compiled_steps_equal_the_plain_loops_in_one_graph(dtype, options):
    spec, X, Y = _tiny(dtype)
    plain, compiled = build_model(spec, seed=1), build_model(spec, seed=1)
    expected = fit_plain(plain, X, Y, RECIPE)
    stats: list[dict] = []
    found = fit_compiled(compiled, X, Y, RECIPE, compile_stats=stats, **options)
    tolerance = TOLERANCE[dtype]
    assert len(found.step_loss) == 3  # the same three batches, shuffled as fit_plain does
    np.testing.assert_allclose(found.step_loss, expected.step_loss, rtol=0, atol=tolerance)
    np.testing.assert_allclose(found.epoch_loss, expected.epoch_loss, rtol=0, atol=tolerance)
    trained = to_canonical(compiled)
    assert trained.max_abs_diff(to_canonical(plain)) <= tolerance
    assert trained.max_abs_diff(to_canonical(build_model(spec, seed=1))) > 1e-3  # it trained
    # the graph breaks removed stay removed: one graph, compiled once
    assert [{**s, "compile_s": 1.0} for s in stats] == [
        {"compile_s": 1.0, "graphs": 1, "graph_breaks": 0}
    ]
    assert stats[0]["compile_s"] > 0


def test_without_a_cpp_compiler_it_says_so_before_training(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compiled_module.shutil, "which", lambda name: None)
    spec, X, Y = _tiny("float32")
    model = build_model(spec, seed=1)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(CompilerMissingError, match="needs a C\\+\\+ compiler"):
        fit_compiled(model, X, Y, RECIPE)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_only_torchs_adam_and_known_modes_are_compiled():
    spec, X, Y = _tiny("float32")
    sgd = TrainSpec(epochs=1, optimizer=OptimizerSpec(name="sgd"))
    with pytest.raises(ValueError, match="torch's own Adam"):
        fit_compiled(build_model(spec, seed=1), X, Y, sgd)
    with pytest.raises(ValueError, match="mode must be one of"):
        fit_compiled(build_model(spec, seed=1), X, Y, RECIPE, mode="fastest")


def test_the_fused_cell_computes_the_models_forward_and_refuses_others():
    spec, X, _ = _tiny("float64")
    model = build_model(spec, seed=1)
    inputs = torch.from_numpy(X)
    with torch.no_grad():  # the same sums in another order: float64 rounding only
        torch.testing.assert_close(fused_forward(model, inputs), model(inputs), rtol=0, atol=1e-15)
    first = dataclasses.replace(spec.layers[0], return_sequences=True)
    two = dataclasses.replace(spec, layers=(first, spec.layers[0]))
    with pytest.raises(ValueError, match="2 recurrent layers"):
        check_fusable(build_model(two, seed=1))
    lstm = dataclasses.replace(spec, layers=(RecurrentLayerSpec(kind="lstm", units=2),))
    with pytest.raises(ValueError, match="a lstm layer"):
        fit_compiled(build_model(lstm, seed=1), X, _tiny("float64")[2], RECIPE, fused_cell=True)
