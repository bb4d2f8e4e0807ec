"""Every size bound tycho-client applies to what it reads, in one place (documented in README)."""

from __future__ import annotations

MAX_EXPANDED_NODES = 100_000
"""Most YAML nodes a compose document may have once every alias is expanded ("billion laughs")."""

MAX_RESPONSE_BYTES = 64 * 1024 * 1024
"""Default bound of an answer's body, counted after decompression (``max_response_bytes``).

A status answer listing 10,000 systems is about 5 MiB; 64 MiB leaves room for ten times that.
"""

MAX_SERVICES = 1_000
"""Most services a compose document may define (a Tycho system is one pod)."""

MAX_CONCURRENCY = 10
"""Default connection pool size, and requests in flight per client (``max_concurrency``)."""

MAX_NUMBER_DIGITS = 100
"""Longest integer a compose document may write (Python refuses to print ones over 4,300)."""

MAX_NESTING = 64
"""Deepest nesting of mappings and lists in a compose document (real ones nest under 10 deep).

Bounds every walk over the document, so no input can exhaust Python's stack."""

MAX_INTERPOLATION_DEPTH = 32
"""Deepest nesting of ``${VAR:-...}`` inside one another in a compose string."""

MAX_FILE_BYTES = 4 * 1024 * 1024
"""Largest compose or ``.env`` file read (the CLI's files, and ``up()`` given a path)."""
