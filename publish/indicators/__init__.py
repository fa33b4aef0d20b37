"""The plan's indicator model and its evaluation, and the conflict analysis (conflicts)."""
