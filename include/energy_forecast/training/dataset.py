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

from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from energy_forecast.features.arrays import (
    MODEL_COLUMNS,
    FeatureShape,
    RowGroup,
    decode,
    read_row_group,
)
from energy_forecast.training.sharding import (
    assign_row_groups,
    batches_per_shard,
    check_shardable,
    split_evenly,
)


class Batch(NamedTuple):
    """Model inputs and scaled target of a batch, as float32 tensors."""

    sequence: torch.Tensor  # [rows, sequence_length, sequence_features]
    mask: torch.Tensor  # [rows, sequence_length]
    static: torch.Tensor  # [rows, static_features]
    target: torch.Tensor  # [rows]

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in self))


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


def eval_batches(
    groups: Sequence[RowGroup], shape: FeatureShape, batch_size: int
) -> Iterator[Batch]:
    """Batches of at most ``batch_size`` rows over ``groups`` in order, unshuffled."""
    for group in groups:
        arrays = _decoded.get(group, shape)
        for start in range(0, group.rows, batch_size):
            yield to_batch(_take(arrays, slice(start, start + batch_size)))
