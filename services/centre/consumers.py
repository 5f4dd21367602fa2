"""Events the centre reacts to: none yet (compounds are checked in the directory on first use)."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
