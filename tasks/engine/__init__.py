"""The only layer that talks to Docker (through python-on-whales)."""
