"""The address and interface a process advertises are the ones on the route to its peer."""

from __future__ import annotations

import pytest

from energy_forecast.runtime.network import (
    UnreachablePeerError,
    address_towards,
    interface_with_address,
)


def test_a_peer_on_loopback_is_reached_from_loopback_over_lo() -> None:
    assert address_towards("127.0.0.1", 7077) == "127.0.0.1"
    assert address_towards("localhost") == "127.0.0.1"
    assert interface_with_address("127.0.0.1") == "lo"


def test_a_peer_whose_name_does_not_resolve_is_named_in_the_error() -> None:
    with pytest.raises(UnreachablePeerError, match=r"no-such-host\.invalid"):
        address_towards("no-such-host.invalid")


def test_an_address_no_interface_holds_is_refused() -> None:
    with pytest.raises(UnreachablePeerError, match=r"198\.51\.100\.254"):
        interface_with_address("198.51.100.254")
