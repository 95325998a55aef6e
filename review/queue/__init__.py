"""The moderation queue: items, their order and counts, and the one lease helper."""
