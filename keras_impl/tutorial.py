"""The tutorial "Understanding Simple Recurrent Neural Networks in Keras", whole, in Keras 3.

Part 1 builds a 2-unit linear SimpleRNN and computes its output for the input 1, 2, 3 by hand;
part 2 (steps 1 to 6) forecasts the monthly sunspots. Its PyTorch Lightning twin, with the same
step comments, is torch_impl/tutorial.py; `rnn-parity walkthrough --side-by-side` shows both.

    python -m keras_impl.tutorial [--epochs 20] [--seed 0] [--out DIR]
"""

import argparse
import math
from pathlib import Path

import keras
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import mean_squared_error

from shared.data import get_train_test, load_sunspots
from shared.windows import get_XY

matplotlib.use("Agg")  # write PNG files, open no window


# Step 4: create RNN model and train
def create_RNN(hidden_units, dense_units, input_shape, activation):  # noqa: N802 - tutorial's
    model = keras.Sequential(
        [
            keras.Input(shape=input_shape),  # (time_steps, features)
            keras.layers.SimpleRNN(hidden_units, activation=activation[0]),
            keras.layers.Dense(units=dense_units, activation=activation[1]),
        ]
    )
    model.compile(loss="mean_squared_error", optimizer="adam")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description="The tutorial in Keras 3.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(args.seed)  # Python's, numpy's and the backend's seeds

    # Part 1a: a 2-unit linear RNN and its weights
    demo_model = create_RNN(2, 1, (3, 1), activation=["linear", "linear"])
    wx, wh, bh, wy, by = demo_model.get_weights()  # (1, 2) (2, 2) (2,) (2, 1) (1,)
    print("wx =", wx, " wh =", wh, " bh =", bh, " wy =", wy, " by =", by)

    # Part 1b: h1, h2, h3 and o3 by hand for the input 1, 2, 3
    x = np.array([1, 2, 3])
    x_input = np.reshape(x, (1, 3, 1))  # (samples, time_steps, features)
    y_pred_model = demo_model.predict(x_input, verbose=0)  # (1, 1)
    h0 = np.zeros(2)  # row vectors: h_t = x_t wx + h_{t-1} wh + bh
    h1 = np.dot(x[0], wx) + np.dot(h0, wh) + bh
    h2 = np.dot(x[1], wx) + np.dot(h1, wh) + bh
    h3 = np.dot(x[2], wx) + np.dot(h2, wh) + bh
    o3 = np.dot(h3, wy) + by
    print("h1 =", h1, "h2 =", h2, "h3 =", h3)
    print("Prediction from network ", y_pred_model)
    print("Prediction from our computation ", o3)

    # Step 1, 2: reading data and splitting
    train_data, test_data, _scaler = get_train_test(load_sunspots(), split_percent=0.8)

    # Step 3: reshaping data into windows
    time_steps = 12
    trainX, trainY = get_XY(train_data, time_steps)  # (187, 12, 1), (187, 1)
    testX, testY = get_XY(test_data, time_steps)  # (46, 12, 1), (46, 1)

    # Step 4: create RNN model and train
    model = create_RNN(3, 1, (time_steps, 1), activation=["tanh", "tanh"])
    model.fit(trainX, trainY, epochs=args.epochs, batch_size=1, verbose=2)  # shuffles by default
    model.save(args.out / "tutorial_keras.keras")

    # Step 5: compute and print the root mean square error
    train_predict = model.predict(trainX, verbose=0)  # (187, 1), inference mode, numpy out
    test_predict = model.predict(testX, verbose=0)
    train_rmse = math.sqrt(mean_squared_error(trainY, train_predict))
    test_rmse = math.sqrt(mean_squared_error(testY, test_predict))
    print("Train RMSE: %.3f RMSE" % (train_rmse))  # noqa: UP031 - the tutorial's print
    print("Test RMSE: %.3f RMSE" % (test_rmse))  # noqa: UP031

    # Step 6: view the result
    actual = np.append(trainY, testY)
    predictions = np.append(train_predict, test_predict)
    rows = len(actual)
    plt.figure(figsize=(15, 6), dpi=80)
    plt.plot(range(rows), actual)
    plt.plot(range(rows), predictions)
    plt.axvline(x=len(trainY), color="r")
    plt.legend(["Actual", "Predictions"])
    plt.xlabel("Observation number after given time steps")
    plt.ylabel("Sunspots scaled")
    plt.title("Actual and Predicted Values. The Red Line Separates The Training And Test Examples")
    plt.savefig(args.out / "tutorial_keras.png")


if __name__ == "__main__":
    main()
