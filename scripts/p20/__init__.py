"""p20: longitudinal research-partnership data warehouse."""
