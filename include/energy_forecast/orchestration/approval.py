"""A person's approval of a promotion, with Airflow's human-in-the-loop operator.

With ``approval=required``, a run whose gate would promote parks this task until someone
answers under *Required actions* in the Airflow UI (or through the REST API's
``hitlDetails``). Approve lets publish go ahead; Reject skips publish, so the champion is kept
and the forecasts are made with it. No answer within the response timeout counts as Reject.
Who answered, when, and their comment are kept with the run (:func:`tasks.record_approval`).
"""

from __future__ import annotations

from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param, ParamsDict

from energy_forecast.settings import TASK_TIMEOUTS


class PromotionApprovalOperator(ApprovalOperator):
    """Asks whether the gate's challenger may replace the champion, showing the gate's
    reasons; ``report`` is the report task's output (templated)."""

    template_fields = (*ApprovalOperator.template_fields, "report")

    def __init__(self, *, report: Any, params: ParamsDict | None = None, **kwargs: Any) -> None:
        # ``params`` arrives holding the DAG's Params (source "dag"), which the operator drops
        # from its form; the form's own field is marked as the task's.
        form = ParamsDict(params or {})
        form["comment"] = Param(
            "", type="string", title="Comment", description="Recorded with the run.", source="task"
        )
        super().__init__(
            subject="Promote the challenger?",
            defaults=ApprovalOperator.REJECT,
            response_timeout=TASK_TIMEOUTS["approve"],
            params=form,
            **kwargs,
        )
        self.report = report

    def execute(self, context: Any) -> Any:
        from energy_forecast.orchestration import tasks

        self.subject, self.body = tasks.approval_request(self.report)
        return super().execute(context)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> Any:
        """Record the answer first: on Reject the operator skips ``publish`` by raising, and
        nothing after that call would run."""
        from energy_forecast.orchestration import tasks

        if "error" not in event:
            self.validate_chosen_options(event["chosen_options"])
            tasks.record_approval(context["run_id"], event, context["ti"].try_number)
        return super().execute_complete(context=context, event=event)
