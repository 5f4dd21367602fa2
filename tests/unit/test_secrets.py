"""Secrets and tokens (issue 9): the published development secret never serves production,
app tokens are staff only by scope (one rule for every service), service tokens are short."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt
import pytest

from linli.auth import Principal, verify_token
from linli.clients import AppToken, app_token
from linli.config import ConfigError, Settings, check_secret, load_settings

STRONG = "a-long-random-secret-of-more-than-32-bytes"


def test_the_development_secret_is_refused_unless_development() -> None:
    with pytest.raises(ConfigError, match="公开的开发密钥"):
        check_secret(load_settings({}))
    with pytest.raises(ConfigError, match="太短"):
        check_secret(load_settings({"LINLI_JWT_SECRET": "short"}))
    check_secret(load_settings({"LINLI_ENV": "development"}))
    check_secret(load_settings({"LINLI_JWT_SECRET": STRONG}))


def test_linli_serve_refuses_to_start_with_the_development_secret() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    result = subprocess.run([sys.executable, "-m", "linli.cli", "serve", "directory"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "拒绝启动" in result.stderr and "LINLI_JWT_SECRET" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_app_is_staff_only_by_its_scope_a_person_by_role() -> None:
    plain_app = Principal(subject="app:open311-client", scopes=frozenset({"issues:report"}))
    manager = Principal(subject="app:workflows", scopes=frozenset({"issues:manage"}))
    assert not plain_app.acts_as_staff("issues:manage")
    assert manager.acts_as_staff("issues:manage")
    assert not manager.acts_as_staff("volunteers:manage")
    assert Principal(subject="p", roles=frozenset({"community"})).acts_as_staff("x:manage")
    assert not Principal(subject="p", roles=frozenset({"resident"})).acts_as_staff("x:manage")
    assert Principal(subject="p", roles=frozenset({"admin"})).acts_as_staff("x", roles=())


def test_service_tokens_live_minutes_and_are_renewed() -> None:
    settings = Settings(jwt_secret=STRONG)
    claims = jwt.decode(app_token(settings, "issues"), STRONG, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert claims["scopes"] == ["issues:internal"]
    token = AppToken(settings, "workflows", ["meetings:manage"], ttl_seconds=60)
    first = token()
    who = verify_token(STRONG, first)
    assert who.subject == "app:workflows" and who.scopes == {"meetings:manage"}
    assert token() == first  # kept for half its life
    token._renew_at = 0.0  # as when half its life has passed
    renewed = jwt.decode(token(), STRONG, algorithms=["HS256"])
    assert renewed["exp"] >= jwt.decode(first, STRONG, algorithms=["HS256"])["exp"]
