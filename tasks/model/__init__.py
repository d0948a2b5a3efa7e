"""Pure model of the stack: loads `.devcontainer/` into typed objects (no Docker, no network)."""
