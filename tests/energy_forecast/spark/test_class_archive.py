"""Spark drivers map the machine's class-data archive when there is one, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_forecast.spark import class_archive
from energy_forecast.spark.session import driver_conf

JAVA_OPTIONS = "spark.driver.extraJavaOptions"


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An archive file where install builds one, as this machine's archive."""
    path = tmp_path / "spark-driver.jsa"
    path.write_bytes(b"built by make install")
    monkeypatch.setattr(class_archive, "ARCHIVE", path)
    return path


def test_without_an_archive_drivers_start_with_their_usual_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(class_archive, "ARCHIVE", tmp_path / "absent.jsa")

    assert class_archive.java_options() == ""
    assert "SharedArchiveFile" not in driver_conf()[JAVA_OPTIONS]
    assert "log4j2.configurationFile" in driver_conf()[JAVA_OPTIONS]


def test_an_archive_is_mapped_into_every_driver_beside_the_log_configuration(
    archive: Path,
) -> None:
    options = driver_conf()[JAVA_OPTIONS].split()

    assert f"-XX:SharedArchiveFile={archive}" in options
    assert any(option.startswith("-Dlog4j2.configurationFile=") for option in options)


def test_building_an_archive_starts_from_no_archive(archive: Path) -> None:
    """A JVM cannot dump a new archive while it maps an old one."""
    assert "SharedArchiveFile" not in driver_conf(class_archive=False)[JAVA_OPTIONS]
