"""Real-chat corpora read from a local folder: the readers, the refusal of a pickle that
would run code, the real-chat report and the commands that print it.

No corpus is in the repository, so these tests build small folders in the corpora's formats
from the project's own generated conversations."""

from __future__ import annotations

import csv
import os
import pickle
from dataclasses import replace
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from scoring.corpora import (
    read_development_folder,
    read_pan12_csv,
    read_pan12_predators,
    read_perverted_justice,
)
from scoring.dataset import LabelledConversation
from scoring.disclosures import states_minor
from scoring.real_evaluation import real_chat_report
from scoring.training import cross_validate
from tests.scoring_support import trained_default


def _sample() -> tuple[list[LabelledConversation], list[LabelledConversation]]:
    from scoring.generator import generate_conversations

    conversations = generate_conversations(80, seed=31337)
    grooming = [c for c in conversations if c.label == 1 and len(c.messages) >= 20][:6]
    benign = [c for c in conversations if c.label == 0][:12]
    return grooming, benign


def write_corpora(folder: Path) -> tuple[list[LabelledConversation], list[LabelledConversation]]:
    """PJ.pkl (one offender per grooming conversation, in two chunks, numpy strings as the
    real file has them) and a PAN12-style CSV of the benign ones."""
    grooming, benign = _sample()
    offenders = []
    for conversation in grooming:
        [predator] = conversation.predators
        rows = [[np.str_(m.sender), f"{m.sent_at:%H:%M}", m.text] for m in conversation.messages]
        half = len(rows) // 2
        offenders.append((np.str_(predator), [rows[:half], rows[half:]]))
    (folder / "PJ.pkl").write_bytes(pickle.dumps(offenders))
    with (folder / "pan12_test_dataset.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)  # noqa: TID251 (reading test input, not an export)
        writer.writerow(["conversation_id", "author", "text", "timestamp"])
        for conversation in benign:
            for m in conversation.messages:
                writer.writerow([conversation.external_id, m.sender, m.text, f"{m.sent_at:%H:%M}"])
    return grooming, benign


def test_each_offender_is_one_grooming_conversation_in_time_order(tmp_path: Path) -> None:
    grooming, _ = write_corpora(tmp_path)

    read = read_perverted_justice(tmp_path / "PJ.pkl")

    assert len(read) == len(grooming)
    for ours, theirs in zip(grooming, read, strict=True):
        assert (theirs.label, theirs.predators) == (1, ours.predators)
        assert [m.text for m in theirs.messages] == [m.text for m in ours.messages]
        moments = [m.sent_at for m in theirs.messages]
        assert moments == sorted(moments)  # clock-only times: midnight moves to the next day
        assert all(p.declared_age is None for p in theirs.participants)


def test_a_pickle_that_would_run_code_is_refused(tmp_path: Path) -> None:
    hostile = tmp_path / "PJ.pkl"
    hostile.write_bytes(pickle.dumps(os.getcwd))

    with pytest.raises(ValueError, match="only numpy dtype and scalar are allowed"):
        read_perverted_justice(hostile)


def test_pan12_samples_are_benign_conversations_and_a_missing_column_is_named(
    tmp_path: Path,
) -> None:
    _, benign = write_corpora(tmp_path)

    read = read_pan12_csv([tmp_path / "pan12_test_dataset.csv"])

    assert [c.label for c in read] == [0] * len(benign)
    assert sum(len(c.messages) for c in read) == sum(len(c.messages) for c in benign)
    escaped = tmp_path / "pan12_train_dataset.csv"
    escaped.write_text(
        "conversation_id,author,text,timestamp\nc,a,i don&apos;t know &lt;3,10:00\n",
        encoding="utf-8",
    )
    [typed] = read_pan12_csv([escaped])
    assert typed.messages[0].text == "i don't know <3"  # the XML's escapes read as typed
    broken = tmp_path / "broken.csv"
    broken.write_text("conversation_id,author,text\nc,a,hi\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        read_pan12_csv([broken])


def test_pan12_predator_lists_label_the_conversations_their_authors_wrote_in(
    tmp_path: Path,
) -> None:
    _, benign = write_corpora(tmp_path)
    listed = benign[3]
    author = sorted(p.external_id for p in listed.participants)[0]
    # The training corpus's list is one id per line; the test corpus's problem-1 ground
    # truth is a conversation id and an author id.
    (tmp_path / "pan12-training-corpus-predators.txt").write_text(f"{author}\n\n", "utf-8")
    (tmp_path / "pan12-groundtruth-problem1.txt").write_text("conv\tsomeone-else\n", "utf-8")

    read = {c.external_id: c for c in read_development_folder(tmp_path)}

    mine = read[f"pan12-{listed.external_id}"]
    assert (mine.label, mine.predators) == (1, frozenset({author}))
    others = [c for c in read.values() if c.platform == "pan12" and c is not mine]
    wrote = [c for c in others if author in {p.external_id for p in c.participants}]
    assert all(c.label == 1 for c in wrote)
    assert all(c.label == 0 for c in others if c not in wrote)
    bad = tmp_path / "bad-predators.txt"
    bad.write_text("a b c\n", "utf-8")
    with pytest.raises(ValueError, match=r"bad-predators\.txt line 1: expected an author id"):
        read_pan12_predators([bad])


@pytest.mark.django_db
def test_evaluate_model_says_when_pan12_has_no_predator_list(
    tmp_path: Path, active_model: Any
) -> None:
    write_corpora(tmp_path)
    out = StringIO()
    call_command("evaluate_model", "--corpora", str(tmp_path), stdout=out)
    assert "PAN 2012 read without its predator list" in out.getvalue()

    (tmp_path / "predators.txt").write_text("nobody\n", "utf-8")
    out = StringIO()
    call_command("evaluate_model", "--corpora", str(tmp_path), stdout=out)
    assert "PAN 2012 read without its predator list" not in out.getvalue()


def test_a_folder_without_corpora_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="holds neither"):
        read_development_folder(tmp_path)


def test_the_real_chat_report_counts_and_never_quotes(tmp_path: Path) -> None:
    write_corpora(tmp_path)
    conversations = read_development_folder(tmp_path)
    engine = trained_default().engine

    report = real_chat_report(engine, conversations, threshold=0.5, first=200)
    lines = "\n".join(report.lines())

    assert (report.grooming, report.benign) == (6, 12)
    assert 0 <= report.flagged <= report.grooming
    assert report.benign_flagged == report.benign_flagged_probe  # metadata changes nothing
    assert "grooming flagged within their first 200 messages" in lines
    # In generated grooming the child never answers in kind, so the groomer is named.
    assert report.suspect_named == report.grooming
    assert f"ranked most responsible (whom a case reports) in {report.grooming} of" in lines
    assert "reliability" in lines
    texts = {m.text for c in conversations for m in c.messages if len(m.text) > 12}
    assert not any(text in lines for text in texts)


@pytest.mark.django_db
def test_evaluate_model_prints_the_real_chat_figures(tmp_path: Path, active_model: Any) -> None:
    write_corpora(tmp_path)
    out = StringIO()

    call_command("evaluate_model", "--corpora", str(tmp_path), stdout=out)

    assert "Evaluation on real chat" in out.getvalue()
    assert "benign flagged with the metadata probe" in out.getvalue()
    with pytest.raises(CommandError, match="one of --jsonl, --pan-xml and --corpora"):
        call_command("evaluate_model", "--corpora", str(tmp_path), "--jsonl", "x.jsonl")


def test_grouped_cross_validation_never_splits_an_offender() -> None:
    from scoring.seed import load_seed_messages

    grooming, benign = _sample()
    report = cross_validate(
        seed_messages=load_seed_messages(), conversations=[*grooming, *benign], folds=3
    )

    assert report["pooled"]["n"] == len(grooming) + len(benign)
    assert report["groups"] == len(grooming) + len(benign)
    assert 0.0 <= report["pooled"]["roc_auc"] <= 1.0
    with pytest.raises(Exception, match="at least 7 groups"):
        cross_validate(seed_messages=load_seed_messages(), conversations=grooming, folds=7)


@pytest.mark.django_db
def test_train_model_cv_prints_figures_and_registers_nothing(tmp_path: Path) -> None:
    from scoring.models import ModelVersion

    write_corpora(tmp_path)
    out = StringIO()

    call_command("train_model", "--corpora", str(tmp_path), "--cv", "3", stdout=out)

    assert "grouped 3-fold cross-validation" in out.getvalue()
    assert not ModelVersion.objects.exists()


def test_a_flagged_benign_conversation_where_someone_states_a_child_age_is_counted() -> None:
    """A corpus label "benign" means no known predator; a flagged one in which a participant
    says they are 13 is counted apart, so the false-alarm figure can be read."""
    from tests.scoring_support import grooming_conversations

    engine = trained_default().engine
    said, unsaid = (
        replace(c, label=0, predators=frozenset()) for c in grooming_conversations(2, 30)
    )
    child = next(p.external_id for p in said.participants if p.external_id not in said.predators)
    said = replace(
        said,
        messages=[*said.messages, replace(said.messages[-1], sender=child, text="im 13")],
        message_labels=[*said.message_labels, frozenset()],
    )
    unsaid = replace(
        unsaid,
        messages=[m for m in unsaid.messages if not states_minor(m.text)],
    )
    unsaid = replace(unsaid, message_labels=unsaid.message_labels[: len(unsaid.messages)])

    report = real_chat_report(engine, [said, unsaid], threshold=0.5)

    assert report.benign_flagged == 2
    assert report.benign_flagged_stated_minor == 1
    assert "states an age of 15 or under in their own words: 1" in "\n".join(report.lines())
