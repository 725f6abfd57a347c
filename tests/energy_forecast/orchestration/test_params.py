"""The trigger form offers every setting a task reads, and docs/params.md shows the form."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from airflow.sdk import Param

from energy_forecast import settings
from energy_forecast.orchestration import params_doc

PROJECT_ROOT = Path(__file__).resolve().parents[3]
DAGS_FOLDER = PROJECT_ROOT / "dags"
PARAMS_PAGE = PROJECT_ROOT / "docs" / "params.md"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    assert bag.import_errors == {}
    return bag.dags["energy_forecast"]


def _settings_types() -> list[type]:
    """Every settings class a task builds with ``from_params``, however deep it inherits."""
    found, pending = [], list(settings._FromParams.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


def test_the_params_page_is_what_the_generator_prints_now() -> None:
    assert PARAMS_PAGE.read_text() == params_doc.params_page(), (
        f"docs/params.md is stale: .venv/bin/{params_doc.COMMAND}"
    )


def test_every_setting_a_task_reads_from_params_is_a_titled_param_in_a_form_section(dag) -> None:
    read = {
        f"{cls.__name__}.{field.name}": field.name
        for cls in _settings_types()
        for field in dataclasses.fields(cls)
    }
    assert read, "found no settings class built from params"

    missing = sorted(where for where, name in read.items() if name not in dag.params)
    untitled = sorted(
        where
        for where, name in read.items()
        if name in dag.params
        and not (
            dag.params.get_param(name).schema.get("title")
            and dag.params.get_param(name).schema.get("section")
        )
    )

    assert missing == [], "read by from_params but not a Param of the DAG"
    assert untitled == [], "a Param without a title or a section"


def test_a_pipe_or_line_break_in_a_description_stays_inside_its_table_cell() -> None:
    page = params_doc.params_page(
        {
            "mode": Param(
                "a",
                type="string",
                enum=["a", "b"],
                title="Mode",
                section="S",
                description="a | b\nor neither",
            )
        }
    )

    row = next(line for line in page.splitlines() if line.startswith("| `mode`"))
    assert row == r'| `mode` | Mode | string | `"a"` | one of `"a"`, `"b"` | a \| b or neither |'
