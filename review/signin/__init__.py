"""Sign-in security: two-factor sign-in, lockouts and their release, sign-ins in the audit trail."""
