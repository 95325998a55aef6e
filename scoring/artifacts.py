"""Engine artifacts: bytes with a small header, checked before anything is unpickled.

A pickle is code. An artifact is loaded only when its SHA-256 matches the one the registry
recorded (``scoring.models.ModelVersion``), and only by the scikit-learn version that wrote
it. The header is plain JSON, so both checks happen before ``pickle.loads`` sees a byte.

Layout: b"ARTEMIS-ENGINE 1\\n" + JSON header + b"\\n" + pickle of the Engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sklearn

from scoring.characteristics import KEYS
from scoring.errors import ScoringError

if TYPE_CHECKING:
    from scoring.engine import Engine

MAGIC = b"ARTEMIS-ENGINE 1\n"
# Artifacts written before the header named their characteristics scored these, in order.
BEFORE_KEYS_WERE_RECORDED = (
    "personal_info_probe", "age_gap_normalisation", "trust_building", "supervision_check",
    "secrecy_request", "exclusivity_isolation", "sexual_content", "media_request",
    "gifts_incentives", "pressure_coercion", "platform_migration", "meeting_arrangement",
)  # fmt: skip


@dataclass(frozen=True)
class Blob:
    data: bytes
    sha256: str
    sklearn_version: str
    created_at: str

    @property
    def version(self) -> str:
        return self.sha256[:12]


def dump_engine(engine: Engine) -> Blob:
    version = engine.version
    engine.version = ""  # the version is the artifact's hash, so it cannot be inside it
    try:
        body = pickle.dumps(engine, protocol=5)
    finally:
        engine.version = version
    header = {
        "sklearn_version": sklearn.__version__,
        "format": engine.format,
        # The characteristics the engine scores, in the order of its columns: an engine
        # trained before a characteristic was added, removed or moved is refused by name.
        "characteristics": list(engine.keys),
    }
    data = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + body
    return Blob(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        sklearn_version=sklearn.__version__,
        created_at=datetime.now(tz=UTC).isoformat(),
    )


def load_engine_bytes(data: bytes, *, expected_sha256: str, source: str = "artifact") -> Engine:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ScoringError(
            f"{source}: SHA-256 {actual} does not match the registered {expected_sha256}; "
            "refusing to load it"
        )
    if not data.startswith(MAGIC):
        raise ScoringError(f"{source}: not an Artemis engine artifact")
    header_end = data.index(b"\n", len(MAGIC))
    header = json.loads(data[len(MAGIC) : header_end])
    from scoring.engine import ENGINE_FORMAT

    if header.get("format") != ENGINE_FORMAT:
        raise ScoringError(
            f"{source}: an engine of format {header.get('format')}, this code reads format "
            f"{ENGINE_FORMAT}; retrain with manage.py train_model"
        )
    trained_on = tuple(header.get("characteristics") or BEFORE_KEYS_WERE_RECORDED)
    if trained_on != KEYS:
        missing = [k for k in KEYS if k not in trained_on]
        unknown = [k for k in trained_on if k not in KEYS]
        what = "; ".join(
            part
            for part in (
                f"it does not know {', '.join(missing)}" if missing else "",
                f"it scores {', '.join(unknown)}, which this code does not have" if unknown else "",
                "in another order" if not (missing or unknown) else "",
            )
            if part
        )
        raise ScoringError(
            f"{source}: trained on other characteristics than this code's ({what}); retrain "
            "with manage.py train_model"
        )
    if header.get("sklearn_version") != sklearn.__version__:
        raise ScoringError(
            f"{source}: written by scikit-learn {header.get('sklearn_version')}, running "
            f"{sklearn.__version__}; retrain with manage.py train_model"
        )
    engine: Engine = pickle.loads(data[header_end + 1 :])  # noqa: S301 (hash-checked above)
    engine.version = actual[:12]
    return engine


def save_engine(engine: Engine, directory: Path) -> tuple[Path, Blob]:
    """Write an artifact file atomically as <directory>/<sha256[:16]>.artemis."""
    blob = dump_engine(engine)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{blob.sha256[:16]}.artemis"
    with tempfile.NamedTemporaryFile(dir=directory, delete=False) as handle:
        handle.write(blob.data)
        temporary = Path(handle.name)
    os.replace(temporary, path)
    return path, blob


def load_engine(path: Path, *, expected_sha256: str) -> Engine:
    return load_engine_bytes(path.read_bytes(), expected_sha256=expected_sha256, source=str(path))
