"""Events the meetings service reacts to, with the routing table at the bottom."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
