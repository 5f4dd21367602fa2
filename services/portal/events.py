"""The portal publishes no events: it is an app of the other services' public APIs."""

from __future__ import annotations
