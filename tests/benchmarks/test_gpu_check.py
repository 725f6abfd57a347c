"""``make gpu-check`` on a machine without CUDA: a clear refusal, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import gpu_check
from energy_forecast.training.device import cuda_device_count

pytestmark = pytest.mark.skipif(cuda_device_count() > 0, reason="this machine has CUDA")


def test_without_cuda_the_gpu_check_refuses_before_it_reads_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.csv"

    with pytest.raises(SystemExit) as stopped:
        gpu_check.main(["--csv", str(missing)])

    assert str(stopped.value.code).startswith("no CUDA device: this check needs a GPU")


def test_with_allow_cpu_the_gpu_check_goes_on_to_look_for_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such.csv"

    with pytest.raises(SystemExit, match=r"no-such\.csv not found: pass --csv"):
        gpu_check.main(["--csv", str(missing), "--allow-cpu"])
