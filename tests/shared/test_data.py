"""shared.data: the sunspot loader, the CSV loader's errors, the tutorial's split and scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler

from shared.data import get_train_test, inverse_scale, load_csv, load_sunspots
from shared.errors import DataError

# Facts about the tutorial's sunspots CSV, computed once by hand from that file and
# written here so the tests need no copy of it: length, first and last values, sum and mean
# (float64 sums of the CSV's values), min and max.
CSV_LENGTH = 2820
CSV_FIRST = [58.0, 62.6, 70.0, 55.7]
CSV_LAST = 33.4
CSV_SUM = 144570.0
CSV_MEAN = 51.265957446808514
CSV_MIN, CSV_MAX = 0.0, 253.8


@pytest.fixture(scope="module")
def sunspots() -> pd.Series:
    return load_sunspots()


def tutorial_train_test(values: np.ndarray, split_percent: float = 0.8):
    """The tutorial's own code, verbatim but for the CSV read (df.values is (n, 1))."""
    df_values = np.asarray(values, dtype=np.float64).reshape(-1, 1)
    data = np.array(df_values.astype("float32"))
    scaler = MinMaxScaler(feature_range=(0, 1))
    data = scaler.fit_transform(data).flatten()
    n = len(data)
    split = int(n * split_percent)
    train_data = data[range(split)]
    test_data = data[split:]
    return train_data, test_data, scaler


