"""How long one gradient all-reduce takes between two CPU processes on this machine.

DDP on CPU all-reduces every step's gradients over gloo, and a step of the LSTM costs about
5 ms of compute. Whether 2 processes can reach 1.6x the samples/s of 1 therefore depends on
what one all-reduce of the model's gradients costs here, so the benchmark measures it in
isolation: with gloo's threads at normal and at real-time priority (what training runs,
see ``energy_forecast.training.collective_threads``), beside a plain loopback TCP round
trip of the same bytes, what the network stack alone allows.

    .venv/bin/python -m benchmarks.collective_latency --elements 6000
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import tempfile
import time
from pathlib import Path

import torch.multiprocessing as mp

#: Calls timed after this many untimed ones (connection set-up, first allocations).
_WARMUP = 50


def summarize(seconds: list[float]) -> dict[str, float]:
    """Median, 90th and 99th percentile and mean of call durations, in milliseconds."""
    ordered = sorted(seconds)

    def at(fraction: float) -> float:
        return round(ordered[int(fraction * (len(ordered) - 1))] * 1e3, 3)

    return {
        "median_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "mean_ms": round(statistics.mean(ordered) * 1e3, 3),
        "calls": len(ordered),
    }


def _all_reduce_rank(
    rank: int, world: int, port: int, elements: int, calls: int, realtime: bool, out: str
) -> None:
    import torch
    import torch.distributed as dist

    from energy_forecast.training.collective_threads import realtime_threads_started

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), GLOO_SOCKET_IFNAME="lo")
    torch.set_num_threads(1)  # as the training ranks run
    with realtime_threads_started(realtime):
        dist.init_process_group("gloo", rank=rank, world_size=world)
    gradients = torch.randn(elements)
    durations = []
    for call in range(_WARMUP + calls):
        started = time.perf_counter()
        dist.all_reduce(gradients)
        if call >= _WARMUP:
            durations.append(time.perf_counter() - started)
    dist.destroy_process_group()
    if rank == 0:
        Path(out).write_text(json.dumps(durations))


def gloo_all_reduce(
    elements: int, realtime: bool, processes: int = 2, calls: int = 1000
) -> dict[str, float]:
    """Durations of ``calls`` gloo all-reduces of ``elements`` float32 values, with gloo's
    threads at real-time or at normal priority."""
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "durations.json")
        mp.spawn(
            _all_reduce_rank,
            args=(processes, _free_port(), elements, calls, realtime, out),
            nprocs=processes,
        )
        return {"elements": elements, **summarize(json.loads(Path(out).read_text()))}


def _echo(port: int, size: int, calls: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(_WARMUP + calls):
            connection.sendall(_receive(connection, size))


def _receive(connection: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = connection.recv(left)
        if not chunk:
            raise ConnectionError("the echo process closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def tcp_round_trip(size: int, calls: int = 1000) -> dict[str, float]:
    """Durations of ``calls`` loopback TCP round trips of ``size`` bytes to another process."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        echo = mp.get_context("spawn").Process(
            target=_echo, args=(server.getsockname()[1], size, calls)
        )
        echo.start()
        connection, _ = server.accept()
        with connection:
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            payload = os.urandom(size)
            durations = []
            for call in range(_WARMUP + calls):
                started = time.perf_counter()
                connection.sendall(payload)
                _receive(connection, size)
                if call >= _WARMUP:
                    durations.append(time.perf_counter() - started)
        echo.join()
    return {"bytes": size, **summarize(durations)}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def measure(elements: int) -> dict[str, dict[str, float]]:
    """The three measurements for a gradient of ``elements`` float32 values."""
    return {
        "gloo_all_reduce_2_processes": gloo_all_reduce(elements, realtime=True),
        "gloo_all_reduce_2_processes_normal_priority": gloo_all_reduce(elements, realtime=False),
        "tcp_round_trip_same_bytes": tcp_round_trip(4 * elements),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, required=True, help="float32 values reduced")
    print(json.dumps(measure(parser.parse_args().elements), indent=2))


if __name__ == "__main__":
    main()
