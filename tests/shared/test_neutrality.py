"""shared/ stays framework-neutral: importing all of it loads no framework, no sibling package."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# A fresh interpreter importing all of shared takes seconds.
pytestmark = pytest.mark.slow

FORBIDDEN = ("tensorflow", "keras", "torch", "lightning", "keras_impl", "torch_impl", "compare")

# Runs in a fresh interpreter: imports every module of `shared` (found by pkgutil), then prints
# the modules imported and the top-level names of everything in sys.modules, as JSON.
PROBE = """
import importlib, json, pkgutil, sys
import shared
names = sorted(m.name for m in pkgutil.walk_packages(shared.__path__, "shared."))
for name in names:
    importlib.import_module(name)
print(json.dumps({"imported": names, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def test_importing_all_of_shared_loads_no_framework():
    root = Path(__file__).resolve().parents[2]  # the repository root, where `shared` lives
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,  # a hang guard only: the outcome does not depend on when it ends
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert {"shared.data", "shared.windows", "shared.errors"} <= set(report["imported"])
    loaded = sorted(set(FORBIDDEN) & set(report["loaded"]))
    assert not loaded, f"importing {report['imported']} loaded {loaded}"
