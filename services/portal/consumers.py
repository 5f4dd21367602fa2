"""The portal consumes no events; live parts poll the owning services' APIs over SSE."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
