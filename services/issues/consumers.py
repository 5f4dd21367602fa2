"""Events issues reacts to: none yet (categories are seeded on a compound's first use)."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
