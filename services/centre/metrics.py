"""Centre metrics: bookings, sign-ups, waiting-list promotions and loans, each by outcome."""

from __future__ import annotations

from prometheus_client import Counter

from linli.metrics import REGISTRY

BOOKINGS = Counter("linli_centre_bookings_total",
                   "Bookings reaching each status (pending, confirmed, declined, cancelled, "
                   "no_show) and refused overlaps (clash).", ["outcome"], registry=REGISTRY)
SIGNUPS = Counter("linli_centre_signups_total",
                  "Activity sign-ups by outcome (confirmed, waiting, cancelled, checked_in).",
                  ["outcome"], registry=REGISTRY)
PROMOTIONS = Counter("linli_centre_waitlist_promotions_total",
                     "People promoted from a waiting list when a place came free.",
                     registry=REGISTRY)
LOANS = Counter("linli_centre_loans_total",
                "Library loans by outcome (lent, renewed, returned, lost, due_reminded, overdue, "
                "refused).",
                ["outcome"], registry=REGISTRY)
