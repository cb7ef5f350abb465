"""Training parity: the recipes remove exactly the differences they claim to, and parity holds.

The float64 bound is the issue's goal (<= 1e-12 after training); it is checked here over one
epoch of the tutorial's 187 windows (187 Adam steps) to keep the suite fast, and the report
measures all 20 epochs. Each gap mode must visibly break parity, or the ablation would prove
nothing.
"""

import numpy as np
import pytest

from compare.study.parity import GAPS, MODES, parity_record, recipes


def test_parity_recipe_removes_every_gap():
    keras, torch, shared_order = recipes("parity", epochs=3, seed=1)
    assert shared_order and not keras.shuffle and not torch.shuffle
    assert torch.single_bias and torch.optimizer.epsilon_style == "keras"
    assert keras.optimizer.epsilon == torch.optimizer.epsilon == 1e-7
    for beta in (keras.optimizer.beta_1, keras.optimizer.beta_2):
        assert float(np.float32(beta)) == beta  # representable: Keras's float32 cast is exact
    assert keras.optimizer.beta_1 == torch.optimizer.beta_1


@pytest.mark.parametrize("gap", list(GAPS))
def test_each_gap_mode_changes_exactly_its_own_setting(gap):
    base = recipes("parity", 3, 0)
    changed = recipes(f"gap:{gap}", 3, 0)
    differences = {
        "double_bias": changed[1].single_bias != base[1].single_bias,
        "own_shuffling": changed[2] != base[2],
        "epsilon_placement": changed[1].optimizer.epsilon_style != base[1].optimizer.epsilon_style,
        "beta_rounding": changed[0].optimizer.beta_2 != base[0].optimizer.beta_2,
    }
    assert [name for name, differs in differences.items() if differs] == [gap]


def test_users_mode_keeps_torch_defaults():
    _, torch, shared_order = recipes("users", 3, 0)
    assert not shared_order and not torch.single_bias
    assert torch.optimizer.epsilon == 1e-8 and torch.optimizer.epsilon_style == "torch"
    with pytest.raises(ValueError, match="unknown parity mode"):
        recipes("nonsense", 3, 0)
    assert len(MODES) == 2 + len(GAPS)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_float64_parity_is_exact_to_rounding(kind):
    record = parity_record(kind, "float64", "parity", epochs=1)
    # 187 Adam steps in float64: rounding differences of a few ulps (2.2e-16 each) at most.
    assert record["epoch_weight_max_abs_diff"][0] <= 1e-12
    assert record["epoch_loss_abs_diff"][0] <= 1e-12
    steps = np.abs(
        np.subtract(record["keras_first_epoch_step_loss"], record["torch_first_epoch_step_loss"])
    )
    assert len(steps) == 187 and steps.max() <= 1e-12


@pytest.mark.slow
def test_float32_parity_gap_is_rounding_sized():
    record = parity_record("simple", "float32", "parity", epochs=1)
    # float32 ulp at weights near 1 is 1.2e-7; after 187 steps a few ulps of drift remain.
    assert record["epoch_weight_max_abs_diff"][0] <= 1e-5


@pytest.mark.slow
@pytest.mark.parametrize("gap", ["double_bias", "epsilon_placement"])
def test_a_gap_visibly_breaks_float64_parity(gap):
    record = parity_record("simple", "float64", f"gap:{gap}", epochs=1)
    assert record["epoch_weight_max_abs_diff"][0] > 1e-10
