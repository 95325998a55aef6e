"""Finding and opening anything: the search box, message-text search, participant pages."""