def write_csv(tmp_path, text: str, name: str = "series.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


# --- load_sunspots ---------------------------------------------------------------------------


def test_sunspots_match_the_tutorial_csv(sunspots):
    values = sunspots.to_numpy()
    assert len(sunspots) == CSV_LENGTH
    assert values.dtype == np.float64
    assert values[:4].tolist() == CSV_FIRST
    assert values[-1] == CSV_LAST
    assert values.sum() == pytest.approx(CSV_SUM, rel=0, abs=1e-6)
    assert values.mean() == pytest.approx(CSV_MEAN, rel=1e-12)
    assert (values.min(), values.max()) == (CSV_MIN, CSV_MAX)


def test_sunspots_are_indexed_by_month(sunspots):
    assert isinstance(sunspots.index, pd.PeriodIndex)
    assert str(sunspots.index[0]) == "1749-01"
    assert str(sunspots.index[-1]) == "1983-12"
    assert sunspots.index.equals(pd.period_range("1749-01", "1983-12", freq="M"))
    assert sunspots.name == "Sunspots"


# --- load_csv --------------------------------------------------------------------------------


def test_load_csv_reads_column_by_position_and_name(tmp_path):
    path = write_csv(tmp_path, '"Month","Sunspots"\n"1749-01",58.0\n"1749-02",62.6\n')
    by_position = load_csv(path)
    by_name = load_csv(str(path), "Sunspots")
    assert by_position.tolist() == [58.0, 62.6]
    assert by_position.name == "Sunspots"
    pd.testing.assert_series_equal(by_position, by_name)


def test_load_csv_matches_the_tutorial_read(tmp_path):
    text = "Month,Sunspots\n" + "".join(
        f"1749-{m:02d},{v}\n" for m, v in enumerate([58.0, 62.6, 70.0, 55.7, 0.1, 253.8], 1)
    )
    path = write_csv(tmp_path, text)
    tutorial = pd.read_csv(path, usecols=[1], engine="python").values.astype("float32")
    assert np.array_equal(load_csv(path).to_numpy().astype("float32"), tutorial.flatten())


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "no-such.csv"
    with pytest.raises(DataError, match="no-such.csv.*not found"):
        load_csv(missing)


def test_directory_is_not_a_csv(tmp_path):
    with pytest.raises(DataError, match="directory"):
        load_csv(tmp_path)


def test_empty_csv(tmp_path):
    with pytest.raises(DataError, match="empty.csv.*empty"):
        load_csv(write_csv(tmp_path, "", "empty.csv"))


def test_header_only_csv(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        load_csv(write_csv(tmp_path, "Month,Sunspots\n"))


def test_unreadable_csv(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"a,b\n\xff\xfe,\x80\x81\n")
    with pytest.raises(DataError, match="binary.csv"):
        load_csv(path)


def test_missing_column_by_name_lists_the_columns(tmp_path):
    path = write_csv(tmp_path, "Month,Sunspots\n1749-01,58\n")
    with pytest.raises(DataError, match=r"no column 'Spots'.*\['Month', 'Sunspots'\]"):
        load_csv(path, "Spots")


def test_missing_column_by_position_lists_the_columns(tmp_path):
    path = write_csv(tmp_path, "Month,Sunspots\n1749-01,58\n")
    with pytest.raises(DataError, match=r"position 2.*\['Month', 'Sunspots'\]"):
        load_csv(path, 2)


def test_non_numeric_value_names_row_column_and_value(tmp_path):
    path = write_csv(tmp_path, "Month,Sunspots\n1749-01,58\n1749-02,lots\n1749-03,70\n")
    with pytest.raises(DataError, match=r"'Sunspots', data row 2 \(Month '1749-02'\).*'lots'"):
        load_csv(path)


def test_non_numeric_first_column_by_position(tmp_path):
    path = write_csv(tmp_path, "Month,Sunspots\n1749-01,58\n")
    with pytest.raises(DataError, match=r"'Month', data row 1.*'1749-01' is not a number"):
        load_csv(path, 0)


def test_missing_value_names_the_row(tmp_path):
    path = write_csv(tmp_path, "Month,Sunspots\n1749-01,58\n1749-02,\n1749-03,70\n")
    with pytest.raises(DataError, match=r"data row 2 .*missing \(NaN\)"):
        load_csv(path)


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity"])
def test_infinite_value_names_the_row(tmp_path, bad):
    path = write_csv(tmp_path, f"Month,Sunspots\n1749-01,58\n1749-02,62\n1749-03,{bad}\n")
    with pytest.raises(DataError, match=r"data row 3 .*infinite"):
        load_csv(path)


# --- get_train_test --------------------------------------------------------------------------


def test_tutorial_split_sizes(sunspots):
    train, test, _ = get_train_test(sunspots)
    assert (train.shape, test.shape) == ((2256,), (564,))
    assert train.dtype == test.dtype == np.float32


def test_equals_the_tutorial_bit_for_bit(sunspots):
    train, test, scaler = get_train_test(sunspots)
    tutorial_train, tutorial_test, tutorial_scaler = tutorial_train_test(sunspots.to_numpy())
    assert train.dtype == tutorial_train.dtype
    assert train.tobytes() == tutorial_train.tobytes()
    assert test.tobytes() == tutorial_test.tobytes()
    assert np.array_equal(scaler.scale_, tutorial_scaler.scale_)
    assert np.array_equal(scaler.min_, tutorial_scaler.min_)


def test_array_and_series_give_the_same_result(sunspots):
    from_series = get_train_test(sunspots)
    from_array = get_train_test(sunspots.to_numpy())
    assert from_series[0].tobytes() == from_array[0].tobytes()
    assert from_series[1].tobytes() == from_array[1].tobytes()


def test_scaling_all_spans_the_whole_series(sunspots):
    train, test, scaler = get_train_test(sunspots, scaling="all")
    both = np.concatenate([train, test])
    # float32 arithmetic (X * scale_ + min_) lands the maximum one ulp below 1, as in the tutorial
    assert both.min() == 0.0 and both.max() == pytest.approx(1.0, abs=1e-6)
    assert train.max() < both.max()  # the tallest cycle lies in the test part
    assert (scaler.data_min_[0], scaler.data_max_[0]) == (CSV_MIN, pytest.approx(CSV_MAX))


def test_scaling_train_spans_the_training_part_only(sunspots):
    train, test, scaler = get_train_test(sunspots, scaling="train")
    raw_train = sunspots.to_numpy()[:2256].astype(np.float32)
    assert train.min() == 0.0 and train.max() == pytest.approx(1.0, abs=1e-6)
    assert (scaler.data_min_[0], scaler.data_max_[0]) == (raw_train.min(), raw_train.max())
    assert test.max() > 1.0  # the test part holds cycles taller than any seen in training


def test_float64_option(sunspots):
    train, test, _ = get_train_test(sunspots, dtype="float64")
    assert train.dtype == test.dtype == np.float64
    values = sunspots.to_numpy()
    expected = (values - values.min()) / (values.max() - values.min())
    np.testing.assert_allclose(np.concatenate([train, test]), expected, rtol=0, atol=1e-15)


def test_inverse_scale_restores_values_of_any_shape(sunspots):
    train, _, scaler = get_train_test(sunspots, dtype="float64")
    grid = train[:24].reshape(2, 12, 1)
    restored = inverse_scale(scaler, grid)
    assert restored.shape == (2, 12, 1)
    np.testing.assert_allclose(restored.ravel(), sunspots.to_numpy()[:24], atol=1e-9)


def test_inverse_scale_needs_a_one_feature_scaler():
    scaler = MinMaxScaler().fit(np.ones((3, 2)))
    with pytest.raises(DataError, match="one feature"):
        inverse_scale(scaler, np.zeros(3))


@pytest.mark.parametrize(
    ("series", "kwargs", "message"),
    [
        (np.ones((4, 1)), {}, r"1-D, got shape \(4, 1\)"),
        (np.array(["a", "b", "c"]), {}, "numbers"),
        (np.array([1.0]), {}, "at least 2 values"),
        (np.array([1.0, np.nan, 3.0]), {}, "NaN or infinite.*position 1"),
        (np.array([1.0, 2.0, np.inf]), {}, "NaN or infinite.*position 2"),
        (np.arange(10.0), {"split_percent": 0.0}, "strictly between 0 and 1"),
        (np.arange(10.0), {"split_percent": 1.0}, "strictly between 0 and 1"),
        (np.arange(10.0), {"split_percent": True}, "must be a number"),
        (np.arange(10.0), {"split_percent": 0.05}, "0 in training.*at least one value"),
        (np.arange(3.0), {"split_percent": 0.2}, "0 in training"),
        (np.arange(10.0), {"scaling": "test"}, "scaling must be one of all, train"),
        (np.arange(10.0), {"dtype": "float16"}, "dtype must be one of"),
    ],
)
def test_bad_split_inputs(series, kwargs, message):
    with pytest.raises(DataError, match=message):
        get_train_test(series, **kwargs)
