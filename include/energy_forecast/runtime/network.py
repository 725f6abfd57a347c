"""Which of this host's addresses, and which interface, reaches a given peer.

A process that others must connect back to (a Spark driver, a gloo rank) has to advertise
an address its peers can reach. The host name is a poor guide: on many machines it resolves
to a loopback address, and a container or host with several interfaces has several
addresses. The kernel's routing table knows: connecting a UDP socket to the peer sends no
packet but picks the source address the route to that peer would use.
"""

from __future__ import annotations

import socket

from energy_forecast.errors import ConfigurationError

#: Any port will do for a UDP "connect": nothing is sent.
_PROBE_PORT = 9


class UnreachablePeerError(ConfigurationError):
    """No route from this host to a peer it must talk to."""


def address_towards(peer_host: str, peer_port: int | None = None) -> str:
    """This host's IPv4 address on the route to ``peer_host`` (a name or an address)."""
    try:
        peer = socket.gethostbyname(peer_host)
    except OSError as error:
        raise UnreachablePeerError(
            f"cannot resolve {peer_host!r} from host {socket.gethostname()!r}: {error}"
        ) from error
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((peer, peer_port or _PROBE_PORT))
        except OSError as error:
            raise UnreachablePeerError(
                f"no route from host {socket.gethostname()!r} to {peer_host} ({peer}): {error}"
            ) from error
        return probe.getsockname()[0]


def interface_with_address(address: str) -> str:
    """The name of the network interface holding ``address`` (``lo`` for 127.0.0.1)."""
    import psutil

    for name, addresses in psutil.net_if_addrs().items():
        if any(a.family == socket.AF_INET and a.address == address for a in addresses):
            return name
    raise UnreachablePeerError(f"no interface of this host holds the address {address}")
