"""axe-core in a browser test: the script from the npm registry (scripts/install_axe.sh puts
it in var/node/, never a CDN), injected into a page, and the violations a person would meet
(serious or critical) as short lines that name the rule and the element."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import skip_or_fail

AXE = Path(__file__).resolve().parents[2] / "var/node/node_modules/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")


def axe_script() -> Path:
    """The installed axe-core, or a skip (a failure under ARTEMIS_REQUIRE_SERVICES=1)."""
    if not AXE.exists():
        skip_or_fail(f"needs axe-core at {AXE}: run scripts/install_axe.sh (make test does)")
    return AXE


def blocking_violations(tab: Any) -> list[str]:
    """Run axe on the page in ``tab`` and describe each serious or critical violation.

    The page's Content-Security-Policy would refuse the injected script, so the tab's context
    is opened with ``bypass_csp=True``; that is for this check only.
    """
    if not tab.evaluate("() => typeof window.axe !== 'undefined'"):
        tab.add_script_tag(path=str(axe_script()))
    results = tab.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            summary = node.get("failureSummary", "").splitlines()[-1:] or [""]
            lines.append(
                f"{violation['id']} ({violation['impact']}) {', '.join(node['target'])}: "
                f"{summary[0].strip()}"
            )
    return lines
