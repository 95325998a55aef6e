"""Reporting targets: where an escalation case is reported (NCMEC's CyberTipline, a
law-enforcement agency, ...). ``targets`` holds the interface and the registry."""
