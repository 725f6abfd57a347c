"""The champion's life: the gate's rules, the evidence and the typed decision, the backtest
read from MLflow, the MLflow Model Registry (alias ``champion``) and publishing a new version.

The flow is compare (the report) -> decide (:mod:`.promotion`, :mod:`.gate`, written once as
a :class:`~energy_forecast.champion.decision.PromotionDecision`) -> publish (:mod:`.publish`,
:mod:`.registry`).
"""
