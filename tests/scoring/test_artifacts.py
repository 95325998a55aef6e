"""Artifacts: loaded only when the bytes hash to the registered value."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import sklearn

from scoring.artifacts import MAGIC, dump_engine, load_engine, load_engine_bytes, save_engine
from scoring.characteristics import KEYS
from scoring.engine import ENGINE_FORMAT
from scoring.errors import ScoringError
from tests.scoring_support import trained_default


class Tripwire:
    """Unpickling this touches a file: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (Path.write_text, (Path(self.path), "loaded"))  # type: ignore[return-value]


def test_an_engine_round_trips_and_gets_its_version_from_its_hash(tmp_path: Path) -> None:
    engine = trained_default().engine
    path, blob = save_engine(engine, tmp_path)

    loaded = load_engine(path, expected_sha256=blob.sha256)

    assert loaded.version == blob.sha256[:12]
    text = "dont tell ur mom about us"
    assert loaded.score_messages([text])[0].scores == engine.score_messages([text])[0].scores


def test_one_changed_byte_is_refused_before_anything_is_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    header = json.dumps({"sklearn_version": sklearn.__version__, "format": 1}).encode()
    data = MAGIC + header + b"\n" + pickle.dumps(Tripwire(str(marker)))
    registered = hashlib.sha256(data).hexdigest()
    tampered = data[:-3] + bytes([data[-3] ^ 1]) + data[-2:]

    with pytest.raises(ScoringError, match="does not match the registered"):
        load_engine_bytes(tampered, expected_sha256=registered)
    assert not marker.exists()


def test_an_unregistered_hash_is_refused(tmp_path: Path) -> None:
    blob = dump_engine(trained_default().engine)

    with pytest.raises(ScoringError, match="refusing to load"):
        load_engine_bytes(blob.data, expected_sha256="0" * 64)


def test_an_artifact_from_another_scikit_learn_is_refused_before_unpickling(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    header = json.dumps({"sklearn_version": "0.0.1", "format": ENGINE_FORMAT}).encode()
    data = MAGIC + header + b"\n" + pickle.dumps(Tripwire(str(marker)))

    with pytest.raises(ScoringError, match=r"scikit-learn 0\.0\.1"):
        load_engine_bytes(data, expected_sha256=hashlib.sha256(data).hexdigest())
    assert not marker.exists()


def test_an_artifact_of_an_older_engine_layout_is_refused_before_unpickling(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "marker"
    older = ENGINE_FORMAT - 1
    header = json.dumps({"sklearn_version": sklearn.__version__, "format": older}).encode()
    data = MAGIC + header + b"\n" + pickle.dumps(Tripwire(str(marker)))

    with pytest.raises(ScoringError, match=f"an engine of format {older}.*retrain"):
        load_engine_bytes(data, expected_sha256=hashlib.sha256(data).hexdigest())
    assert not marker.exists()


@pytest.mark.parametrize(
    ("recorded", "named"),
    [
        ((*KEYS, "grooming_by_proxy"), "it scores grooming_by_proxy, which this code does not"),
        (KEYS[1:], f"it does not know {KEYS[0]}"),
        ((KEYS[1], KEYS[0], *KEYS[2:]), "in another order"),
    ],
)
def test_an_engine_trained_on_other_characteristics_is_refused_by_name(
    tmp_path: Path, recorded: tuple[str, ...], named: str
) -> None:
    marker = tmp_path / "marker"
    header = json.dumps(
        {"sklearn_version": sklearn.__version__, "format": ENGINE_FORMAT,
         "characteristics": list(recorded)}
    ).encode()  # fmt: skip
    data = MAGIC + header + b"\n" + pickle.dumps(Tripwire(str(marker)))

    with pytest.raises(ScoringError, match=f"other characteristics.*{named}.*retrain"):
        load_engine_bytes(data, expected_sha256=hashlib.sha256(data).hexdigest())
    assert not marker.exists()


def test_an_artifact_names_its_characteristics_and_one_from_before_that_still_loads() -> None:
    engine = trained_default().engine
    blob = dump_engine(engine)
    header = json.loads(blob.data[len(MAGIC) : blob.data.index(b"\n", len(MAGIC))])
    assert header["characteristics"] == list(KEYS)

    del header["characteristics"]  # as written before the header named them
    body = blob.data[blob.data.index(b"\n", len(MAGIC)) + 1 :]
    older = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body
    loaded = load_engine_bytes(older, expected_sha256=hashlib.sha256(older).hexdigest())
    assert loaded.keys == KEYS


def test_the_same_training_gives_the_same_artifact() -> None:
    from scoring.training import train_default

    assert (
        dump_engine(train_default().engine).sha256 == dump_engine(trained_default().engine).sha256
    )


def test_training_in_another_process_with_another_hash_seed_gives_the_same_bytes() -> None:
    """`make run` on two machines must register the same default model version."""
    import os
    import subprocess
    import sys

    code = (
        "from scoring.training import train_default; from scoring.artifacts import dump_engine;"
        "print(dump_engine(train_default().engine).sha256)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout.strip()

    assert other == dump_engine(trained_default().engine).sha256
