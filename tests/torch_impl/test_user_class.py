"""`--module pkg.mod:Class`: the user's class imported and rebuilt from a weight file, or refused.

Each refusal of torch_impl/reading/user_class.py has a test here, in torch alone (the command
line's own tests go through Keras too): a planted mutant that drops one must fail its test.
A file's weights load into the class in the file's dtype, never a silent cast.
"""

from __future__ import annotations

import pytest
import torch

from shared.errors import ModelFileError
from tests.user_nets import MLPHead, build
from torch_impl import import_class, module_from_file


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("no_colon", "expected package.module:Class"),
        ("tests.no_such_module:X", "cannot import tests.no_such_module"),
        ("tests.user_nets:TIME_STEPS", "tests.user_nets has no nn.Module TIME_STEPS"),
    ],
)
def test_a_class_that_cannot_be_had_is_one_line(target, words):
    with pytest.raises(ModelFileError, match=f"^--module '{target}': .*{words}") as caught:
        import_class(target)
    assert "\n" not in str(caught.value)


def test_the_file_is_loaded_in_its_own_dtype(tmp_path):
    torch.save(build(MLPHead, "float64").state_dict(), tmp_path / "m.pt")
    module = module_from_file(import_class("tests.user_nets:MLPHead"), tmp_path / "m.pt", {})
    assert {p.dtype for p in module.parameters()} == {torch.float64} and not module.training


@pytest.mark.parametrize(
    ("state", "kwargs", "words"),
    [
        (
            lambda: build(MLPHead).state_dict(),
            {"units": 3},
            r"MLPHead\(\*\*\{'units': 3\}\) failed: .* --module-kwargs '\{\"name\": value\}'",
        ),
        (lambda: build(MLPHead, hidden=5).state_dict(), {}, "m.pt: does not fit MLPHead: size"),
        (
            lambda: {k: v.half() for k, v in build(MLPHead).state_dict().items()},
            {},
            r"m.pt: tensors must be all float32 or all float64 \(float16",
        ),
    ],
    ids=["constructor", "shapes", "float16"],
)
def test_a_file_that_does_not_build_the_class_is_one_line(tmp_path, state, kwargs, words):
    torch.save(state(), tmp_path / "m.pt")
    with pytest.raises(ModelFileError, match=words) as caught:
        module_from_file(MLPHead, tmp_path / "m.pt", kwargs)
    assert "\n" not in str(caught.value)
