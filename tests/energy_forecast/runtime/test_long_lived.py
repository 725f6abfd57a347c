import gc
import weakref

import pytest

from energy_forecast.runtime.long_lived import freezes_survivors


class _Node:
    """A container the collector tracks and a weak reference can watch."""

    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture(autouse=True)
def _unfreeze():
    yield
    gc.unfreeze()


def _seen_by_collector(thing: object) -> bool:
    return any(tracked is thing for tracked in gc.get_objects())


def test_what_a_stage_leaves_alive_is_out_of_the_collectors_sight():
    kept: list[_Node] = []

    @freezes_survivors
    def stage() -> None:
        kept.append(_Node())

    frozen_before = gc.get_freeze_count()
    stage()

    assert not _seen_by_collector(kept[0])
    assert gc.get_freeze_count() > frozen_before


def test_a_reference_cycle_the_stage_dropped_is_collected_not_frozen():
    watched: list[weakref.ref] = []

    @freezes_survivors
    def stage() -> None:
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        watched.append(weakref.ref(first))

    stage()

    assert watched[0]() is None


def test_the_stage_result_comes_back():
    @freezes_survivors
    def stage(value: int) -> dict[str, int]:
        return {"value": value}

    assert stage(3) == {"value": 3}
    assert stage.__name__ == "stage"


def test_a_failing_stage_freezes_nothing_and_its_error_propagates():
    @freezes_survivors
    def stage() -> None:
        raise ValueError("no rows")

    frozen_before = gc.get_freeze_count()
    with pytest.raises(ValueError, match="no rows"):
        stage()
    assert gc.get_freeze_count() == frozen_before
