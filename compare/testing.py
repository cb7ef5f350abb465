"""Assertions for your own test suite: `assert_same_outputs(keras_model, torch_model)`.

A public, stable name for what `compare.port.testing` implements, so a user's pytest file can
write `from compare.testing import assert_same_outputs` without knowing compare's rooms:

    def test_my_port():
        keras_model = torch_module_to_keras(my_module)
        assert_same_outputs(keras_model, my_module)  # 1e-6 in float32, 1e-12 in float64
"""

from compare.port.testing import assert_same_outputs

__all__ = ["assert_same_outputs"]
