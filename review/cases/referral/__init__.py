"""The law-enforcement referral package: a signed ZIP a person can hand over (issue 5).

- ``package``: ``referral_package_build(case=, actor=)`` gathers the evidence and returns the
  ZIP and its SHA-256; ``package_unavailable`` says when a case cannot be packaged yet.
- ``evidence``: reads the case, transcript, participants, indicators and chain of custody.
- ``files`` / ``documents`` / ``pdf``: JSON, CSV and PDF renderings.
- ``signing``: the Ed25519 key from ``ARTEMIS_PACKAGE_SIGNING_KEY`` and the signature.
- ``verify``: ``package_verify`` checks a ZIP (``manage.py verify_package``).

Downloading a package is a write (it is audited): ``review.services.referral``.
"""

from __future__ import annotations
