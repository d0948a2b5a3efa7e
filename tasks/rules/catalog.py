"""Imports every rule module so that each registers its rules."""

from tasks.rules import (  # noqa: F401
    compose_rules,
    dockerfile_rules,
    docs_rules,
    env_rules,
    image_rules,
    mcp_rules,
    monitoring_rules,
    python_rules,
    secret_rules,
    version_rules,
    volume_rules,
)
