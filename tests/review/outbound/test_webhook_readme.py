"""README's webhook section is what a platform implements: its verification code accepts the
signature Artemis sends, and refuses a changed body."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from review.outbound.webhooks import sign

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verifier() -> Any:
    section = README.read_text().split("### Webhooks: what Artemis sends back", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.DOTALL)
    scope: dict[str, Any] = {}
    exec(code, scope)  # noqa: S102 - the README's own example, run as a platform would
    return scope["artemis_signed"]


def test_the_readme_verifier_accepts_artemis_signature_and_refuses_a_changed_body() -> None:
    verified = readme_verifier()
    body, timestamp = b'{"event": "decision", "decision": 17}', "1767225600"
    signature = sign("platform-shared-secret", timestamp, body)

    assert verified("platform-shared-secret", timestamp, signature, body)
    assert not verified("platform-shared-secret", timestamp, signature, body + b" ")
    assert not verified("another-secret", timestamp, signature, body)
