"""Measurement records: the only thing the report reads.

Every measurement (a training run, a baseline, a parity run, a speed run) is one JSON record
written atomically into a records folder, one file per run. Measuring and reporting stay
separate: the report is rendered from these files alone, so it can be re-rendered, diffed, and
tested on small fixture records without training anything. The job runner (compare.jobs.runner)
keeps a copy of each record in a cache; what its key hashes and how a cached file is read back
live here too, next to the records themselves.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

from shared.errors import RnnParityError

# failed_job: a job that raised; the job runner (compare.jobs.runner) writes it with the error's
# first line, so a run goes on and the report names what is missing instead of stopping.
RECORD_KINDS = (
    "meta",
    "agreement_run",
    "training_run",
    "baseline",
    "parity_run",
    "bench_run",
    "failed_job",
    "bench_rounds",
)


def _json_safe(value: Any) -> Any:
    """NaN and inf become None-free strings JSON can hold ("nan", "inf"): never silently 0."""
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def json_round_trip(payload: Any) -> Any:
    """`payload` as it reads back from its JSON file: one form whether fresh or from a cache."""
    return json.loads(json.dumps(_json_safe(payload), sort_keys=True))


def write_json(path: str | os.PathLike, payload: Any) -> Path:
    """Write JSON atomically: a crash mid-write leaves the previous file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_text(json.dumps(_json_safe(payload), indent=1, sort_keys=True))
    os.replace(temporary, path)
    return path


def write_record(folder: str | os.PathLike, name: str, record: dict[str, Any]) -> Path:
    """Write one record as `folder/name.json`; its "kind" must be one of RECORD_KINDS."""
    if record.get("kind") not in RECORD_KINDS:
        raise RnnParityError(
            f"record {name!r}: kind must be one of {RECORD_KINDS}, got {record.get('kind')!r}"
        )
    return write_json(Path(folder) / f"{name}.json", record)


def read_records(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """Every record in `folder`, sorted by file name.

    Raises:
        RnnParityError: if the folder is missing or a file is not a valid record (names it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RnnParityError(f"{folder}: no records folder (run the measurements first)")
    records = []
    for path in sorted(folder.glob("*.json")):
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise RnnParityError(f"{path}: not valid JSON ({error})") from None
        if not isinstance(record, dict) or record.get("kind") not in RECORD_KINDS:
            raise RnnParityError(f"{path}: not a measurement record (no known 'kind')")
        records.append(record)
    return records


def first_line(error: BaseException) -> str:
    """An error as a failed_job record carries it: its type and the first line of its text."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


def as_float(value: Any) -> float:
    """A record's number back as a float ("nan"/"inf" strings included)."""
    return float(value)


def group_study(
    records: list[dict],
) -> tuple[dict[str, dict[str, list[dict]]], dict[str, dict[str, dict]]]:
    """The study's records by preset: (training runs per framework, baselines by name)."""
    runs: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    baselines: dict[str, dict[str, dict]] = defaultdict(dict)
    for record in records:
        if record["kind"] == "training_run":
            runs[record["preset"]][record["framework"]].append(record)
        elif record["kind"] == "baseline":
            baselines[record["preset"]][record["name"]] = record
    return runs, baselines


# ---------------------------------------------------------------- the job runner's cache

CACHE_FORMAT = 1  # bump when a cached file's layout changes
# Every package whose version can change a record, and the project itself.
VERSIONED_PACKAGES = (
    "numpy",
    "scikit-learn",
    "tensorflow",
    "keras",
    "torch",
    "lightning",
    "jax",
    "rnn-parity",
)


@cache
def versions() -> dict[str, str]:
    """Installed versions of VERSIONED_PACKAGES ("not installed" where missing)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def run_facts() -> dict[str, Any]:
    """What every command's meta record says of its run: when, the command line, the machine and
    the versions (`versions`)."""
    import sys
    import time

    return {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "rnn-parity " + " ".join(sys.argv[1:]),
        "machine": f"{platform.machine()}, {platform.system()}, {os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}",
        "versions": versions(),
    }


def read_cached(path: Path) -> dict[str, Any] | None:
    """The record in a cache file (see compare.jobs.runner), or None: missing or unreadable files
    count as none, so a damaged cache costs a re-run, never a wrong record."""
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())["record"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    return record if isinstance(record, dict) and record.get("kind") in RECORD_KINDS else None
