"""Stream feature Parquet into ready tensor batches, one row group at a time.

Memory stays bounded by one row group plus one batch whatever the split's size: the
training set is never loaded whole. Training data is sharded by *row group* over
``world_size x num_workers`` shards (DDP ranks x DataLoader workers) so that

* every training row is read exactly once per epoch, by exactly one shard;
* every shard yields the same number of batches, so every rank takes the same number of
  optimizer steps and no rank waits forever in an all-reduce the others never join;
* the assignment and the order of row groups change each epoch (seeded by ``seed + epoch``)
  and rows are shuffled within a shard, so batches differ from epoch to epoch.

Validation, test and prediction reading keeps file order and never shuffles.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from energy_forecast.feature_arrays import (
    MODEL_COLUMNS,
    FeatureShape,
    RowGroup,
    decode,
    read_row_group,
)

log = logging.getLogger(__name__)


class Batch(NamedTuple):
    """Model inputs and scaled target of a batch, as float32 tensors."""

    sequence: torch.Tensor  # [rows, sequence_length, sequence_features]
    mask: torch.Tensor  # [rows, sequence_length]
    static: torch.Tensor  # [rows, static_features]
    target: torch.Tensor  # [rows]

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self))


def assign_row_groups(
    groups: Sequence[RowGroup], num_shards: int, rng: np.random.Generator | None = None
) -> list[list[RowGroup]]:
    """Deal row groups to ``num_shards`` shards, balancing their row counts.

    Largest group first to the least loaded shard (ties: lowest shard index). With ``rng``
    the groups are shuffled first, so equal-sized groups land on different shards and in a
    different order each epoch; the result depends only on the inputs, so every rank and
    worker computing it gets the same assignment.
    """
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    order = list(groups)
    if rng is not None:
        order = [order[i] for i in rng.permutation(len(order))]
    order.sort(key=lambda g: -g.rows)  # stable: equal sizes keep the shuffled order
    shards: list[list[RowGroup]] = [[] for _ in range(num_shards)]
    loads = [0] * num_shards
    for group in order:
        target = min(range(num_shards), key=lambda s: (loads[s], s))
        shards[target].append(group)
        loads[target] += group.rows
    return shards


def split_evenly(rows: int, parts: int) -> list[int]:
    """``parts`` sizes adding up to ``rows`` that differ by at most one, larger first."""
    base, extra = divmod(rows, parts)
    return [base + 1] * extra + [base] * (parts - extra)


def batches_per_shard(shard_rows: Sequence[int], batch_size: int) -> int:
    """How many batches each shard yields so that all yield the same number.

    Enough for the largest shard to keep batches within ``batch_size``; if the smallest shard
    has fewer rows than that, the smallest shard's row count wins (a batch may then exceed
    ``batch_size`` in larger shards) and a warning suggests smaller row groups.
    """
    if min(shard_rows) < 1:
        raise ValueError(
            f"{len(shard_rows)} training shards (ranks x loader workers) but only "
            f"{sum(1 for r in shard_rows if r)} received rows: write the training split "
            "with more, smaller row groups (FeatureSettings.rows_per_row_group) or use "
            "fewer processes or loader workers"
        )
    wanted = math.ceil(max(shard_rows) / batch_size)
    if min(shard_rows) < wanted:
        log.warning(
            "training shards are unbalanced (%d to %d rows): batches of up to %d rows instead "
            "of %d; write smaller row groups to fix this",
            min(shard_rows),
            max(shard_rows),
            math.ceil(max(shard_rows) / min(shard_rows)),
            batch_size,
        )
        return min(shard_rows)
    return wanted


def check_shardable(row_groups: int, world_size: int, num_workers: int) -> None:
    """Raise if the training split has fewer row groups than shards to deal them to."""
    shards = world_size * max(1, num_workers)
    if row_groups < shards:
        raise ValueError(
            f"the training split has {row_groups} row groups but needs at least {shards} "
            f"({world_size} processes x {max(1, num_workers)} loader workers): write it with "
            "smaller row groups (FeatureSettings.rows_per_row_group) or use fewer processes "
            "or loader workers"
        )


def to_batch(arrays: dict[str, np.ndarray]) -> Batch:
    return Batch(*(torch.from_numpy(np.ascontiguousarray(arrays[k])) for k in Batch._fields))


def _take(arrays: dict[str, np.ndarray], index: np.ndarray | slice) -> dict[str, np.ndarray]:
    return {k: v[index] for k, v in arrays.items()}


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([a[k], b[k]]) for k in a}


class TrainBatches(IterableDataset):
    """Shuffled, sharded training batches for one DDP rank; use ``DataLoader(batch_size=None)``.

    Each of the rank's ``num_workers`` DataLoader workers (or the rank itself when 0) reads one
    shard. Call :meth:`set_epoch` before iterating, as with ``DistributedSampler``.
    """

    def __init__(
        self,
        groups: Sequence[RowGroup],
        shape: FeatureShape,
        batch_size: int,
        *,
        rank: int = 0,
        world_size: int = 1,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of {world_size}")
        self.groups = list(groups)
        self.shape = shape
        self.batch_size = batch_size
        self.rank = rank
        self.world_size = world_size
        self.workers = max(1, num_workers)
        self.seed = seed
        self.epoch = 0
        self.num_shards = world_size * self.workers
        check_shardable(len(self.groups), world_size, num_workers)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _shards(self) -> list[list[RowGroup]]:
        return assign_row_groups(
            self.groups, self.num_shards, np.random.default_rng([self.seed, self.epoch])
        )

    def batches_per_rank(self) -> int:
        """Batches this rank yields in the current epoch: the same on every rank."""
        shards = self._shards()
        return self.workers * batches_per_shard(
            [sum(g.rows for g in s) for s in shards], self.batch_size
        )

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        worker = 0 if info is None else info.id
        if (1 if info is None else info.num_workers) != self.workers:
            raise RuntimeError(
                f"TrainBatches was built for {self.workers} loader workers but runs with "
                f"{1 if info is None else info.num_workers}"
            )
        shards = self._shards()
        shard = self.rank * self.workers + worker
        count = batches_per_shard([sum(g.rows for g in s) for s in shards], self.batch_size)
        rng = np.random.default_rng([self.seed, self.epoch, shard])
        yield from _shuffled_batches(shards[shard], self.shape, count, rng)


#: Decoded row groups a training process keeps between epochs, at most. The real file's
#: training and validation splits take about 10 MB; at 100x they do not fit, and the
#: groups past the budget are read from Parquet each epoch as before.
DECODED_CACHE_BYTES = 256 * 2**20


class DecodedRowGroups:
    """Row groups decoded once and kept while they fit in ``budget_bytes``; the rest are
    read and decoded at every use. Epochs reread every row group, and reading and decoding
    cost about a third as much as the LSTM's steps on the real file. The arrays handed out
    are shared: callers copy before changing them (taking rows does)."""

    def __init__(self, budget_bytes: int = DECODED_CACHE_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self.cached_bytes = 0
        self._arrays: dict[tuple[str, int], dict[str, np.ndarray]] = {}

    def get(self, group: RowGroup, shape: FeatureShape) -> dict[str, np.ndarray]:
        key = (group.path, group.index)
        arrays = self._arrays.get(key)
        if arrays is None:
            arrays = decode(read_row_group(group, MODEL_COLUMNS), shape)
            size = sum(values.nbytes for values in arrays.values())
            if self.cached_bytes + size <= self.budget_bytes:
                self._arrays[key] = arrays
                self.cached_bytes += size
        return arrays


#: One per process: the training ranks and evaluation share it.
_decoded = DecodedRowGroups()


def _shuffled_batches(
    groups: Sequence[RowGroup], shape: FeatureShape, count: int, rng: np.random.Generator
) -> Iterator[Batch]:
    """``count`` nearly equal batches from ``groups``, read one row group at a time."""
    sizes = split_evenly(sum(g.rows for g in groups), count)
    pool: dict[str, np.ndarray] | None = None
    for group in groups:
        arrays = _decoded.get(group, shape)
        pool = arrays if pool is None else _concat(pool, arrays)
        pool = _take(pool, rng.permutation(len(pool["target"])))
        while sizes and len(pool["target"]) >= sizes[0]:
            size = sizes.pop(0)
            yield to_batch(_take(pool, slice(0, size)))
            pool = _take(pool, slice(size, None))


def rank_row_groups(groups: Sequence[RowGroup], rank: int, world_size: int) -> list[RowGroup]:
    """This rank's share of an evaluation split: balanced, file order, possibly empty."""
    share = assign_row_groups(groups, world_size)[rank]
    return sorted(share, key=groups.index)


def eval_batches(
    groups: Sequence[RowGroup], shape: FeatureShape, batch_size: int
) -> Iterator[Batch]:
    """Batches of at most ``batch_size`` rows over ``groups`` in order, unshuffled."""
    for group in groups:
        arrays = _decoded.get(group, shape)
        for start in range(0, group.rows, batch_size):
            yield to_batch(_take(arrays, slice(start, start + batch_size)))
