"""keras_impl and torch_impl mirror each other: each exposes every twin in `shared.twins`.

Both packages are held to the `FrameworkSide` protocol, function by function: the same
positional parameters in the same order, the same keyword-only ones, each with the same kind,
default and annotation (the native model type excepted, which must differ), and the same return
annotation. A side may add only the keyword options `FRAMEWORK_OPTIONS` lists for it, each with
a default. A function public in both packages must be in the protocol, so a new twin is stated.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType

import pytest

from compare import frameworks
from shared.twins import FRAMEWORK_OPTIONS, FrameworkSide

TWINS = sorted(
    name
    for name, value in vars(FrameworkSide).items()
    if inspect.isfunction(value) and not name.startswith("_")
)
PACKAGES = ("keras_impl", "torch_impl")


@pytest.fixture(scope="module")
def packages() -> dict[str, ModuleType]:
    torch_module = frameworks.torch_impl()  # torch before TensorFlow
    return {"keras_impl": frameworks.keras_impl(), "torch_impl": torch_module}


def _protocol_parameters(name: str) -> list[inspect.Parameter]:
    return list(inspect.signature(getattr(FrameworkSide, name)).parameters.values())[1:]


def mirror_problems(function: Callable[..., object], name: str, package: str) -> list[str]:
    """How `function` (package.name) departs from the protocol's `name`; empty when it mirrors."""
    expected = _protocol_parameters(name)
    signature = inspect.signature(function)
    actual = list(signature.parameters.values())
    problems = []
    by_name = {parameter.name: parameter for parameter in actual}
    positional = [p.name for p in actual if p.kind != inspect.Parameter.KEYWORD_ONLY]
    expected_positional = [p.name for p in expected if p.kind != inspect.Parameter.KEYWORD_ONLY]
    if positional != expected_positional:
        problems.append(f"positional parameters {positional}, expected {expected_positional}")
    for want in expected:
        got = by_name.get(want.name)
        if got is None:
            problems.append(f"no parameter {want.name!r}")
            continue
        if got.kind != want.kind or got.default != want.default:
            problems.append(
                f"{want.name}: {got.kind.description} default {got.default!r}, expected "
                f"{want.kind.description} default {want.default!r}"
            )
        if want.annotation != "NativeModel" and got.annotation != want.annotation:
            problems.append(f"{want.name}: annotated {got.annotation}, expected {want.annotation}")
    allowed = FRAMEWORK_OPTIONS.get(package, {}).get(name, frozenset())
    expected_names = {p.name for p in expected}
    for extra in [p for p in actual if p.name not in expected_names]:
        if extra.name not in allowed:
            problems.append(f"parameter {extra.name!r} is not in the protocol")
        elif extra.kind != inspect.Parameter.KEYWORD_ONLY or extra.default is extra.empty:
            problems.append(f"option {extra.name!r} must be keyword-only with a default")
    for option in sorted(allowed - set(by_name)):
        problems.append(f"FRAMEWORK_OPTIONS lists {option!r}, which it does not take")
    want_return = inspect.signature(getattr(FrameworkSide, name)).return_annotation
    if want_return != "NativeModel" and signature.return_annotation != want_return:
        problems.append(f"returns {signature.return_annotation}, expected {want_return}")
    return problems


@pytest.mark.parametrize("package", PACKAGES)
@pytest.mark.parametrize("name", TWINS)
def test_each_package_has_every_twin_with_the_protocols_signature(packages, package, name):
    module = packages[package]
    assert name in module.__all__, f"{package} does not export {name}"
    problems = mirror_problems(getattr(module, name), name, package)
    assert not problems, f"{package}.{name}: " + "; ".join(problems)


def test_every_function_public_in_both_packages_is_a_stated_twin(packages):
    shared_names = set(packages["keras_impl"].__all__) & set(packages["torch_impl"].__all__)
    assert shared_names == set(TWINS)


def test_a_departure_is_named():
    """Proves the check can fail: a renamed, a missing and an unlisted parameter are named."""

    def renamed(model: object, inputs: object, *, device: str = "cpu") -> None: ...

    problems = mirror_problems(renamed, "predict", "keras_impl")
    text = "; ".join(problems)
    assert "no parameter 'X'" in text and "'inputs' is not in the protocol" in text
    assert "'device' is not in the protocol" in text
