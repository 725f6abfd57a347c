"""GPU or CPU for TorchDistributor: default Params never fail, explicit requests that cannot
be honoured say why, and a GPU plan declares the driver's GPUs the way Spark needs them."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from energy_forecast.training.device import (
    DRIVER_GPU_AMOUNT,
    DRIVER_GPU_DISCOVERY_SCRIPT,
    DevicePlan,
    cuda_device_count,
    plan_device,
    write_discovery_script,
)

SCRIPT = Path("/run/gpu_discovery.sh")
LOCAL, BARRIER = True, False
AUTO = None

PLANS = [
    # (requested, CUDA devices, local_mode, processes, GPUs per task, use_gpu, reason says)
    (False, 2, LOCAL, 2, None, False, "use_gpu=false was requested"),
    (False, 2, BARRIER, 2, 1, False, "use_gpu=false was requested"),
    (AUTO, 0, LOCAL, 1, None, False, "no CUDA device"),
    (AUTO, 0, LOCAL, 2, None, False, "no CUDA device"),
    (AUTO, 1, LOCAL, 1, None, True, "CUDA is available: 1 process(es) on 1 CUDA device(s)"),
    (AUTO, 2, LOCAL, 1, None, True, "1 process(es) on 2 CUDA device(s)"),
    (AUTO, 2, LOCAL, 2, None, True, "2 process(es) on 2 CUDA device(s)"),
    (AUTO, 1, LOCAL, 2, None, False, "num_processes=2 is more than the 1 CUDA device(s)"),
    (AUTO, 2, LOCAL, 4, None, False, "TorchDistributor runs one process per GPU"),
    (True, 1, LOCAL, 1, None, True, "use_gpu=true was requested: 1 process(es) on 1"),
    (True, 2, LOCAL, 2, None, True, "use_gpu=true was requested: 2 process(es) on 2"),
    (AUTO, 0, BARRIER, 2, None, False, "spark.task.resource.gpu.amount is not set"),
    (AUTO, 2, BARRIER, 2, None, False, "the cluster gives Spark tasks no GPU"),
    (AUTO, 2, BARRIER, 2, 0, False, "spark.task.resource.gpu.amount is 0"),
    (AUTO, 0, BARRIER, 2, 0.5, False, "is 0.5, and TorchDistributor needs whole GPUs"),
    (AUTO, 0, BARRIER, 4, 1, True, "the cluster offers GPUs: 4 barrier task(s) with 1 GPU(s)"),
    (AUTO, 0, BARRIER, 4, 2, True, "2 barrier task(s) with 2 GPU(s) each"),
    (AUTO, 2, BARRIER, 1, 2, False, "num_processes=1 is not a multiple of"),
    (True, 0, BARRIER, 2, 1, True, "use_gpu=true was requested: 2 barrier task(s)"),
]


@pytest.mark.parametrize(
    ("requested", "cuda", "local_mode", "processes", "per_task", "use_gpu", "reason"),
    PLANS,
    ids=[
        f"{'local' if p[2] else 'barrier'}-requested={p[0]}-cuda={p[1]}-procs={p[3]}"
        f"-per_task={p[4]}"
        for p in PLANS
    ],
)
def test_the_plan_and_its_reason(
    requested: bool | None,
    cuda: int,
    local_mode: bool,
    processes: int,
    per_task: float | None,
    use_gpu: bool,
    reason: str,
) -> None:
    plan = plan_device(requested, cuda, local_mode, processes, per_task, SCRIPT)

    assert plan.use_gpu is use_gpu
    assert reason in plan.reason


EXPLICIT_FAILURES = [
    # (CUDA devices, local_mode, processes, GPUs per task, discovery script, error names)
    (0, LOCAL, 1, None, SCRIPT, ["no CUDA device", "use_gpu to false"]),
    (1, LOCAL, 2, None, SCRIPT, ["num_processes=2", "1 CUDA device(s)", "at most 1"]),
    (2, LOCAL, 4, None, SCRIPT, ["num_processes=4", "2 CUDA device(s)", "at most 2"]),
    (2, LOCAL, 2, None, None, ["no GPU discovery script", "write_discovery_script()"]),
    (2, BARRIER, 2, None, None, ["spark.task.resource.gpu.amount is not set", "executors"]),
    (2, BARRIER, 2, 0.5, None, ["is 0.5", "whole GPUs", "spark.task.resource.gpu.amount=1"]),
    (0, BARRIER, 3, 2, None, ["num_processes=3", "multiple of 2"]),
]


@pytest.mark.parametrize(
    ("cuda", "local_mode", "processes", "per_task", "script", "names"),
    EXPLICIT_FAILURES,
    ids=[
        f"{'local' if f[1] else 'barrier'}-cuda={f[0]}-procs={f[2]}-per_task={f[3]}"
        f"-script={f[4] is not None}"
        for f in EXPLICIT_FAILURES
    ],
)
def test_an_explicit_gpu_request_that_cannot_be_honoured_names_the_numbers_and_the_fix(
    cuda: int,
    local_mode: bool,
    processes: int,
    per_task: float | None,
    script: Path | None,
    names: list[str],
) -> None:
    with pytest.raises(ValueError, match="use_gpu=true was requested, but") as error:
        plan_device(True, cuda, local_mode, processes, per_task, script)

    for name in names:
        assert name in str(error.value)


def _honourable(cuda: int, local_mode: bool, processes: int, per_task: float | None) -> bool:
    try:
        plan_device(True, cuda, local_mode, processes, per_task, SCRIPT)
    except ValueError as error:
        assert str(error).startswith("use_gpu=true was requested, but ")
        return False
    return True


@pytest.mark.parametrize(
    ("cuda", "local_mode", "processes", "per_task"),
    list(itertools.product([0, 1, 2], [LOCAL, BARRIER], [1, 2, 4], [None, 0.5, 1, 2])),
    ids=lambda v: ("local" if v else "barrier") if isinstance(v, bool) else repr(v),
)
def test_auto_never_fails_and_uses_the_gpu_exactly_when_an_explicit_request_would_work(
    cuda: int, local_mode: bool, processes: int, per_task: float | None
) -> None:
    auto = plan_device(None, cuda, local_mode, processes, per_task, SCRIPT)
    declined = plan_device(False, cuda, local_mode, processes, per_task, SCRIPT)

    assert auto.use_gpu is _honourable(cuda, local_mode, processes, per_task)
    assert auto.reason
    assert declined == DevicePlan(False, "use_gpu=false was requested")
    if auto.use_gpu and local_mode:
        # One GPU per process, all of this machine's GPUs declared to Spark's driver.
        assert processes <= cuda
        assert auto.driver_conf == {
            DRIVER_GPU_AMOUNT: str(cuda),
            DRIVER_GPU_DISCOVERY_SCRIPT: str(SCRIPT),
        }
    elif auto.use_gpu:
        # Whole GPUs per barrier task, dividing the processes; the cluster declares them.
        assert per_task is not None and per_task == int(per_task) >= 1
        assert processes % int(per_task) == 0
        assert auto.driver_conf == {}
    else:
        assert auto.driver_conf == {}


def test_without_a_discovery_script_auto_falls_back_to_cpu_and_says_why() -> None:
    plan = plan_device(None, 2, LOCAL, 2, None, None)

    assert plan == DevicePlan(
        False, "no GPU discovery script was given, so Spark cannot be told about the driver's GPUs"
    )


@pytest.mark.parametrize(
    ("processes", "cuda", "message"),
    [
        (0, 1, "num_processes must be at least 1, not 0"),
        (1, -1, "cuda_devices cannot be negative, not -1"),
    ],
)
def test_impossible_numbers_are_errors_even_on_auto(
    processes: int, cuda: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        plan_device(None, cuda, LOCAL, processes, None, SCRIPT)


@pytest.mark.parametrize("cuda", [1, 2, 4])
def test_the_discovery_script_prints_sparks_resource_json_for_each_device(
    tmp_path: Path, cuda: int
) -> None:
    script = write_discovery_script(tmp_path / "spark", cuda)

    assert os.access(script, os.X_OK)
    output = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == {"name": "gpu", "addresses": [str(i) for i in range(cuda)]}


def test_a_discovery_script_needs_a_gpu(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one GPU, not 0"):
        write_discovery_script(tmp_path, 0)


def test_cuda_device_count_is_what_torch_sees() -> None:
    import torch

    expected = torch.cuda.device_count() if torch.cuda.is_available() else 0
    assert cuda_device_count() == expected


@pytest.mark.spark
def test_without_the_driver_conf_torchdistributor_refuses_gpus_on_the_driver(spark) -> None:
    from pyspark.ml.torch.distributor import TorchDistributor

    with pytest.raises(RuntimeError, match="GPUs were unable to be found on the driver"):
        TorchDistributor(num_processes=1, local_mode=True, use_gpu=True)


@pytest.mark.spark
def test_a_gpu_plans_driver_conf_passes_torchdistributors_local_mode_checks(
    tmp_path: Path,
) -> None:
    # No GPU is needed: Spark believes the discovery script. A fresh process, because the
    # driver's resources are fixed when its session starts.
    script = write_discovery_script(tmp_path, 2)
    plan = plan_device(None, 2, LOCAL, 2, None, script)
    check = textwrap.dedent(
        f"""
        import json
        from pyspark.ml.torch.distributor import TorchDistributor, _get_gpus_owned
        from energy_forecast.spark.session import get_session

        spark = get_session("device-test", master="local[1]", conf={plan.driver_conf!r})
        distributor = TorchDistributor(num_processes=2, local_mode=True, use_gpu=True)
        print(json.dumps([distributor.num_processes, _get_gpus_owned(spark)]))
        spark.stop()
        """
    )
    environment = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}

    result = subprocess.run(
        [sys.executable, "-c", check],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [2, ["0", "1"]]
