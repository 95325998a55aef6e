"""Policy: the tenant's thresholds and their versions, tuning, the feedback loop, retention."""
