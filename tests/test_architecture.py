"""The package's folders are its architecture: layers that import downwards only."""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tests import import_graph as g

_DOCS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def test_the_imports_between_modules_have_no_cycle() -> None:
    try:
        list(TopologicalSorter(g.import_graph()).static_order())
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    upward = [
        f"{module} (layer {g.layer_of(module)}) imports {name} (layer {g.layer_of(name)})"
        for module, imported in g.import_graph().items()
        if module != g.PACKAGE
        for name in imported
        if g.layer_of(name) > g.layer_of(module)
    ]
    assert upward == []


def test_only_the_orchestration_layer_imports_airflow() -> None:
    importers = sorted(
        name
        for name, path in g.package_modules().items()
        if any(imported.split(".")[0] == "airflow" for imported in g.imported_names(path))
    )
    assert importers, "the orchestration layer should import airflow"
    assert [name for name in importers if g.unit_of(name) != "orchestration"] == []


def test_the_package_root_holds_at_most_six_modules_of_shared_vocabulary() -> None:
    root_modules = sorted(path.name for path in g.PACKAGE_DIR.glob("*.py"))
    assert len(root_modules) <= 6, root_modules
    assert {Path(name).stem for name in root_modules} - {"__init__"} <= set(g.LAYERS[0])


def test_every_folder_of_the_package_has_a_layer() -> None:
    folders = {path.parent.name for path in g.PACKAGE_DIR.glob("*/__init__.py")}
    layered = {unit for units in g.LAYERS for unit in units}
    assert folders - layered == set()


def test_the_architecture_page_shows_the_imports_as_they_are() -> None:
    assert _DOCS_PAGE.read_text() == g.architecture_page(), (
        "docs/architecture.md is stale: python -m tests.import_graph > docs/architecture.md"
    )
