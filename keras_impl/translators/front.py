"""Translators of the front: Embedding (token ids -> vectors, E = embeddings) and Masking.

Both may start a mask: Embedding(mask_zero=True) masks the steps whose id is 0, Masking the
steps whose features all equal mask_value (and zeroes them). Keras's recurrent layers then carry
their state over masked steps; the reference does exactly that (see `shared.reference`).
"""

from __future__ import annotations

import keras

from keras_impl.translators.common import check_plain, describe, spec_or_refusal
from keras_impl.translators.table import FRONT, Translator, register
from shared.errors import ModelFileError
from shared.grammar import EmbeddingSpec, MaskingSpec


@register
class EmbeddingTranslator(Translator):
    """keras.layers.Embedding(vocab, dim, mask_zero): row i of E is token id i's vector."""

    spec_class = EmbeddingSpec
    keras_classes = (keras.layers.Embedding,)
    role = FRONT
    params = {"E": "embeddings"}  # (vocab, dim), the same layout as canonical

    @classmethod
    def build(cls, spec: EmbeddingSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Embedding(
            spec.vocab, spec.dim, mask_zero=spec.mask_zero, dtype=dtype, name=name
        )

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> EmbeddingSpec:
        config = layer.get_config()
        check_plain(layer, config)
        if config.get("quantization_config") or config.get("lora_rank"):
            raise ModelFileError(f"{describe(layer)} is quantized, which is outside the grammar")
        return spec_or_refusal(
            layer,
            EmbeddingSpec,
            vocab=config["input_dim"],
            dim=config["output_dim"],
            mask_zero=bool(config.get("mask_zero", False)),
        )


@register
class MaskingTranslator(Translator):
    """keras.layers.Masking(mask_value): no weights."""

    spec_class = MaskingSpec
    keras_classes = (keras.layers.Masking,)
    role = FRONT

    @classmethod
    def build(cls, spec: MaskingSpec, name: str, dtype: str) -> keras.layers.Layer:
        return keras.layers.Masking(mask_value=spec.mask_value, dtype=dtype, name=name)

    @classmethod
    def spec_of(cls, layer: keras.layers.Layer) -> MaskingSpec:
        value = layer.get_config()["mask_value"]
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = float(value)  # Masking(0) and Masking(0.0) are one spec
        return spec_or_refusal(layer, MaskingSpec, mask_value=value)
