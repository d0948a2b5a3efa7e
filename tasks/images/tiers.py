"""The stack's start-up tiers: the compose label that sets a service's tier, and the last tier."""

TIER_LABEL = "dev.mcp-cluster.tier"
MAX_TIER = 4
