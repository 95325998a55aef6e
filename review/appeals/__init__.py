"""Appeals: a user's appeal of an account action, decided by someone else."""
