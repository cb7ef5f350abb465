"""The speed section's "How close to the floor": each framework's fastest honest path over
numpy_train, judged against 2x on the ratio's whole interval, on hand-written records."""

from __future__ import annotations

from compare.report.speed.floor import fastest_honest, floor_section, verdict


def _run(variant: str, framework: str, reference: str | None, within: bool | None) -> dict:
    work = {"reference_variant": reference, "within_spread": within}
    return {"variant": variant, "framework": framework, "device": "cpu", "equal_work": work}


def _ratio(variant: str, ratio: float, low: float, high: float) -> dict:
    return {
        "variant": variant,
        "reference": "numpy_train",
        "ratio": ratio,
        "ci95": [low, high],
        "rounds": 4,
    }


BREAKDOWN = {
    "titles": {"compute": "compute", "loop": "the framework's loop", "data": "data handling"},
    "variants": {
        "keras_tuned": {"parts_s": {"compute": 4e-4, "loop": 1e-4, "data": 5e-5, "other": 0.0}}
    },
}


def _speed() -> dict:
    return {
        "runs": [
            _run("keras_fit", "keras", None, None),
            _run("keras_tuned", "keras", "keras_fit", True),
            _run("keras_jax_scan", "keras", "keras_jax", True),
            _run("torch_plain", "torch", None, None),
            _run("torch_compiled", "torch", "torch_plain", False),
            _run("torch_compiled_fused", "torch", "torch_plain", True),
            _run("torch_tuned_cuda", "torch", "torch_plain", True) | {"device": "cuda"},
        ],
        "ratios": [
            _ratio("keras_tuned", 3.6, 1.8, 7.6),
            _ratio("keras_jax_scan", 0.87, 0.22, 3.38),
            _ratio("torch_plain", 9.0, 6.0, 13.0),
            _ratio("torch_compiled", 0.3, 0.1, 0.9),  # faster, but failed equal work
            _ratio("torch_compiled_fused", 0.5, 0.17, 1.43),
            _ratio("torch_tuned_cuda", 0.1, 0.05, 0.2),  # a GPU row: not the CPU floor's race
            {"variant": "keras_tuned", "reference": "keras_fit", "ratio": 0.2, "ci95": [0.1, 0.3]},
        ],
        "rounds": {"breakdown": BREAKDOWN},
    }


def test_within_2x_needs_the_whole_interval_below_it():
    assert verdict(_ratio("x", 0.5, 0.2, 1.99)) == "shown"
    assert verdict(_ratio("x", 0.87, 0.22, 3.38)) == "not shown"
    assert verdict(_ratio("x", 3.0, 2.01, 4.0)) == "not reached"
    assert verdict({"variant": "x", "ratio": 1.0, "per_round": [1.0]}) == "not shown"


def test_the_fastest_path_is_the_fastest_that_did_not_fail_equal_work():
    torch = fastest_honest(_speed(), "torch")
    assert torch["entry"]["variant"] == "torch_compiled_fused" and torch["verdict"] == "shown"
    assert [entry["variant"] for entry in torch["passed"]] == ["torch_compiled"]
    keras = fastest_honest(_speed(), "keras")
    assert keras["entry"]["variant"] == "keras_jax_scan" and keras["verdict"] == "not shown"


def test_the_section_states_each_ratio_and_what_stood_in_the_way():
    lines = floor_section(_speed())
    keras = next(line for line in lines if line.startswith("- **Keras**"))
    torch = next(line for line in lines if line.startswith("- **PyTorch**"))
    assert keras.startswith("- **Keras**: `keras_jax_scan`, 0.87× `numpy_train` (95% CI 0.22 to")
    assert "below 2× at its estimate, but not shown (the interval reaches past it)" in keras
    assert "what stands in the way" not in keras  # noise does, not a part of the step
    assert torch.startswith("- **PyTorch**: `torch_compiled_fused`, 0.50× `numpy_train`")
    assert "within 2× of the floor, at the interval's top too" in torch
    assert "what stands in the way" not in torch
    assert "`torch_compiled` was faster (0.30×) but left out: its test RMSE fell outside" in torch
    assert "cuda" not in " ".join(lines)


def test_a_profiled_path_short_of_2x_names_its_heaviest_parts():
    speed = _speed()
    speed["ratios"] = [_ratio("keras_tuned", 3.6, 2.5, 5.0)]
    [keras] = [line for line in floor_section(speed) if line.startswith("- **")]
    assert "not within 2× (the whole interval lies above it)" in keras
    assert keras.endswith(
        "what stands in the way: its sampled step spends 400 µs in compute, "
        "100 µs in the framework's loop, 50 µs in data handling."
    )


def test_a_path_whose_reference_failed_equal_work_is_left_out_too():
    speed = _speed()
    speed["runs"].append(_run("keras_jax", "keras", "keras_fit", False))
    keras = fastest_honest(speed, "keras")
    assert keras["entry"]["variant"] == "keras_tuned"
    assert [(e["variant"], e["failed"]) for e in keras["passed"]] == [
        ("keras_jax_scan", "keras_jax")
    ]
    [line] = [line for line in floor_section(speed) if line.startswith("- **Keras**")]
    assert line.endswith(
        "`keras_jax_scan` was faster (0.87×) but left out: `keras_jax`'s, its reference's, "
        "test RMSE fell outside its own reference's spread."
    )


def test_an_estimate_above_2x_names_what_stands_in_the_way_even_when_not_beyond_noise():
    speed = _speed()
    speed["ratios"] = [_ratio("keras_jax_scan", 2.5, 1.5, 4.0)]
    [keras] = [line for line in floor_section(speed) if line.startswith("- **")]
    assert "above 2× at its estimate (the interval reaches below it)" in keras
    assert keras.endswith("what stands in the way: the breakdown did not profile it.")


def test_an_unjudged_path_says_so_and_no_ratio_means_no_section():
    speed = _speed()
    speed["runs"][2]["equal_work"]["within_spread"] = None
    keras = next(line for line in floor_section(speed) if line.startswith("- **Keras**"))
    assert "its equal work was not judged in these records" in keras
    assert floor_section({"runs": speed["runs"], "ratios": []}) == []
    assert floor_section({}) == []
