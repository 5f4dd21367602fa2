"""The portal consumes no events itself; its live parts come from notify's live stream (live.py)."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
