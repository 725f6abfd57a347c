"""DAG integrity: every DAG file parses without connections and follows the house rules."""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(DAGS_FOLDER.glob("*.py"))


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def _dags_of(dag_bag, file: Path):
    return [dag for dag in dag_bag.dags.values() if Path(dag.fileloc) == file]


def test_every_dag_file_imports_cleanly(dag_bag):
    assert dag_bag.import_errors == {}
    assert DAG_FILES, "no DAG files found"


@pytest.mark.parametrize("file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_defines_a_dag(dag_bag, file):
    assert _dags_of(dag_bag, file)


@pytest.mark.parametrize("file", DAG_FILES, ids=lambda p: p.name)
def test_dags_have_tags_docs_and_retries(dag_bag, file):
    for dag in _dags_of(dag_bag, file):
        assert dag.tags, f"{dag.dag_id} has no tags"
        assert dag.doc_md, f"{dag.dag_id} has no doc_md"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag.dag_id}.{task.task_id} has no retries"
            assert task.retry_delay.total_seconds() > 0


@pytest.mark.parametrize("file", DAG_FILES, ids=lambda p: p.name)
def test_dags_do_not_catch_up_or_overlap(dag_bag, file):
    for dag in _dags_of(dag_bag, file):
        assert dag.catchup is False
        assert dag.max_active_runs == 1


def test_energy_forecast_wires_the_stages_in_order(dag_bag):
    dag = dag_bag.dags["energy_forecast"]
    downstream = {task.task_id: task.downstream_task_ids for task in dag.tasks}

    assert downstream == {
        "download": {"skip_if_unchanged", "check_features", "report", "publish", "forecast"},
        "skip_if_unchanged": {"preprocess"},
        "preprocess": {"check_features"},
        "check_features": {"train", "xgboost", "report", "publish"},
        "train": {"report", "publish"},
        "xgboost": {"report", "publish"},
        "report": {"alert_degraded", "route_promotion", "approve", "publish"},
        "alert_degraded": set(),
        "route_promotion": {"approve", "publish"},
        "approve": {"publish"},
        "publish": {"forecast"},
        "forecast": set(),
    }


def test_publish_announces_the_champion_asset(dag_bag):
    publish = dag_bag.dags["energy_forecast"].get_task("publish")

    assert [asset.name for asset in publish.outlets] == ["energy_forecast_champion"]


def test_forecast_runs_whether_the_champion_was_replaced_or_kept(dag_bag):
    forecast = dag_bag.dags["energy_forecast"].get_task("forecast")

    assert forecast.trigger_rule == "none_failed"  # publish is skipped when the champion stays
    assert [asset.name for asset in forecast.outlets] == ["energy_forecast_forecasts"]


def test_every_param_has_a_title_a_description_and_a_type(dag_bag):
    dag = dag_bag.dags["energy_forecast"]
    for name in dag.params:
        param = dag.params.get_param(name)
        assert param.schema.get("title"), f"param {name} has no title"
        assert param.description, f"param {name} has no description"
        assert param.schema.get("type"), f"param {name} has no type"


@pytest.mark.parametrize(
    ("name", "bad_value"),
    [
        ("source", "ftp"),
        ("sequence_length", 0),
        ("test_days", 0),
        ("max_quarantine_fraction", 1.5),
    ],
)
def test_params_reject_values_outside_their_schema(dag_bag, name, bad_value):
    from airflow.sdk.definitions.param import ParamValidationError

    param = dag_bag.dags["energy_forecast"].params.get_param(name)
    with pytest.raises(ParamValidationError):
        param.resolve(bad_value)


def test_default_params_pass_their_own_schema(dag_bag):
    dag = dag_bag.dags["energy_forecast"]
    dag.params.validate()


@pytest.mark.parametrize("file", DAG_FILES, ids=lambda p: p.name)
def test_every_task_has_an_execution_timeout(dag_bag, file):
    """A task waiting for a person is bounded by its response timeout instead (Airflow's
    human-in-the-loop operators clear ``execution_timeout`` so it cannot race the wait)."""
    for dag in _dags_of(dag_bag, file):
        for task in dag.tasks:
            timeout = task.execution_timeout or getattr(task, "response_timeout", None)
            assert timeout, f"{dag.dag_id}.{task.task_id} has no timeout"


def test_the_train_timeout_follows_the_runs_params(dag_bag):
    from energy_forecast.orchestration.spark_submit import apply_train_timeout

    train = dag_bag.dags["energy_forecast"].get_task("train")
    assert train._pre_execute_hook is apply_train_timeout  # Airflow calls it before the timeout
    short = {"epochs": 5, "epoch_timeout_minutes": 1.0}
    long = {"epochs": 100, "epoch_timeout_minutes": 3.0}

    apply_train_timeout({"task": train, "params": short})
    short_timeout = train.execution_timeout
    apply_train_timeout({"task": train, "params": long})

    assert short_timeout.total_seconds() == (10 + 5 * 1.0) * 60
    assert train.execution_timeout.total_seconds() == (10 + 100 * 3.0) * 60


def test_local_csv_path_is_optional_so_the_form_accepts_the_defaults(dag_bag):
    param = dag_bag.dags["energy_forecast"].params.get_param("local_csv_path")

    assert param.value is None
    assert "null" in param.schema["type"]
