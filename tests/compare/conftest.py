"""Fixtures for the compare/ tests: both frameworks imported once, and a real Dask cluster.

The small specs and tolerances these tests share live in tests/specs.py.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def impls():
    """(keras_impl, torch_impl), imported once in the safe order (torch first)."""
    from compare.frameworks import both

    return both()


@pytest.fixture(scope="session")
def dask_cluster():
    """A real Dask scheduler and two `dask worker` processes on 127.0.0.1, for the session."""
    from tests.dask_helpers import start_cluster

    cluster = start_cluster(workers=2)
    yield cluster
    cluster.stop()
