"""The plan's phases as idempotent steps: migrate a legacy layout, commit per phase."""
