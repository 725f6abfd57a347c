"""Whether LSTM training runs on GPUs: a pure decision from what the machine and Spark offer.

``TorchDistributor(use_gpu=True)`` does not look at CUDA itself; it asks Spark which GPUs
it may hand out (pyspark 4.2, ``Distributor._get_num_tasks``):

- ``local_mode=True`` (ranks are subprocesses of the driver): the driver must own GPU
  resources, i.e. ``"gpu" in sparkContext.resources`` (declared with
  ``spark.driver.resource.gpu.amount`` and found by
  ``spark.driver.resource.gpu.discoveryScript``), else ``RuntimeError("GPUs were unable to be
  found on the driver.")``; an amount of 0 is a ``RuntimeError`` too. With more processes
  than GPUs it does not fail: it logs a warning and quietly cuts ``num_processes`` to the
  GPU count, changing the training world. Each rank then gets one of the driver's GPU
  addresses as ``CUDA_VISIBLE_DEVICES``.
- ``local_mode=False`` (barrier tasks on executors): it reads
  ``spark.task.resource.gpu.amount`` as an integer (``int("0.5")`` fails): below 1 is
  ``RuntimeError("... was unset, so gpu usage is unavailable.")``, above 1 needs
  ``num_processes`` to be a multiple of it and runs ``num_processes // amount`` tasks. The
  executors' own ``spark.executor.resource.gpu.amount`` is the cluster's business. On a
  ``local[K]`` master there are no executors with GPUs: Spark's local scheduler offers tasks
  no resources, so with a task GPU amount set no task is scheduled (tried here: a two-task
  barrier job was still waiting after 90 s). There the amount must stay unset.

:func:`plan_device` turns that into one decision: the GPU when Spark can hand it over as
TorchDistributor expects, otherwise the CPU with the reason, so that default Params never
fail; an explicit ``use_gpu=True`` that cannot be honoured is a ``ValueError`` naming the fix.
"""

from __future__ import annotations

import importlib.metadata
import json
import stat
from dataclasses import dataclass, field
from pathlib import Path

DRIVER_GPU_AMOUNT = "spark.driver.resource.gpu.amount"
DRIVER_GPU_DISCOVERY_SCRIPT = "spark.driver.resource.gpu.discoveryScript"
TASK_GPU_AMOUNT = "spark.task.resource.gpu.amount"
EXECUTOR_GPU_AMOUNT = "spark.executor.resource.gpu.amount"
DISCOVERY_SCRIPT_NAME = "gpu_discovery.sh"


@dataclass(frozen=True)
class DevicePlan:
    """Where training runs and why.

    ``driver_conf`` is the Spark configuration the training session must start with (static
    settings: a session that already runs ignores them); empty unless the driver's GPUs
    must be declared.
    """

    use_gpu: bool
    reason: str
    driver_conf: dict[str, str] = field(default_factory=dict)


def plan_device(
    requested: bool | None,
    cuda_devices: int,
    local_mode: bool,
    num_processes: int,
    cluster_gpus_per_task: float | None,
    discovery_script: Path | None,
) -> DevicePlan:
    """Decide CPU or GPU for ``TorchDistributor(num_processes, local_mode, use_gpu)``.

    :param requested: the ``use_gpu`` Param; ``None`` uses GPUs when they can be used.
    :param cuda_devices: CUDA devices this process sees (:func:`cuda_device_count`); only
        read in local mode, where the ranks run on this machine.
    :param local_mode: TorchDistributor's ``local_mode``.
    :param num_processes: training processes (DDP ranks).
    :param cluster_gpus_per_task: the session's ``spark.task.resource.gpu.amount`` (``None``
        when unset); only read when ``local_mode`` is false, where the executors' GPUs count
        and this machine's do not. Local mode can be planned before the session starts (its
        ``driver_conf`` must go into it); barrier mode needs the started session's setting.
    :param discovery_script: from :func:`write_discovery_script`; needed to declare the
        driver's GPUs in local mode.
    :raises ValueError: ``requested`` is true but TorchDistributor could not use GPUs here,
        or the numbers are impossible (``num_processes`` below 1, negative ``cuda_devices``).
    """
    if num_processes < 1:
        raise ValueError(f"num_processes must be at least 1, not {num_processes}")
    if cuda_devices < 0:
        raise ValueError(f"cuda_devices cannot be negative, not {cuda_devices}")
    if requested is False:
        return DevicePlan(False, "use_gpu=false was requested")
    if local_mode:
        return _plan_local(requested, cuda_devices, num_processes, discovery_script)
    return _plan_barrier(requested, num_processes, cluster_gpus_per_task)


