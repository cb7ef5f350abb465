"""Test-wide settings: keep frameworks quiet and on the CPU, and fix hypothesis's budget."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from hypothesis import settings  # noqa: E402

settings.register_profile("default", max_examples=40, deadline=None)
settings.load_profile("default")
