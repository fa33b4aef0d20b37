"""Release history: what changed between two releases (the diff), for people and machines."""
