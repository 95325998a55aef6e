"""Evaluate the active (or a named) model.

manage.py evaluate_model                          # held-out paraphrase conversations
manage.py evaluate_model --jsonl data.jsonl       # labelled conversations, project format
manage.py evaluate_model --pan-xml test.xml --pan-predators predators.txt
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.errors import ScoringError
from scoring.models import ModelVersion
from scoring.services import engine_load, model_version_active


class Command(BaseCommand):
    help = "Report conversation-level, PAN 2012 author-level and early-warning metrics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--jsonl", help="labelled conversations in the project's JSONL format")
        parser.add_argument("--pan-xml", help="PAN 2012 conversations XML")
        parser.add_argument("--pan-predators", help="PAN 2012 predator id list")
        parser.add_argument("--model", help="model version (default: the active default model)")
        parser.add_argument("--threshold", type=float, default=0.5)
        parser.add_argument("--limit", type=int, help="evaluate only the first N conversations")
        parser.add_argument("--no-early-warning", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from scoring.dataset import read_jsonl, read_pan2012
        from scoring.evaluation import (
            EvaluationReport,
            author_metrics,
            conversation_metrics,
            early_warning,
        )
        from scoring.training import heldout_conversations

        if not 0 <= options["threshold"] <= 1:
            raise CommandError("--threshold must be between 0 and 1")
        if options["model"]:
            model_version = ModelVersion.objects.filter(version=options["model"]).first()
            if model_version is None:
                raise CommandError(f"no registered model {options['model']!r}")
        else:
            model_version = model_version_active(tenant=None)
            if model_version is None:
                raise CommandError("no active model; run: manage.py train_model")
        try:
            engine = engine_load(model_version=model_version)
            if options["jsonl"]:
                conversations = read_jsonl(_file(options["jsonl"]))
                name = options["jsonl"]
            elif options["pan_xml"]:
                predators = options["pan_predators"]
                conversations = read_pan2012(
                    _file(options["pan_xml"]), _file(predators) if predators else None
                )
                name = f"PAN 2012 {options['pan_xml']}"
            else:
                conversations = heldout_conversations()
                name = (
                    "held-out conversations generated from hand-written paraphrases "
                    "(scoring/data/heldout_paraphrases.jsonl; no text in them is in training)"
                )
        except (ValueError, ScoringError) as exc:
            raise CommandError(str(exc)) from None
        conversations = [c for c in conversations if c.label is not None][: options["limit"]]
        if not conversations:
            raise CommandError("no labelled conversations to evaluate")
        threshold = options["threshold"]
        began = time.perf_counter()
        results = [engine.score_conversation(c.participants, c.messages) for c in conversations]
        probs = [r.probability for r in results]
        report = EvaluationReport(
            dataset=f"{name}, model {model_version.version}",
            conversation=conversation_metrics([c.label for c in conversations], probs, threshold),
        )
        if any(c.predators for c in conversations):
            predicted: set[str] = set()
            for result in results:
                if result.probability >= threshold and result.suspect_scores:
                    author, score = max(result.suspect_scores.items(), key=lambda kv: kv[1])
                    if score > 0:
                        predicted.add(author)
            report.authors = author_metrics(
                predicted,
                {p for c in conversations for p in c.predators},
                {p.external_id for c in conversations for p in c.participants},
            )
        if not options["no_early_warning"]:
            report.early = early_warning(
                conversations, _window_scorer(engine, conversations), threshold=threshold
            )
        report.notes += _paraphrase_lines(engine)
        report.notes.append(f"(scored in {time.perf_counter() - began:.1f}s)")
        self.stdout.write(report.format())


def _paraphrase_lines(engine: Any) -> list[str]:
    """The issue's message-level acceptance measures on the held-out paraphrases."""
    from scoring.characteristics import KEYS
    from scoring.seed import HELDOUT_PATH, load_seed_messages

    held_out = load_seed_messages(HELDOUT_PATH)
    scored = engine.score_messages([m.text for m in held_out])
    lines = ["Message level on held-out paraphrases, at the display thresholds:"]
    for key in KEYS:
        positives = [s for m, s in zip(held_out, scored, strict=True) if key in m.labels]
        flagged = [s for s in scored if key in s.spans]
        recall = sum(key in s.spans for s in positives) / len(positives)
        hits = sum(key in m.labels for m, s in zip(held_out, scored, strict=True) if key in s.spans)
        precision = hits / len(flagged) if flagged else 0.0
        verdict = "MET" if recall >= 0.8 else f"NOT MET by {0.8 - recall:.2f}"
        lines.append(
            f"  {key:<22} recall {recall:.2f} ({len(positives)})  precision {precision:.2f}  "
            f"[recall >= 0.80: {verdict}]"
        )
    for kind, target in (("hard_negative", 0.10), ("benign", 0.10)):
        group = [s for m, s in zip(held_out, scored, strict=True) if m.kind == kind]
        rate = sum(bool(s.spans) for s in group) / len(group)
        verdict = "MET" if rate <= target else f"NOT MET by {rate - target:.2f}"
        lines.append(
            f"  {kind:<22} flagged {rate:.2f} of {len(group)}  [<= {target:.2f}: {verdict}]"
        )
    return lines


def _file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise CommandError(f"{value}: no such file")
    return path


def _window_scorer(engine: Any, conversations: list[Any], window: int = 50) -> Any:
    """Probabilities of every sliding window of a conversation, computed once per conversation
    (message scores reused, one batched conversation-model call) and served per end."""
    cache: dict[int, np.ndarray] = {}

    def score(conversation: Any, end: int) -> float:
        key = id(conversation)
        if key not in cache:
            scored = engine.score_messages([m.text for m in conversation.messages])
            rows = [
                engine.features(
                    conversation.participants,
                    conversation.messages[max(0, e - window) : e],
                    scored[max(0, e - window) : e],
                )
                for e in range(1, len(conversation.messages) + 1)
            ]
            cache[key] = engine.probability(np.array(rows)) if rows else np.zeros(0)
        return float(cache[key][end - 1])

    return score
