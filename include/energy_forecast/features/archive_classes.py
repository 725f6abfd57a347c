"""Build the Spark drivers' class-data archive.

    python -m energy_forecast.features.archive_classes

It runs the features application once, on a small synthetic data set, in a driver started
with ``-XX:ArchiveClassesAtExit``, so the archive holds what this pipeline's drivers load
(see :mod:`energy_forecast.spark.class_archive` for why and how drivers use it).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from energy_forecast.spark.class_archive import ARCHIVE

log = logging.getLogger(__name__)

#: Shaped like the real file (a week of days), small enough to build in half a minute.
_HOUSEHOLDS, _DAYS = 200, 7
_MASTER = "local[2]"


def build(archive: Path | None = None) -> Path:
    """Run the features application once with ``-XX:ArchiveClassesAtExit``; the archive
    replaces ``archive`` (default :data:`ARCHIVE`) only when complete."""
    archive = archive or ARCHIVE
    from energy_forecast.features import app
    from energy_forecast.ingest.download import run_download
    from energy_forecast.paths import RunLayout
    from energy_forecast.settings import IngestSettings
    from energy_forecast.spark.session import configure_environment, driver_conf

    archive.parent.mkdir(parents=True, exist_ok=True)
    configure_environment(_MASTER)
    with tempfile.TemporaryDirectory(prefix="jvm-archive-") as tmp:
        layout = RunLayout(Path(tmp) / "run")
        settings = IngestSettings(
            source="synthetic", synthetic_households=_HOUSEHOLDS, synthetic_days=_DAYS
        )
        validated = run_download(settings, layout)["validated"]
        staged = Path(tmp) / archive.name
        conf = driver_conf(class_archive=False)
        conf["spark.driver.extraJavaOptions"] += f" -XX:ArchiveClassesAtExit={staged}"
        command = [
            str(Path(sys.executable).with_name("spark-submit")),
            "--master",
            _MASTER,
            *(item for key, value in conf.items() for item in ("--conf", f"{key}={value}")),
            app.__file__,
            "--validated",
            validated,
            "--output-dir",
            str(Path(tmp) / "features"),
        ]
        subprocess.run(command, check=True, capture_output=True, text=True)
        os.replace(staged, archive)
    return archive


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        path = build()
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or ""
        # An optimisation, not a dependency: drivers start without it, only slower.
        log.warning("no Spark class-data archive built (%s)\n%s", error, detail[-2000:])
        return
    log.info("Spark drivers will map %s (%.0f MB)", path, path.stat().st_size / 2**20)


if __name__ == "__main__":
    main()
