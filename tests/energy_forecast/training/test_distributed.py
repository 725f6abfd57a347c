"""Joining the DDP world: bounded, on the interface that reaches the peers, and said where."""

from __future__ import annotations

import os
import socket
import time

import pytest

from energy_forecast.training.distributed import RendezvousError, process_group


def _torchrun_environment(monkeypatch: pytest.MonkeyPatch, rank: int, world_size: int) -> int:
    """What torchrun gives a rank, with a rendezvous port nothing listens on yet."""
    port = _free_port()
    environment = {"RANK": rank, "WORLD_SIZE": world_size, "LOCAL_RANK": 0,
                   "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port}  # fmt: skip
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    return port


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_rank_whose_rendezvous_never_answers_fails_in_time_naming_the_addresses(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _torchrun_environment(monkeypatch, rank=1, world_size=2)  # rank 0 never comes
    monkeypatch.delenv("GLOO_SOCKET_IFNAME", raising=False)
    started = time.monotonic()

    with (
        pytest.raises(RendezvousError) as raised,
        process_group(False, realtime_collectives=False, rendezvous_timeout_s=3),
    ):
        pass

    assert time.monotonic() - started < 60
    message = str(raised.value)
    assert f"talks to rendezvous 127.0.0.1:{port}" in message
    assert "rank 1 of 2" in message and "interface lo" in message


def test_an_explicit_interface_wins_over_the_route(monkeypatch: pytest.MonkeyPatch) -> None:
    _torchrun_environment(monkeypatch, rank=0, world_size=1)
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "eth-from-the-environment")

    with process_group(False, realtime_collectives=False, gloo_interface="lo") as context:
        assert context.world_size == 1

    assert os.environ["GLOO_SOCKET_IFNAME"] == "lo"
