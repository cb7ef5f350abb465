"""Framework-neutral core of rnn-parity: data, windows, specs, canonical weights, numpy reference.

Nothing in this package imports TensorFlow, Keras, torch or Lightning, so both implementations
(and the tests) can rely on it without paying for, or being biased by, either framework.
"""
