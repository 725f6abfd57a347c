"""Process-group setup and the few collectives training needs.

``TorchDistributor`` (and ``torchrun``) start each rank with ``RANK``, ``WORLD_SIZE``,
``MASTER_ADDR`` and ``MASTER_PORT`` in the environment. Called without them (a unit test, a
notebook) the same code runs as a world of one, so there is a single training path.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from energy_forecast.runtime.network import address_towards, interface_with_address
from energy_forecast.training.collective_threads import realtime_threads_started

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the training world."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


class RendezvousError(RuntimeError):
    """The ranks did not meet: a rank cannot reach the rendezvous or its peers."""


@contextmanager
def process_group(
    use_gpu: bool,
    realtime_collectives: bool = True,
    *,
    gloo_interface: str | None = None,
    rendezvous_timeout_s: float = 180.0,
) -> Iterator[DistContext]:
    """Join the process group (gloo on CPU, nccl on GPU) for the duration of the block.

    With ``realtime_collectives``, gloo's own threads run at real-time priority: see
    :mod:`energy_forecast.training.collective_threads`. ``gloo_interface`` names the
    interface gloo talks over; None picks the one on the route to ``MASTER_ADDR``.

    Objects holding the group (DDP models) must be unreachable when the block ends: keep
    them in a function called inside the block, not in variables of the enclosing scope.
    """
    if dist.is_initialized():
        raise RuntimeError("a torch.distributed process group is already initialised")
    backend = "nccl" if use_gpu else "gloo"
    with realtime_threads_started(realtime_collectives and backend == "gloo"):
        if "WORLD_SIZE" in os.environ and "RANK" in os.environ:
            _join_rendezvous(backend, gloo_interface, rendezvous_timeout_s)
        else:
            dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if use_gpu:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    try:
        yield DistContext(dist.get_rank(), dist.get_world_size(), local_rank, device)
    except BaseException as error:
        # The failed frames still hold the DDP model; free it before the group goes away.
        traceback.clear_frames(error.__traceback__)
        raise
    finally:
        _release_process_group()


def _release_process_group() -> None:
    # DDP's reducer holds a reference to the gloo group. If the group's last reference
    # goes with the reducer, garbage collected later with the GIL held, the group's
    # destructor joins gloo threads that need the GIL to free finished work: the rank hangs
    # at exit (seen here, about one run in ten). Collecting DDP objects first leaves the
    # last reference to destroy_process_group, which releases the GIL while it joins.
    gc.collect()
    dist.destroy_process_group()


def _join_rendezvous(backend: str, gloo_interface: str | None, timeout_s: float) -> None:
    """``init_process_group`` from torchrun's environment, bounded, and said where.

    Gloo otherwise binds the address the host name resolves to: loopback on many machines
    (a rank on another host cannot reach it) or an interface that does not route to the
    peers. The interface on the route to the rendezvous host reaches every peer of a flat
    cluster network; an explicit ``gloo_interface`` or ``GLOO_SOCKET_IFNAME`` wins.
    """
    rendezvous = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
    own_address = address_towards(os.environ.get("MASTER_ADDR", "127.0.0.1"))
    if gloo_interface:
        os.environ["GLOO_SOCKET_IFNAME"] = gloo_interface
    elif backend == "gloo" and sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", interface_with_address(own_address))
    where = (
        f"rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']} on host "
        f"{socket.gethostname()} ({own_address}, interface "
        f"{os.environ.get('GLOO_SOCKET_IFNAME', 'default')}) talks to rendezvous {rendezvous}"
    )
    log.info("%s", where)
    try:
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
        # The timeout above bounds the meeting; collectives keep torch's default, so a rank
        # that waits for rank 0's checkpoint or evaluation is not failed after it.
        dist.distributed_c10d._set_pg_timeout(dist.default_pg_timeout)
    except (RuntimeError, dist.DistStoreError) as error:
        raise RendezvousError(
            f"{where}: the ranks did not meet within {timeout_s:.0f} s ({error}). Every rank "
            f"must reach {rendezvous} and the other ranks' hosts; set gloo_interface if "
            "this host has several networks."
        ) from error


def all_sum(values: Sequence[float], device: torch.device) -> list[float]:
    """Element-wise sum of ``values`` over all ranks (float64, so counts stay exact)."""
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor.tolist()


def broadcast_flag(flag: bool, device: torch.device) -> bool:
    """Rank 0's ``flag`` on every rank, so all ranks take the same branch."""
    tensor = torch.tensor([1 if flag else 0], dtype=torch.int64, device=device)
    dist.broadcast(tensor, src=0)
    return bool(tensor.item())


def barrier() -> None:
    dist.barrier()
