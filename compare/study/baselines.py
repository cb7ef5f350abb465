"""Baselines every RNN forecast must be measured against, on the very same windows.

A monthly sunspot number is close to last month's, so "predict the last value of the window"
(persistence) is already a strong forecaster, and a linear autoregression on the 12 values of a
window is stronger still. An RNN that does not beat them has learnt nothing a line could not.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LinearRegression


def persistence(X: np.ndarray) -> np.ndarray:
    """Predict each window's last value: X (samples, time, 1) -> (samples, 1)."""
    return X[:, -1, :].astype(np.float64)


def linear_ar(X_train: np.ndarray, Y_train: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Fit y = window . w + b by least squares on the training windows, predict windows X.

    Returns:
        (samples, 1) predictions for X.
    """
    model = LinearRegression()
    model.fit(X_train.reshape(len(X_train), -1), Y_train.reshape(len(Y_train), -1))
    return model.predict(X.reshape(len(X), -1)).reshape(len(X), -1)


def rmse(predictions: np.ndarray, targets: np.ndarray) -> float:
    """Root mean squared error in float64; shapes must match exactly (no silent broadcasting)."""
    predictions, targets = np.asarray(predictions, np.float64), np.asarray(targets, np.float64)
    if predictions.shape != targets.shape:
        raise ValueError(
            f"rmse: predictions {predictions.shape} and targets {targets.shape} differ in shape"
        )
    return float(np.sqrt(np.mean((predictions - targets) ** 2)))
