"""The two file readers under fuzzing: any bytes give a valid result or the project's own error.

`load_csv` and `load_npz` are where outside files enter the project, so hypothesis feeds them
mangled versions of valid files: truncations, stray quotes, separators and line breaks, BOMs,
NUL bytes, huge exponents and digit runs (CSV); flipped and cut bytes, members with wrong names,
shapes, dtypes or values, and model-spec JSON that is cut, mistyped or absurdly nested (npz).
Every outcome must be either a usable result (a finite float64 series; weights that validate)
or an `RnnParityError` subclass: never a pandas, csv, zip, zlib or numpy exception.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.data import load_csv
from shared.errors import DataError, WeightFormatError
from shared.recurrent_spec import RecurrentLayerSpec
from shared.spec import DenseSpec, ModelSpec
from shared.weight_files import load_npz, save_npz
from shared.weights import CanonicalWeights, random_weights

FUZZ = settings(
    max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

# ---------------------------------------------------------------- CSV

VALID_CSV = "Month,Sunspots\n" + "".join(
    f'"1749-{month:02d}",{value}\n'
    for month, value in zip(
        range(1, 13),
        [58.0, 62.6, 70, 55.7, 85, 83.5, 94.8, 66.3, 75.9, 75.5, 158.6, 85.2],
        strict=True,
    )
)
BOM = "\ufeff"
STRAYS = ['"', "'", ",", ";", "\t", "\n", "\r", "\r\n", "\x00", BOM, " ", "\\", "#", "e", "-"]
# what a file may start with: BOMs (one, two, or one before a quote), a quote, a NUL, Excel's
# "sep=" line
PREFIXES = ["", BOM, BOM + '"', BOM + BOM, '"', "\x00", "sep=,\n", BOM + "'"]
NUMBERS = ["1e999", "-1e999", "1e-999", "9" * 400, "1e309", "0x1p3", "nan", "inf", "1_000", "1,5"]


@st.composite
def mangled_csv(draw: st.DrawFn) -> bytes:
    """VALID_CSV with a few insertions, replacements and a truncation, encoded to bytes."""
    text = VALID_CSV
    for _ in range(draw(st.integers(0, 4))):
        # edges (the header's first bytes, the very end) are where parsers special-case most
        where = draw(st.sampled_from([0, 1, 5, len(text)]) | st.integers(0, len(text)))
        piece = draw(st.sampled_from(STRAYS + NUMBERS) | st.text(max_size=3))
        if draw(st.booleans()):
            text = text[:where] + piece + text[where:]
        else:
            text = text[:where] + piece + text[where + draw(st.integers(1, 6)) :]
    text = draw(st.sampled_from(PREFIXES)) + text
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def check_csv_outcome(path: Path, column: str | int) -> None:
    try:
        series = load_csv(path, column)
    except DataError:
        return
    assert isinstance(series, pd.Series) and series.dtype == np.float64 and len(series) >= 1
    assert np.all(np.isfinite(series.to_numpy()))


@pytest.mark.slow
@FUZZ
@given(data=mangled_csv(), column=st.sampled_from([1, 0, "Sunspots", "Month"]))
def test_load_csv_on_mangled_bytes(scratch, data, column):
    path = scratch / "series.csv"
    path.write_bytes(data)
    check_csv_outcome(path, column)


@pytest.mark.parametrize(
    "text",
    [
        BOM + '"',  # found by fuzzing: pandas' "substring not found" ValueError
        BOM + 'Month,Sunspots\n"1749-01,58\n',
        'Month,Sunspots\n"1749-01",5\x008\n',
        "Month,Sunspots\n1749-01,1e999999\n",
        "Month,Sunspots\n1749-01," + "9" * 5000 + "\n",
    ],
)
def test_load_csv_known_hard_cases(scratch, text):
    path = scratch / "hard.csv"
    path.write_bytes(text.encode("utf-8"))
    check_csv_outcome(path, 1)


# ---------------------------------------------------------------- npz

SPEC = ModelSpec(4, 2, (RecurrentLayerSpec("gru", 2, reset_after=False),), DenseSpec(1, "tanh"))
SPEC_KEY = "__spec_json__"


def valid_members() -> dict[str, np.ndarray]:
    arrays = random_weights(SPEC, seed=3).to_arrays()
    arrays[SPEC_KEY] = np.array(SPEC.to_json())
    return arrays


def npz_bytes(members: dict[str, object], compressed: bool = False) -> bytes:
    """An npz archive (deflated, as np.savez_compressed writes, when `compressed`): arrays as
    .npy members, raw bytes as they are."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, value in members.items():
            if isinstance(value, bytes):
                archive.writestr(name, value)
            else:
                member = io.BytesIO()
                np.save(member, value, allow_pickle=False)
                archive.writestr(name + ".npy", member.getvalue())
    return buffer.getvalue()


def huge_header(shape: tuple[int, ...]) -> bytes:
    """A .npy member whose header claims `shape` (float32) but which holds 16 bytes of data."""
    member = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(member, header)
    return member.getvalue() + bytes(16)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


