"""Events the notify service publishes: none. It is the end of the line; what it sent is
in its delivery log (GET /v1/me/deliveries, /v1/compounds/{cid}/deliveries)."""

from __future__ import annotations