def _plan_local(
    requested: bool | None, cuda_devices: int, num_processes: int, discovery_script: Path | None
) -> DevicePlan:
    if cuda_devices == 0:
        return _cpu_or_error(
            requested,
            "no CUDA device is visible to this process",
            "run on a machine with a GPU, or set use_gpu to false",
        )
    if num_processes > cuda_devices:
        return _cpu_or_error(
            requested,
            f"num_processes={num_processes} is more than the {cuda_devices} CUDA device(s) "
            "here, and TorchDistributor runs one process per GPU in local mode (it would cut "
            f"num_processes to {cuda_devices})",
            f"set num_processes to at most {cuda_devices}, or use_gpu to false",
        )
    if discovery_script is None:
        return _cpu_or_error(
            requested,
            "no GPU discovery script was given, so Spark cannot be told about the driver's GPUs",
            "pass the script write_discovery_script() wrote",
        )
    why = "use_gpu=true was requested" if requested else "CUDA is available"
    return DevicePlan(
        True,
        f"{why}: {num_processes} process(es) on {cuda_devices} CUDA device(s), declared to "
        "Spark as the driver's GPUs for TorchDistributor's local mode",
        {
            DRIVER_GPU_AMOUNT: str(cuda_devices),
            DRIVER_GPU_DISCOVERY_SCRIPT: str(discovery_script),
        },
    )


def _plan_barrier(
    requested: bool | None, num_processes: int, gpus_per_task: float | None
) -> DevicePlan:
    fix = (
        f"give the cluster's executors GPUs ({EXECUTOR_GPU_AMOUNT}) and each task whole GPUs "
        f"({TASK_GPU_AMOUNT}=1 for one per training process), use local_mode=true on a GPU "
        "machine, or set use_gpu to false"
    )
    if gpus_per_task is None or gpus_per_task <= 0:
        setting = "is not set" if gpus_per_task is None else f"is {gpus_per_task:g}"
        return _cpu_or_error(
            requested,
            f"the cluster gives Spark tasks no GPU ({TASK_GPU_AMOUNT} {setting}), and "
            "local_mode=false trains in Spark tasks",
            fix,
        )
    if gpus_per_task != int(gpus_per_task):
        return _cpu_or_error(
            requested,
            f"{TASK_GPU_AMOUNT} is {gpus_per_task:g}, and TorchDistributor needs whole GPUs "
            "per task",
            fix,
        )
    per_task = int(gpus_per_task)
    if num_processes % per_task:
        return _cpu_or_error(
            requested,
            f"num_processes={num_processes} is not a multiple of {TASK_GPU_AMOUNT}={per_task}, "
            "as TorchDistributor requires",
            f"set num_processes to a multiple of {per_task}, or use_gpu to false",
        )
    why = "use_gpu=true was requested" if requested else "the cluster offers GPUs"
    return DevicePlan(
        True,
        f"{why}: {num_processes // per_task} barrier task(s) with {per_task} GPU(s) each "
        f"({TASK_GPU_AMOUNT}={per_task})",
    )


def _cpu_or_error(requested: bool | None, problem: str, fix: str) -> DevicePlan:
    if requested:
        raise ValueError(f"use_gpu=true was requested, but {problem}; {fix}")
    return DevicePlan(False, problem)


def write_discovery_script(folder: Path, cuda_devices: int) -> Path:
    """Write an executable Spark GPU discovery script for ``cuda_devices`` GPUs; return it.

    Spark runs it when the driver starts and reads one JSON object from its output:
    ``{"name": "gpu", "addresses": ["0", "1"]}``. The addresses are indexes into the devices
    this process sees, which is how TorchDistributor reads them (indexes into
    ``CUDA_VISIBLE_DEVICES`` when that is set). The file must exist until the session starts.
    """
    if cuda_devices < 1:
        raise ValueError(f"a GPU discovery script needs at least one GPU, not {cuda_devices}")
    resource = {"name": "gpu", "addresses": [str(index) for index in range(cuda_devices)]}
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / DISCOVERY_SCRIPT_NAME
    script.write_text(
        "#!/bin/sh\n"
        "# Spark resource discovery (spark.driver.resource.gpu.discoveryScript), written by\n"
        "# energy_forecast.training.device for the CUDA devices the training task sees.\n"
        f"echo '{json.dumps(resource)}'\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return script


def cuda_device_count() -> int:
    """CUDA devices this process can use; 0 without torch, a CUDA build or a driver.

    A CPU-only torch wheel says so in its version (``2.13.0+cpu``): then the answer is 0
    without importing torch, which the train task's own process otherwise never needs.
    """
    if _torch_version().endswith("+cpu"):
        return 0
    try:
        import torch

        return torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken driver or CUDA install means no usable GPU, not a failure
        return 0


def _torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return ""
