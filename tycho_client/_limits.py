"""Every size bound tycho-client applies to what it reads, in one place (documented in README)."""

from __future__ import annotations

MAX_EXPANDED_NODES = 100_000
"""Most YAML nodes a compose document may have once every alias is expanded ("billion laughs")."""
