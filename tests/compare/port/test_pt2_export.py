"""`rnn-parity port model.keras model.pt2`: torch.export programs that plain torch runs.

Each Keras shape of part 1 (`compare.port.shapes`, random non-constant weights) is written as a
.keras file, ported to .pt2 through the CLI, then run by a separate Python process that blocks
every rnn-parity package from importing (a meta-path hook raises on shared, keras_impl,
torch_impl, compare) and calls only `torch.export.load(path).module()(x)`, at two batch sizes
(neither the one the program was traced with). Outputs must match the Keras model's within
1e-6 (float32) / 1e-12 (float64), the same few-ulp budget as every port (shared/tolerances.py), and
keep their dtype. Windows are 4 steps instead of the shapes' 10-12 to keep the masked loops'
export time down (the loop is unrolled per step); every layer kind is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from compare.cli import main
from compare.port.agreement import random_inputs
from compare.port.shapes import SHAPES
from shared.tolerances import TOLERANCES
from shared.weights import random_weights

BATCHES = (1, 5)
CASES = [(label, "float32") for label in SHAPES] + [("stacked forecaster (dropout)", "float64")]

PLAIN_TORCH = """
import importlib.abc, json, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"shared", "keras_impl", "torch_impl", "compare"}:
            raise ImportError("plain torch only: " + name)
sys.meta_path.insert(0, Block())
import numpy as np, torch
for job in json.loads(sys.argv[1]):
    program = torch.export.load(job["pt2"]).module()
    with torch.no_grad():
        out = program(torch.from_numpy(np.load(job["inputs"])))
    np.save(job["outputs"], out.numpy())
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"shared", "torch_impl", "compare"})
assert not loaded, loaded
print("plain torch ran", len(json.loads(sys.argv[1])), "programs")
"""


def _spec(label: str, dtype: str):
    return dataclasses.replace(SHAPES[label](dtype), time_steps=4)


@pytest.mark.slow
def test_pt2_programs_run_in_plain_torch_at_any_batch_size(impls, tmp_path):
    keras_impl, _ = impls
    jobs, expected = [], {}
    for index, (label, dtype) in enumerate(CASES):
        weights = random_weights(_spec(label, dtype), seed=index)
        keras_model = keras_impl.from_canonical(weights)
        keras_impl.save_model(keras_model, tmp_path / f"m{index}.keras")
        argv = ["port", str(tmp_path / f"m{index}.keras"), str(tmp_path / f"m{index}.pt2")]
        assert main(argv) == 0, label
        for batch in BATCHES:
            X = random_inputs(weights.spec, batch=batch, seed=index + 10)
            name = f"m{index}_b{batch}"
            np.save(tmp_path / f"{name}_x.npy", X)
            expected[name] = (label, dtype, keras_impl.predict(keras_model, X))
            jobs.append(
                {
                    "pt2": str(tmp_path / f"m{index}.pt2"),
                    "inputs": str(tmp_path / f"{name}_x.npy"),
                    "outputs": str(tmp_path / f"{name}_y.npy"),
                }
            )
    run = subprocess.run(
        [sys.executable, "-I", "-c", PLAIN_TORCH, json.dumps(jobs)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard only: the outcome does not depend on when it ends
    )
    assert run.returncode == 0, run.stderr[-2000:]
    for name, (label, dtype, keras_out) in expected.items():
        torch_out = np.load(tmp_path / f"{name}_y.npy")
        assert torch_out.dtype == np.dtype(dtype), (label, torch_out.dtype)
        gap = float(np.abs(torch_out.astype(np.float64) - keras_out).max())
        assert gap <= TOLERANCES[dtype], f"{label} {dtype} {name}: {gap:.2e}"


def test_a_pt2_is_a_destination_only(tmp_path, capsys):
    (tmp_path / "m.pt2").write_bytes(b"not read")
    assert main(["port", str(tmp_path / "m.pt2"), str(tmp_path / "m.keras")]) == 2
    error = capsys.readouterr().err.strip()
    assert "a .pt2 torch.export program is a destination only" in error and "\n" not in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt2"]
