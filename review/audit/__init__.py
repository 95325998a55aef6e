"""The audit trail: who saw and did what, hash-chained per tenant."""
