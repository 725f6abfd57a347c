"""Streaming and sharding: each training row once per epoch, the same batch count per rank."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
import torch
from torch.utils.data import DataLoader

from energy_forecast import columns as C
from energy_forecast.features.arrays import RowGroup, list_row_groups
from energy_forecast.training.dataset import Batch, TrainBatches, eval_batches
from energy_forecast.training.sharding import rank_row_groups
from tests.feature_files import SAMPLE_SHAPE, UNEVEN_LAYOUT, sample_table, write_split

SHAPE, LAYOUT = SAMPLE_SHAPE, UNEVEN_LAYOUT
ROWS = sum(map(sum, LAYOUT))


def _numbered(rows: int) -> pa.Table:
    """Sample rows whose target is the row number, so a batch says which rows it holds."""
    table = sample_table(rows, "train")
    return table.set_column(
        table.schema.get_field_index(C.TARGET), C.TARGET, pa.array(np.arange(rows, dtype=float))
    )


@pytest.fixture(scope="module")
def numbered_split(tmp_path_factory: pytest.TempPathFactory) -> list[RowGroup]:
    folder = write_split(tmp_path_factory.mktemp("train"), _numbered(ROWS), LAYOUT)
    return list_row_groups(folder)


def _rank_batches(groups: list[RowGroup], rank: int, epoch: int, batch_size: int) -> list[Batch]:
    data = TrainBatches(groups, SHAPE, batch_size, rank=rank, world_size=2, num_workers=2, seed=7)
    data.set_epoch(epoch)
    return list(DataLoader(data, batch_size=None, num_workers=2))


def test_two_ranks_with_two_workers_read_every_row_exactly_once_in_equal_batch_counts(
    numbered_split: list[RowGroup],
) -> None:
    per_rank = [_rank_batches(numbered_split, rank, epoch=1, batch_size=16) for rank in (0, 1)]

    seen = Counter(int(t) for batches in per_rank for b in batches for t in b.target)
    assert seen == Counter(range(ROWS))
    assert len(per_rank[0]) == len(per_rank[1])
    sizes = [len(b.target) for batches in per_rank for b in batches]
    assert max(sizes) <= 16


def test_batches_carry_model_ready_float_tensors(numbered_split: list[RowGroup]) -> None:
    batch = next(iter(_rank_batches(numbered_split, 0, epoch=0, batch_size=8)))

    assert batch.sequence.shape[1:] == (7, 3)
    assert batch.mask.shape[1:] == (7,)
    assert batch.static.shape[1:] == (3,)
    assert {t.dtype for t in batch} == {torch.float32}


def test_each_epoch_deals_and_orders_rows_differently(numbered_split: list[RowGroup]) -> None:
    def order(epoch: int) -> list[int]:
        return [int(t) for b in _rank_batches(numbered_split, 0, epoch, 16) for t in b.target]

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_fewer_row_groups_than_shards_is_refused_with_a_hint(
    numbered_split: list[RowGroup],
) -> None:
    with pytest.raises(ValueError, match="smaller row groups"):
        TrainBatches(numbered_split[:3], SHAPE, 16, rank=0, world_size=2, num_workers=2)


def test_evaluation_reads_a_rank_share_in_file_order_without_shuffling(
    numbered_split: list[RowGroup],
) -> None:
    shares = [rank_row_groups(numbered_split, rank, 2) for rank in (0, 1)]
    read = [
        [int(t) for b in eval_batches(share, SHAPE, batch_size=16) for t in b.target]
        for share in shares
    ]

    assert all(r == sorted(r) for r in read)
    assert sorted(read[0] + read[1]) == list(range(ROWS))
    assert all(len(b.target) <= 16 for b in eval_batches(numbered_split, SHAPE, 16))


def test_evaluation_allows_more_ranks_than_row_groups(numbered_split: list[RowGroup]) -> None:
    shares = [rank_row_groups(numbered_split[:1], rank, 2) for rank in (0, 1)]

    assert sorted(len(s) for s in shares) == [0, 1]


def test_row_groups_are_decoded_once_while_they_fit_in_the_budget(
    numbered_split: list[RowGroup],
) -> None:
    from energy_forecast.training.dataset import DecodedRowGroups

    roomy, full = DecodedRowGroups(budget_bytes=2**30), DecodedRowGroups(budget_bytes=0)
    first, second = numbered_split[0], numbered_split[1]

    assert roomy.get(first, SHAPE) is roomy.get(first, SHAPE)
    assert roomy.cached_bytes == sum(a.nbytes for a in roomy.get(first, SHAPE).values())
    assert full.get(second, SHAPE) is not full.get(second, SHAPE)
    assert full.cached_bytes == 0
    np.testing.assert_array_equal(full.get(second, SHAPE)["target"], np.arange(50, 63))
