"""A class-data-sharing archive of what a Spark driver JVM loads, built once per machine.

Before its first job a Spark driver loads thousands of classes from 200-odd jars, and it
does that in every spark-submit and every local session: most of this pipeline's fixed
cost on a small data set. With the JDK's application class-data sharing
(``-XX:SharedArchiveFile``) those classes are mapped from one prepared file instead. On the
2-core development machine a local session started in 2.6 s instead of 4.3 s, and the
features application on the real file ran in 16 s instead of 20 s.

The archive belongs to one JDK build and one set of Spark jars, so it is built where it
is used: ``make install`` and the Docker image run ``python -m energy_forecast.jvm_archive``,
which runs the features application once on a small synthetic data set with
``-XX:ArchiveClassesAtExit``. Drivers use it only when the file exists, and a JVM that finds
it made by another JDK or for other jars ignores it and loads classes as before.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

#: Inside the environment whose pyspark jars it archives.
ARCHIVE = Path(sys.prefix) / "share" / "energy-forecast" / "spark-driver.jsa"
#: Shaped like the real file (a week of days), small enough to build in half a minute.
_HOUSEHOLDS, _DAYS = 200, 7


def java_options(archive: Path | None = None) -> str:
    """The driver JVM option that maps the archive, or nothing when there is none."""
    archive = archive or ARCHIVE
    return f"-XX:SharedArchiveFile={archive}" if archive.is_file() else ""


def build(archive: Path | None = None) -> Path:
    """Run the features application once with ``-XX:ArchiveClassesAtExit``; the archive
    replaces ``archive`` (default :data:`ARCHIVE`) only when complete."""
    archive = archive or ARCHIVE
    from energy_forecast.features import app
    from energy_forecast.ingest.stage import run_download
    from energy_forecast.paths import RunLayout
    from energy_forecast.settings import IngestSettings
    from energy_forecast.spark import configure_environment, driver_conf

    archive.parent.mkdir(parents=True, exist_ok=True)
    configure_environment()
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
            "local[2]",
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
