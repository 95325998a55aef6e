"""Tenancy: tenants, members and their roles, what each role may do, API keys, invitations."""
