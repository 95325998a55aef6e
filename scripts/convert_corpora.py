"""Convert a local copy of the research corpora into the project's JSONL format.

    .venv/bin/python scripts/convert_corpora.py DIR var/corpora/development.jsonl [--first N]

DIR is a folder you already have (nothing is fetched): it is searched for ``PJ.pkl``
(Perverted-Justice conversations as packaged by the BF-PSR framework) and
``pan12_*_dataset.csv`` (PAN 2012 opening samples); see scoring/corpora.py. The output is
labelled conversations that ``manage.py train_model --jsonl`` and ``evaluate_model --jsonl``
read. Write it under var/ (git-ignored): the corpora hold explicit content and carry no
licence to redistribute, so neither they nor a conversion of them may be committed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.corpora import read_development_folder  # noqa: E402
from scoring.dataset import write_jsonl  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="the local folder holding the corpora")
    parser.add_argument("out", type=Path, help="the JSONL file to write (under var/)")
    parser.add_argument("--first", type=int, help="keep only each conversation's first N messages")
    args = parser.parse_args(argv)
    if args.first is not None and args.first < 1:
        parser.error("--first must be at least 1")
    inside = args.out.resolve().is_relative_to(ROOT)
    if inside and not args.out.resolve().is_relative_to(ROOT / "var"):
        parser.error(
            f"{args.out}: write converted corpora under var/ (git-ignored), never into "
            "the repository"
        )
    try:
        conversations = read_development_folder(args.folder)
    except ValueError as exc:
        parser.error(str(exc))
    if args.first:
        conversations = [
            replace(
                c, messages=c.messages[: args.first], message_labels=c.message_labels[: args.first]
            )
            for c in conversations
        ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    temporary = args.out.with_suffix(args.out.suffix + ".part")
    write_jsonl(temporary, conversations)
    temporary.replace(args.out)  # nothing half-written stays under the final name
    grooming = sum(c.label == 1 for c in conversations)
    print(
        f"wrote {len(conversations)} conversations ({grooming} grooming, "
        f"{len(conversations) - grooming} benign, "
        f"{sum(len(c.messages) for c in conversations):,} messages) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
