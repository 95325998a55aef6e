"""Train a scoring model and register it.

manage.py train_model                       # seed corpus + generated conversations
manage.py train_model --if-missing          # only when no default model is active
manage.py train_model --jsonl data.jsonl    # labelled conversations, project format
manage.py train_model --pan-xml corpus.xml --pan-predators predators.txt
manage.py train_model --corpora ~/corpora   # local research corpora (registered, never active)
manage.py train_model --jsonl data.jsonl --cv 5   # grouped 5-fold cross-validation only
manage.py train_model --tenant acme         # a challenger from the tenant's decisions
manage.py train_model --tenant acme --promote   # ... made the tenant's model whatever it scores
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.errors import ScoringError
from scoring.services import model_version_active, model_version_register


def _loads(model_version: Any) -> bool:
    """Whether this code can load a registered model (an engine of an older format or
    another scikit-learn cannot be, and must be retrained)."""
    from scoring.services import engine_load

    try:
        engine_load(model_version=model_version)
    except ScoringError:
        return False
    return True


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise CommandError(f"{value}: no such file")
    return path


class Command(BaseCommand):
    help = "Train a scoring model, register it with its SHA-256 and metrics, and activate it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-missing", action="store_true", help="skip if a model is active")
        parser.add_argument("--jsonl", help="labelled conversations in the project's JSONL format")
        parser.add_argument("--pan-xml", help="PAN 2012 conversations XML")
        parser.add_argument("--pan-predators", help="PAN 2012 predator id list")
        parser.add_argument(
            "--corpora",
            help="a local folder with research corpora (PJ.pkl, pan12_*_dataset.csv; see "
            "scoring/corpora.py). The model is registered but never made active: the corpora "
            "carry no licence for a production model",
        )
        parser.add_argument(
            "--cv",
            type=int,
            metavar="K",
            help="with --jsonl, --pan-xml or --corpora: grouped K-fold cross-validation "
            "(an offender's or a conversation's messages never on both sides); prints the "
            "figures and registers nothing",
        )
        parser.add_argument("--random-state", type=int, default=0)
        parser.add_argument(
            "--no-activate", action="store_true", help="register without making it active"
        )
        parser.add_argument(
            "--tenant",
            help="train a challenger on the seed corpus plus this tenant's decisions, compare "
            "it with the tenant's model on held-out decisions, and promote it if it is better",
        )
        parser.add_argument(
            "--promote",
            action="store_true",
            help="with --tenant: make the challenger the tenant's model even if it is not better",
        )
        parser.add_argument(
            "--generated",
            type=int,
            help="with --tenant: generated conversations trained alongside the decisions "
            "(default: as many as the default model)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tenant"]:
            self._challenger(options)
            return
        for flag in ("promote", "generated"):
            if options[flag]:
                raise CommandError(f"--{flag} goes with --tenant")
        if options["if_missing"]:
            active = model_version_active(tenant=None)
            if active is not None and _loads(active):
                self.stdout.write(f"model {active.version} is active; nothing to train")
                return
            if active is not None:
                self.stdout.write(
                    f"model {active.version} is active but this code cannot load it; training"
                )
        if options["pan_predators"] and not options["pan_xml"]:
            raise CommandError("--pan-predators needs --pan-xml")
        sources = [f for f in ("jsonl", "pan_xml", "corpora") if options[f]]
        if len(sources) > 1:
            raise CommandError("give one of --jsonl, --pan-xml and --corpora")
        if options["cv"] is not None:
            if not sources:
                raise CommandError("--cv needs labelled data: --jsonl, --pan-xml or --corpora")
            if not 2 <= options["cv"] <= 20:
                raise CommandError("--cv must be between 2 and 20")

        from scoring.corpora import read_development_folder
        from scoring.dataset import read_jsonl, read_pan2012
        from scoring.seed import load_seed_messages
        from scoring.training import train_default, train_engine

        began = time.perf_counter()
        try:
            if options["jsonl"]:
                conversations = read_jsonl(existing_file(options["jsonl"]))
                source = f"seed corpus + {options['jsonl']}"
            elif options["pan_xml"]:
                predators = options["pan_predators"]
                conversations = read_pan2012(
                    existing_file(options["pan_xml"]),
                    existing_file(predators) if predators else None,
                )
                source = f"seed corpus + PAN 2012 {options['pan_xml']}"
            elif options["corpora"]:
                conversations = read_development_folder(Path(options["corpora"]))
                source = f"seed corpus + local corpora {options['corpora']}"
            else:
                conversations = None
                source = "seed corpus + generated conversations"
            if conversations is None:
                result = train_default(random_state=options["random_state"])
            else:
                if not any(c.label is not None for c in conversations):
                    raise CommandError("the training data has no conversation labels")
                if options["cv"] is not None:
                    self._cross_validate(conversations, source, options, began)
                    return
                result = train_engine(
                    seed_messages=load_seed_messages(),
                    conversations=conversations,
                    random_state=options["random_state"],
                )
        except (ValueError, ScoringError) as exc:
            raise CommandError(str(exc)) from None
        seconds = time.perf_counter() - began

        model_version = model_version_register(
            engine=result.engine,
            metrics=result.metrics,
            data_fingerprint=result.data_fingerprint,
            training_source=source,
            activate=not (options["no_activate"] or options["corpora"]),
        )
        state = "active" if model_version.is_active else "registered, not active"
        self.stdout.write(
            f"trained model {model_version.version} in {seconds:.1f}s from {source} ({state})"
        )
        self.stdout.write(f"  sha256 {model_version.sha256}, {model_version.size_bytes:,} bytes")
        conversation = result.metrics.get("conversation", {})
        if conversation:
            shown = ", ".join(
                f"{k} {conversation[k]:.3f}"
                for k in ("roc_auc", "pr_auc", "precision", "recall", "f1", "f0.5")
            )
            self.stdout.write(f"  held-out conversations: {shown}")

    def _cross_validate(
        self, conversations: list[Any], source: str, options: dict[str, Any], began: float
    ) -> None:
        from scoring.seed import load_seed_messages
        from scoring.training import cross_validate

        report = cross_validate(
            seed_messages=load_seed_messages(),
            conversations=conversations,
            folds=options["cv"],
            random_state=options["random_state"],
        )
        pooled = report["pooled"]
        write = self.stdout.write
        write(
            f"grouped {report['folds']}-fold cross-validation on {source}: "
            f"{int(pooled['n'])} conversations, {report['groups']} groups (offenders or "
            f"conversations), in {time.perf_counter() - began:.0f}s"
        )
        target = (
            "MET" if pooled["roc_auc"] >= 0.95 else f"NOT MET by {0.95 - pooled['roc_auc']:.3f}"
        )
        write(f"  ROC-AUC pooled {pooled['roc_auc']:.3f}  [>= 0.95: {target}]")
        write("  ROC-AUC by fold " + ", ".join(f"{a:.3f}" for a in report["fold_roc_auc"]))
        write(
            f"  at threshold {pooled['threshold']:.2f}: precision {pooled['precision']:.3f}, "
            f"recall {pooled['recall']:.3f} (tp {int(pooled['tp'])}, fp {int(pooled['fp'])}, "
            f"fn {int(pooled['fn'])}, tn {int(pooled['tn'])})"
        )
        write("  nothing was registered; train without --cv to register a model")

    def _challenger(self, options: dict[str, Any]) -> None:
        clashing = [
            f for f in ("if_missing", "jsonl", "pan_xml", "corpora", "cv", "no_activate")
            if options[f]
        ]  # fmt: skip
        if clashing:
            names = ", ".join("--" + f.replace("_", "-") for f in clashing)
            raise CommandError(f"--tenant trains from the tenant's decisions; drop {names}")
        if options["generated"] is not None and options["generated"] < 50:
            raise CommandError("--generated must be at least 50")
        from review.policy.feedback import challenger_train
        from review.policy.feedback_selectors import tenant_by_slug
        from scoring.feedback import RULE, format_comparison

        tenant = tenant_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(f"no tenant with slug {options['tenant']!r}")
        try:
            report = challenger_train(
                tenant=tenant,
                actor_label="manage.py train_model",
                force_promote=options["promote"],
                generated=options["generated"],
                random_state=options["random_state"],
            )
        except ScoringError as exc:
            raise CommandError(str(exc)) from None
        held, train = report.counts["held_out"], report.counts["train"]
        comparison = report.comparison
        write = self.stdout.write
        write(
            f"trained challenger {report.challenger.version} for {tenant.slug} in "
            f"{report.seconds:.1f}s: {report.challenger.training_source}"
        )
        write(
            f"  trained on {train['conversations']} decisions ({train['grooming']} grooming, "
            f"{train['benign']} benign), each weighing "
            f"{report.training['decision_weight']:.1f} generated conversations"
        )
        write(
            f"Champion vs challenger on {held['conversations']} held-out decisions "
            f"({held['grooming']} grooming, {held['benign']} benign), never trained on, at "
            f"the tenant's flag threshold {comparison.threshold:.2f}:"
        )
        for line in format_comparison(
            comparison, report.champion.version, report.challenger.version
        ):
            write(line)
        write(f"Rule: {RULE}.")
        if report.promoted and not report.forced:
            write(
                f"PROMOTED: the challenger is better ({comparison.why}); "
                f"it now scores {tenant.slug}."
            )
        elif report.promoted:
            write(
                f"PROMOTED by --promote, although it is not better by the rule "
                f"({comparison.why}); it now scores {tenant.slug}."
            )
        elif report.stale:
            write(
                f"NOT PROMOTED: the model in use for {tenant.slug} changed while the challenger "
                "trained, so this comparison is out of date; run the command again."
            )
        else:
            write(
                f"NOT PROMOTED: {comparison.why}. The champion {report.champion.version} stays; "
                f"promote the challenger on the model versions page or with --promote if you "
                "choose to."
            )
