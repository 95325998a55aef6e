"""Agreement between two judgements of the same decisions. Pure functions, no queries.

Cohen's kappa corrects the raw agreement rate for the agreement two raters would reach by
chance given how often each uses each category:

    kappa = (p_o - p_e) / (1 - p_e)

where p_o is the observed share of pairs that agree and p_e = sum over categories k of
(share of first judgements that are k) x (share of second judgements that are k). 1 is
perfect agreement, 0 is what chance alone gives, below 0 is worse than chance. When both
sides used one and the same category only, p_e = 1 and kappa is undefined (None here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable


def agreement_rate(pairs: Iterable[tuple[str, str]]) -> float | None:
    pairs = list(pairs)
    if not pairs:
        return None
    return sum(first == second for first, second in pairs) / len(pairs)


def cohen_kappa(pairs: Iterable[tuple[str, str]]) -> float | None:
    """Cohen's kappa over (first, second) category pairs; None with no pairs or when
    chance agreement is already total."""
    pairs = list(pairs)
    n = len(pairs)
    if n == 0:
        return None
    observed = sum(first == second for first, second in pairs) / n
    firsts = Counter(first for first, _ in pairs)
    seconds = Counter(second for _, second in pairs)
    expected = sum(firsts[k] * seconds[k] for k in firsts.keys() & seconds.keys()) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)
