"""Events volunteers reacts to: none (skills are seeded on a compound's first use)."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
