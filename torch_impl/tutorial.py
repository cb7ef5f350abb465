"""The Keras tutorial's whole program as a PyTorch Lightning user writes it.

Same parts and step comments as keras_impl/tutorial.py; `rnn-parity walkthrough --side-by-side`
shows the two step by step. Run: python -m torch_impl.tutorial [--epochs 20] [--seed 0] [--out DIR]
"""

import argparse
import math
from pathlib import Path

import lightning as L  # noqa: N812 - Lightning's own convention
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.metrics import mean_squared_error
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from shared.data import get_train_test, load_sunspots
from shared.windows import get_XY

matplotlib.use("Agg")  # write PNG files, open no window


# Part 1a: a 2-unit linear RNN and its weights
class LinearRNN(nn.Module):
    """nn.RNN knows only tanh and relu, so the linear demo RNN is this explicit loop."""

    def __init__(self, hidden_units, dense_units, features=1):
        super().__init__()
        self.ih = nn.Linear(features, hidden_units)  # weight (units, features), bias b_ih
        self.hh = nn.Linear(hidden_units, hidden_units)  # weight (units, units), bias b_hh
        self.dense = nn.Linear(hidden_units, dense_units)

    def forward(self, x):  # x (batch, time_steps, features)
        h = x.new_zeros(x.shape[0], self.hh.in_features)  # h0 (batch, units)
        for t in range(x.shape[1]):
            h = self.ih(x[:, t]) + self.hh(h)  # no activation: linear
        return self.dense(h)  # (batch, dense_units)


# Step 4: create RNN model and train
class TutorialRNN(L.LightningModule):
    """create_RNN(hidden_units, dense_units, input_shape, ["tanh", "tanh"]) as a LightningModule."""

    def __init__(self, hidden_units, dense_units, features=1):
        super().__init__()
        self.save_hyperparameters()  # so the checkpoint knows how to rebuild the module
        self.rnn = nn.RNN(features, hidden_units, batch_first=True)  # tanh, two biases
        self.dense = nn.Linear(hidden_units, dense_units)

    def forward(self, x):  # x (batch, time_steps, features)
        _outputs, h_n = self.rnn(x)  # h_n (layers 1, batch, units): the last hidden state
        return torch.tanh(self.dense(h_n[-1]))  # (batch, dense_units)

    def training_step(self, batch, batch_idx):
        x, y = batch  # y (batch, 1) like the output: a (batch,) y would broadcast silently
        loss = nn.functional.mse_loss(self(x), y)
        self.log("loss", loss, on_step=False, on_epoch=True)  # the epoch's mean
        return loss

    def on_train_epoch_end(self):
        loss = self.trainer.callback_metrics["loss"]
        print(f"Epoch {self.current_epoch + 1}/{self.trainer.max_epochs} - loss: {loss:.4f}")

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=0.001)  # Keras's default learning rate


def main(argv=None):
    parser = argparse.ArgumentParser(description="The tutorial in PyTorch Lightning.")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for the files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(args.seed, verbose=False)  # Python's, numpy's and torch's seeds

    # Part 1a: a 2-unit linear RNN and its weights
    demo_model = LinearRNN(2, 1)
    # (2, 1) (2,) (2, 2) (2,) (1, 2) (1,): weights are (out, in), one bias per nn.Linear
    wx, bx, wh, bh, wy, by = (p.detach().numpy() for p in demo_model.parameters())
    print("wx =", wx, " bx =", bx, " wh =", wh, " bh =", bh, " wy =", wy, " by =", by)

    # Part 1b: h1, h2, h3 and o3 by hand for the input 1, 2, 3
    x = np.array([1, 2, 3], dtype=np.float32)
    x_input = torch.from_numpy(x).reshape(1, 3, 1)  # (samples, time_steps, features)
    with torch.no_grad():
        y_pred_model = demo_model(x_input).numpy()  # (1, 1)
    h0 = np.zeros(2)  # column vectors: h_t = wx x_t + bx + wh h_{t-1} + bh
    h1 = np.dot(wx, x[:1]) + bx + np.dot(wh, h0) + bh
    h2 = np.dot(wx, x[1:2]) + bx + np.dot(wh, h1) + bh
    h3 = np.dot(wx, x[2:3]) + bx + np.dot(wh, h2) + bh
    o3 = np.dot(wy, h3) + by
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
    model = TutorialRNN(3, 1)
    train_set = TensorDataset(torch.from_numpy(trainX), torch.from_numpy(trainY))
    loader = DataLoader(train_set, batch_size=1, shuffle=True)  # Keras's fit shuffles too
    trainer = L.Trainer(
        max_epochs=args.epochs,
        logger=False,  # no lightning_logs/ folder
        enable_checkpointing=False,  # one checkpoint, written below
        enable_progress_bar=False,  # the epoch lines come from on_train_epoch_end
        enable_model_summary=False,
    )
    trainer.fit(model, loader)
    trainer.save_checkpoint(args.out / "tutorial_torch.ckpt", weights_only=False)  # + optimizer

    # Step 5: compute and print the root mean square error
    model.eval()  # inference mode (no dropout or batch norm here, but the habit matters)
    with torch.no_grad():  # no autograd graph for predictions
        train_predict = model(torch.from_numpy(trainX)).numpy()  # (187, 1)
        test_predict = model(torch.from_numpy(testX)).numpy()
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
    plt.savefig(args.out / "tutorial_torch.png")


if __name__ == "__main__":
    main()
