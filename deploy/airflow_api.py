"""A small client of Airflow 3's REST API (``/api/v2``), as a script or another system uses it:
the deployment test and the hosts benchmark drive the deployment through it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

DAG_ID = "energy_forecast"
_FINISHED = {"success", "failed"}


@dataclass
class AirflowApi:
    base_url: str
    token: str

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        response = httpx.post(
            f"{base_url}/auth/token", json={"username": username, "password": password}
        )
        response.raise_for_status()
        return cls(base_url, response.json()["access_token"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return httpx.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        response = self.request("GET", path, **kwargs)
        response.raise_for_status()
        return response.json()

    # --- DAG and runs --------------------------------------------------------------------
    def wait_for_dag(self, timeout_s: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.request("GET", f"/api/v2/dags/{DAG_ID}")
            if response.status_code == 200:
                return response.json()
            if time.monotonic() > deadline:
                errors = self.get("/api/v2/importErrors")
                raise TimeoutError(f"{DAG_ID} was not parsed in {timeout_s} s; {errors}")
            time.sleep(2)

    def unpause(self) -> None:
        response = self.request("PATCH", f"/api/v2/dags/{DAG_ID}", json={"is_paused": False})
        response.raise_for_status()

    def trigger(self, conf: dict[str, Any]) -> httpx.Response:
        return self.request(
            "POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf}
        )

    def set_run_state(self, run_id: str, state: str) -> None:
        """Mark a run ``failed`` or ``success`` by hand, as the UI's buttons do."""
        response = self.request(
            "PATCH", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}", json={"state": state}
        )
        response.raise_for_status()

    def runs(self) -> list[dict[str, Any]]:
        return self.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"order_by": "run_after"})[
            "dag_runs"
        ]

    def wait_for_run(
        self, run_id: str | None = None, run_type: str | None = None, timeout_s: float = 600
    ) -> dict[str, Any]:
        """The run (by id, or the first of a type) once it has finished."""
        deadline = time.monotonic() + timeout_s
        while True:
            runs = [
                r
                for r in self.runs()
                if (run_id is None or r["dag_run_id"] == run_id)
                and (run_type is None or r["run_type"] == run_type)
            ]
            if runs and runs[0]["state"] in _FINISHED:
                return runs[0]
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"run {run_id or run_type} not finished in {timeout_s} s: {runs}"
                )
            time.sleep(3)

    def task_instances(self, run_id: str) -> dict[str, dict[str, Any]]:
        listed = self.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances")
        return {ti["task_id"]: ti for ti in listed["task_instances"]}

    def wait_for_task(
        self, run_id: str, task_id: str, states: set[str], timeout_s: float = 600
    ) -> dict[str, Any]:
        """The task instance once it is in one of ``states``."""
        deadline = time.monotonic() + timeout_s
        while True:
            task = self.task_instances(run_id).get(task_id, {})
            if task.get("state") in states:
                return task
            if time.monotonic() > deadline:
                raise TimeoutError(f"{task_id} of {run_id} not in {states} in {timeout_s} s")
            time.sleep(1)

    def respond(
        self, run_id: str, task_id: str, chosen: list[str], params_input: dict[str, Any]
    ) -> dict[str, Any]:
        """Answer a task waiting for a person (human-in-the-loop), as the UI's Required
        actions page does."""
        response = self.request(
            "PATCH",
            f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails",
            json={"chosen_options": chosen, "params_input": params_input},
        )
        response.raise_for_status()
        return response.json()

    def asset_events(self, source_task_id: str | None = None) -> list[dict[str, Any]]:
        """The Asset events the deployment has recorded, oldest first; only those a task
        with ``source_task_id`` emitted, when given (``publish``: the champion's)."""
        events = self.get("/api/v2/assets/events", params={"order_by": "timestamp"})
        return [
            event
            for event in events["asset_events"]
            if source_task_id is None or event.get("source_task_id") == source_task_id
        ]

    def task_log(self, run_id: str, task_id: str, try_number: int) -> list[dict[str, Any]]:
        """The structured log lines of one try: each with ``event`` and ``level``."""
        path = f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}"
        content = self.get(path, headers={"Accept": "application/json"})
        return [line for line in content["content"] if isinstance(line, dict)]
