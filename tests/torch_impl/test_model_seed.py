"""build_model(spec, seed): the same seed gives the same initial weights, another seed others."""

import torch

from shared.spec import tutorial_spec
from torch_impl import build_model, to_canonical


def test_seeded_build_repeats_and_leaves_global_generator_alone():
    before = torch.random.get_rng_state()
    first = to_canonical(build_model(tutorial_spec(), seed=3))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert first.bitwise_equal(to_canonical(build_model(tutorial_spec(), seed=3)))
    assert not first.bitwise_equal(to_canonical(build_model(tutorial_spec(), seed=4)))
