"""A class-data-sharing archive of what a Spark driver JVM loads, built once per machine.

Before its first job a Spark driver loads thousands of classes from 200-odd jars, and it
does that in every spark-submit and every local session: most of this pipeline's fixed
cost on a small data set. With the JDK's application class-data sharing
(``-XX:SharedArchiveFile``) those classes are mapped from one prepared file instead. On the
2-core development machine a local session started in 2.6 s instead of 4.3 s, and the
features application on the real file ran in 16 s instead of 20 s.

The archive belongs to one JDK build and one set of Spark jars, so it is built where it
is used: ``make install`` and the Docker image run
``python -m energy_forecast.features.archive_classes``, which runs the features application
once on a small synthetic data set with ``-XX:ArchiveClassesAtExit``. Drivers use it only
when the file exists, and a JVM that finds it made by another JDK or for other jars ignores
it and loads classes as before.
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Inside the environment whose pyspark jars it archives.
ARCHIVE = Path(sys.prefix) / "share" / "energy-forecast" / "spark-driver.jsa"


def java_options(archive: Path | None = None) -> str:
    """The driver JVM option that maps the archive, or nothing when there is none."""
    archive = archive or ARCHIVE
    return f"-XX:SharedArchiveFile={archive}" if archive.is_file() else ""
