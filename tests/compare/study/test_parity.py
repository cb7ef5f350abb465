"""Training parity recipes: each mode removes exactly the differences it claims to.

The training runs themselves (parity bounds over several epochs for every kind, each gap shown
to break parity, the full 20-epoch tutorial run) are in test_parity_bounds.py.
"""

import numpy as np
import pytest

from compare.study.parity import GAPS, KINDS, MODES, parity_spec, recipes


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


def test_parity_kinds_cover_both_gru_variants():
    assert KINDS == ("simple", "lstm", "gru", "gru-reset-before")
    assert parity_spec("gru", "float64").layers[0].reset_after is True
    before = parity_spec("gru-reset-before", "float32").layers[0]
    assert (before.kind, before.reset_after, before.units) == ("gru", False, 3)
    assert parity_spec("lstm", "float64").layers[0].kind == "lstm"
    with pytest.raises(ValueError, match="unknown parity layer kind"):
        parity_spec("gru-reset-after", "float64")