SPEC_TEXTS = [
    "",
    "{",
    "null",
    "[]",
    nested(100_000),
    '{"time_steps": 4}',
    '{"time_steps": 1e999, "features": 2, "layers": []}',
    '{"time_steps": 4, "features": 2, "layers": [{"kind": "gru", "units": "2"}]}',
    '{"time_steps": 4, "features": 2, "layers": [[1]], "head": 7}',
    '{"time_steps": 4, "features": 2, "layers": [{"kind": ["gru"], "units": 2}]}',
    '{"time_steps": 4, "features": 2, "layers": [{"kind": "gru", "units": 2}], "dtype": {}}',
]


@st.composite
def mangled_members(draw: st.DrawFn) -> dict[str, object]:
    """The valid members with names, shapes, dtypes, values or the spec JSON changed."""
    members: dict[str, object] = dict(valid_members())
    names = sorted(members)
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(names))
        if name not in members:
            continue
        change = draw(
            st.sampled_from(
                ["drop", "rename", "reshape", "dtype", "nan", "spec", "raw", "huge", "extra"]
            )
        )
        value = members[name]
        if change == "drop":
            del members[name]
        elif change == "rename":
            members[name.replace("/", draw(st.sampled_from(["", "_", "//", "/x/"])), 1)] = (
                members.pop(name)
            )
        elif change == "reshape" and isinstance(value, np.ndarray):
            members[name] = np.zeros(draw(st.lists(st.integers(0, 3), max_size=3)), np.float32)
        elif change == "dtype" and isinstance(value, np.ndarray) and name != SPEC_KEY:
            members[name] = value.astype(draw(st.sampled_from(["float64", "int8", "U3", "bool"])))
        elif change == "nan" and isinstance(value, np.ndarray) and value.dtype.kind == "f":
            members[name] = np.full_like(value, draw(st.sampled_from([np.nan, np.inf])))
        elif change == "spec":
            text = draw(st.sampled_from(SPEC_TEXTS) | st.text(max_size=20))
            if draw(st.booleans()):
                text = SPEC.to_json()[: draw(st.integers(0, len(SPEC.to_json())))]
            members[SPEC_KEY] = draw(
                st.sampled_from([np.array(text), np.array([1.5, 2.0]), text.encode()])
            )
        elif change == "raw":
            members[name] = draw(st.binary(max_size=64))
        elif change == "huge":
            del members[name]
            shape = draw(st.sampled_from([(10**12,), (10**6, 10**6), (2**62,), (3, 10**5)]))
            members[name + ".npy"] = huge_header(shape)
        else:
            members[draw(st.text(min_size=1, max_size=8))] = np.ones(2, np.float32)
    return members


def check_npz_outcome(path: Path) -> None:
    try:
        weights = load_npz(path)
    except WeightFormatError:
        return
    assert isinstance(weights, CanonicalWeights)
    weights.validate()


@pytest.mark.slow
@FUZZ
@given(members=mangled_members())
def test_load_npz_on_mangled_members(scratch, members):
    path = scratch / "members.npz"
    path.write_bytes(npz_bytes(members))
    check_npz_outcome(path)


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_load_npz_on_mangled_bytes(scratch, data):
    path = scratch / "bytes.npz"
    blob = bytearray(npz_bytes(valid_members(), compressed=data.draw(st.booleans())))
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(blob) - 1))
        blob[where] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    path.write_bytes(bytes(blob))
    check_npz_outcome(path)


@pytest.mark.parametrize(
    "change",
    ["nested spec", "huge shape", "bad deflate", "unknown method"],
)
def test_load_npz_known_hard_cases(scratch, change):
    members: dict[str, object] = dict(valid_members())
    if change == "nested spec":  # json.loads raises RecursionError
        members[SPEC_KEY] = np.array(nested(100_000))
    elif change == "huge shape":  # numpy raises MemoryError allocating 3.6 TiB
        del members["head/b_y"]
        members["head/b_y.npy"] = huge_header((10**12,))
    blob = bytearray(npz_bytes(members, compressed=change in ("bad deflate", "unknown method")))
    if change == "bad deflate":  # zlib.error while inflating the first member
        blob[60:64] = b"\xff\xff\xff\xff"
    elif change == "unknown method":  # NotImplementedError from zipfile
        central = blob.find(b"PK\x01\x02")
        blob[central + 10] = 99
    path = scratch / "hard.npz"
    path.write_bytes(bytes(blob))
    with pytest.raises(WeightFormatError, match="hard.npz"):
        load_npz(path)


def test_the_valid_files_load(scratch):
    # the fuzzers start from files that load: a reader that refused everything would pass them
    csv_path = scratch / "valid.csv"
    csv_path.write_text(VALID_CSV)
    assert load_csv(csv_path).iloc[10] == 158.6
    npz_path = save_npz(random_weights(SPEC, seed=3), scratch / "valid.npz")
    assert load_npz(npz_path).bitwise_equal(random_weights(SPEC, seed=3))
    for compressed in (False, True):
        (scratch / "rebuilt.npz").write_bytes(npz_bytes(valid_members(), compressed))
        assert load_npz(scratch / "rebuilt.npz").bitwise_equal(random_weights(SPEC, seed=3))
    assert json.loads(SPEC.to_json())["layers"][0]["reset_after"] is False
