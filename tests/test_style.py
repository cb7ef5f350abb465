"""The code stays as ruff keeps it: lint-clean and formatted, checked by the test suite itself.

pyproject.toml declares the style (line length 100, the rule sets); without a test, nothing
stops a change that breaks it from landing, and the next person's `ruff format` reformats files
they never meant to touch. Both checks run over the whole repository, with ruff's own output
as the failure message.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Run the ruff installed beside this interpreter in the repository root."""
    binary = Path(sys.executable).with_name("ruff")
    command = [str(binary)] if binary.exists() else [sys.executable, "-m", "ruff"]
    return subprocess.run(
        [*command, *arguments], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "arguments", [("check", "."), ("format", "--check", ".")], ids=["check", "format"]
)
def test_ruff_is_clean(arguments):
    result = _ruff(*arguments)
    assert result.returncode == 0, f"ruff {' '.join(arguments)}:\n{result.stdout}{result.stderr}"
