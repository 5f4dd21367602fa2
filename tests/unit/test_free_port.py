"""The ports handed to the embedded servers and services stay out of the range the kernel gives
client sockets, so no outgoing connection can take one before its server binds it (a service
of `linli up` failed to start, "address already in use", when one did), and none twice."""

from __future__ import annotations

import socket

from linli.stack import LOWEST_FREE_PORT, _outgoing_ports_start, free_port


def test_free_ports_are_below_the_outgoing_range_bindable_and_never_repeated() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    assert all(LOWEST_FREE_PORT <= p < _outgoing_ports_start() for p in ports)
    with socket.socket() as s:
        s.bind(("127.0.0.1", ports[-1]))
