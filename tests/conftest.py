"""Test-wide settings (frameworks quiet, on the CPU; hypothesis budget) and the tutorial runs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ.get("PYTEST_XDIST_WORKER"):  # set before this file is imported
    # Under `pytest -n 2` each worker gets one thread per framework pool: two workers, two
    # cores. Left alone, torch, numpy's BLAS and TensorFlow each size their pools to every core,
    # so two workers run four or more busy threads on two cores and each test takes longer.
    # TF_NUM_*_THREADS are read when TensorFlow's runtime starts, after this file. Child
    # processes inherit these; the job pool and the bench set their own counts explicitly.
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("default", max_examples=40, deadline=None)
settings.load_profile("default")


@pytest.fixture(scope="session")
def keras_tutorial_run(tmp_path_factory):
    """(out folder, stdout) of `python -m keras_impl.tutorial --epochs 2`, run once a session."""
    from tests.tutorial_helpers import run_program

    out = tmp_path_factory.mktemp("keras_tutorial")
    return out, run_program("keras_impl.tutorial", out)


@pytest.fixture(scope="session")
def torch_tutorial_run(tmp_path_factory):
    """(out folder, stdout) of `python -m torch_impl.tutorial --epochs 2`, run once a session."""
    from tests.tutorial_helpers import run_program

    out = tmp_path_factory.mktemp("torch_tutorial")
    return out, run_program("torch_impl.tutorial", out)
