"""The training seed: labelled chat messages written by the project (scoring/data/)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from scoring.characteristics import KEYS
from scoring.jsonl import read_records

SEED_PATH = Path(__file__).resolve().parent / "data" / "seed_messages.jsonl"
# Hand-written paraphrases used only to evaluate, never to train: no line of it is in the seed.
HELDOUT_PATH = Path(__file__).resolve().parent / "data" / "heldout_paraphrases.jsonl"
KINDS = frozenset({"grooming", "benign", "hard_negative"})


@dataclass(frozen=True, slots=True)
class SeedMessage:
    text: str
    labels: frozenset[str]
    kind: str  # "grooming" | "benign" | "hard_negative"
    # The hand-written phrase this line is a variant of: splits keep a group together.
    group: str = ""


def load_seed_messages(path: Path = SEED_PATH) -> list[SeedMessage]:
    """Read and validate a seed file; errors name the file, line and problem."""
    out: list[SeedMessage] = []
    for where, record in read_records(path):
        if not isinstance(record, dict):
            raise ValueError(f"{where}: each line must be a JSON object")
        text, labels, kind = record.get("text"), record.get("labels"), record.get("kind")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: text is missing or empty")
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise ValueError(f"{where}: labels must be a list of characteristic keys")
        unknown = sorted(set(labels) - set(KEYS))
        if unknown:
            raise ValueError(f"{where}: unknown label(s) {', '.join(unknown)}")
        if kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {', '.join(sorted(KINDS))}")
        if (kind == "grooming") != bool(labels):
            raise ValueError(f"{where}: grooming lines need labels, other kinds none")
        group = str(record.get("group") or where)
        out.append(SeedMessage(text=text, labels=frozenset(labels), kind=kind, group=group))
    return out


def seed_fingerprint(path: Path = SEED_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
