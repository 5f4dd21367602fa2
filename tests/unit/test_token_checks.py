"""A token checked once is remembered, never beyond what a fresh check would accept."""

from __future__ import annotations

import time

import jwt
import pytest

from linli.auth import ALGORITHM, AuthError, issue_token, verify_token

SECRET = "linli-unit-test-secret-of-at-least-32-bytes"


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    token = issue_token(SECRET, subject="p-expiring", roles=["resident"], ttl_seconds=2)
    assert verify_token(SECRET, token).subject == "p-expiring"  # checked, and now remembered
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # bounded wait for the real expiry, no fixed sleep
        try:
            verify_token(SECRET, token)
        except AuthError as exc:
            assert "过期" in str(exc)
            return
        time.sleep(0.05)
    pytest.fail("an expired token was still accepted")


def test_a_remembered_token_is_not_accepted_under_another_secret() -> None:
    token = issue_token(SECRET, subject="p-rotated", roles=["resident"])
    assert verify_token(SECRET, token).subject == "p-rotated"
    with pytest.raises(AuthError, match="令牌无效"):
        verify_token("another-secret-of-at-least-32-bytes-long", token)


def test_a_token_not_yet_valid_is_refused_every_time() -> None:
    now = int(time.time())
    early = jwt.encode({"sub": "p-early", "nbf": now + 3600, "exp": now + 7200}, SECRET,
                       algorithm=ALGORITHM)
    for _ in range(2):
        with pytest.raises(AuthError):
            verify_token(SECRET, early)
