"""Readers for public research corpora kept in a local folder, never in the repository.

The corpora hold explicit content and carry no licence to redistribute, so Artemis ships
none of them and never trains its default model on them: a user who has a copy points
``evaluate_model`` (and, for a tenant's own model, ``train_model``) at it by path.

- Perverted-Justice conversations as packaged by the BF-PSR framework (``PJ.pkl``): a
  pickled list of ``(offender name, chunks)``; each chunk a list of ``[author, "HH:MM",
  text]``. One offender's chunks, in order, make one grooming conversation. A pickle can run
  code when loaded, so it is opened with an unpickler that builds only numpy's ``dtype`` and
  ``scalar`` (the string scalars the file holds) and refuses everything else.
- PAN 2012 opening samples as CSV (``conversation_id,author,text,timestamp``, clock-only
  ``HH:MM`` times). The CSVs carry no labels, and PAN 2012 is not all benign: it mixes
  Perverted-Justice logs into its chat, and names their authors in separate files (the
  training corpus's ``*predators*.txt``, one author id per line; the test corpus's
  ``*groundtruth-problem1.txt``). When the folder holds such a file, a conversation with a
  listed author is grooming and that author its predator; without one, every conversation
  is counted benign, and ``evaluate_model`` says so.

Clock-only times are placed on a fixed day in UTC, in order (a time earlier than the one
before means midnight passed), as ``scoring.dataset.read_pan2012`` does. Participants carry
no declared age or account date: these corpora have none, so what they measure is text.
"""

from __future__ import annotations

import csv
import html
import importlib
import pickle
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

from scoring.dataset import PAN_DAY, LabelledConversation
from scoring.types import Message, Participant

_ALLOWED_GLOBALS = frozenset(
    {
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }
)


class _NumpyStringsOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only numpy dtype and scalar are allowed"
            )
        return getattr(importlib.import_module(module), name)


class _Clock:
    """Clock-only ``HH:MM`` times to datetimes on a fixed day, kept in order."""

    def __init__(self) -> None:
        self.day = PAN_DAY
        self.previous: datetime | None = None

    def place(self, clock: str, where: str) -> datetime:
        try:
            hours, minutes = (int(x) for x in str(clock).strip().split(":")[:2])
        except ValueError:
            raise ValueError(f"{where}: time {clock!r} is not HH:MM") from None
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError(f"{where}: time {clock!r} is not HH:MM")
        moment = self.day.replace(hour=hours, minute=minutes)
        if self.previous is not None and moment < self.previous:
            self.day += timedelta(days=1)
            moment += timedelta(days=1)
        self.previous = moment
        return moment


def _conversation(
    external_id: str,
    platform: str,
    rows: Iterable[tuple[str, str, str]],
    *,
    label: int,
    predators: frozenset[str],
    where: str,
) -> LabelledConversation:
    clock = _Clock()
    messages: list[Message] = []
    authors: list[str] = []
    for index, (author, time_text, text) in enumerate(rows):
        moment = clock.place(time_text, f"{where} message {index + 1}")
        messages.append(Message(str(index + 1), author, moment, text))
        if author not in authors:
            authors.append(author)
    return LabelledConversation(
        external_id=external_id,
        platform=platform,
        participants=[Participant(a) for a in authors],
        messages=messages,
        message_labels=[frozenset()] * len(messages),
        label=label,
        predators=predators & frozenset(authors),
        kind=platform,
    )


def read_perverted_justice(path: Path) -> list[LabelledConversation]:
    """One grooming conversation per offender; the offender is the predator."""
    try:
        with path.open("rb") as handle:
            data = _NumpyStringsOnly(handle).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as exc:
        raise ValueError(f"{path.name}: not a Perverted-Justice pickle ({exc})") from None
    if not isinstance(data, list):
        raise ValueError(f"{path.name}: expected a list of (offender, chunks)")
    out = []
    for number, entry in enumerate(data, start=1):
        where = f"{path.name} offender {number}"
        try:
            name, chunks = entry
            rows = [(str(a), str(t), str(x)) for chunk in chunks for a, t, x in chunk]
        except (TypeError, ValueError):
            raise ValueError(f"{where}: expected (name, chunks of [author, time, text])") from None
        out.append(
            _conversation(
                f"pj-{number}",
                "perverted-justice",
                rows,
                label=1,
                predators=frozenset({str(name)}),
                where=where,
            )
        )
    return out


def read_pan12_predators(paths: Iterable[Path]) -> frozenset[str]:
    """PAN 2012's predator author ids: the last field of each non-empty line (a bare id, or
    ``conversation id<TAB>author id``)."""
    ids: set[str] = set()
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) > 2:
                raise ValueError(
                    f"{path.name} line {number}: expected an author id, or a conversation id "
                    "and an author id"
                )
            ids.add(fields[-1])
    return frozenset(ids)


def read_pan12_csv(
    paths: Iterable[Path], predators: frozenset[str] = frozenset()
) -> list[LabelledConversation]:
    """Conversations from PAN 2012 sample CSVs, in file order: grooming when one of
    ``predators`` (read_pan12_predators) wrote in it, benign otherwise."""
    out = []
    for path in paths:
        grouped: dict[str, list[tuple[str, str, str]]] = {}
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"conversation_id", "author", "text", "timestamp"} - set(
                reader.fieldnames or ()
            )
            if missing:
                raise ValueError(f"{path.name}: missing column(s) {', '.join(sorted(missing))}")
            for row in reader:
                # PAN 2012 came from XML and keeps its escapes ("don&apos;t"); a platform
                # sends the text as typed, so read it as typed.
                grouped.setdefault(row["conversation_id"], []).append(
                    (row["author"], row["timestamp"], html.unescape(row["text"] or ""))
                )
        for conversation_id, rows in grouped.items():
            out.append(
                _conversation(
                    f"pan12-{conversation_id}",
                    "pan12",
                    rows,
                    label=int(any(author in predators for author, _, _ in rows)),
                    predators=predators,
                    where=f"{path.name} conversation {conversation_id}",
                )
            )
    return out


def pan12_predator_files(folder: Path) -> list[Path]:
    """PAN 2012's lists of predator authors that ``folder`` holds (searched recursively)."""
    return sorted({*folder.rglob("*predators*.txt"), *folder.rglob("*groundtruth-problem1.txt")})


def read_development_folder(folder: Path) -> list[LabelledConversation]:
    """Every corpus this module reads that ``folder`` holds (searched recursively):
    ``PJ.pkl`` and ``pan12_*_dataset.csv``, labelled by PAN 2012's predator lists when it
    holds them (pan12_predator_files). Raises when it holds no corpus."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    pj = sorted(folder.rglob("PJ.pkl"))
    pan = sorted(folder.rglob("pan12_*_dataset.csv"))
    if not pj and not pan:
        raise ValueError(f"{folder}: holds neither PJ.pkl nor pan12_*_dataset.csv")
    out: list[LabelledConversation] = []
    for path in pj:
        out += read_perverted_justice(path)
    out += read_pan12_csv(pan, read_pan12_predators(pan12_predator_files(folder)))
    return out
