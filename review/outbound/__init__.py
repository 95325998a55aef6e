"""What leaves Artemis: the outbox, signed webhooks, and the one way to call a tenant's address."""
