"""Events the directory reacts to: none yet — it is the source others read from."""

from __future__ import annotations

from linli.bus import Subscription

SUBSCRIPTIONS: list[Subscription] = []
