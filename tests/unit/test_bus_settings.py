"""Where the bus is: one NATS URL or a cluster's servers, and how many replicas a stream gets."""

from __future__ import annotations

import pytest

from linli import bus
from linli.config import load_settings


def test_a_cluster_is_named_by_its_servers_separated_by_commas() -> None:
    assert bus.servers("nats://a:4222") == ["nats://a:4222"]
    assert bus.servers(" nats://a:4222, nats://b:4222 ,nats://c:4222,") == [
        "nats://a:4222", "nats://b:4222", "nats://c:4222"]
    with pytest.raises(ValueError, match="LINLI_NATS_URL"):
        bus.servers(" , ")


def test_stream_replicas_are_kept_unless_configured() -> None:
    assert load_settings({}).stream_replicas is None
    assert load_settings({"LINLI_STREAM_REPLICAS": "3"}).stream_replicas == 3
