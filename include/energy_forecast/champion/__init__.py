"""The champion's life: the gate's rules, the evidence and the typed decision, the registry of
published versions and publishing a new one.

The flow is compare (the report) -> decide (:mod:`.promotion`, :mod:`.gate`, written once as
a :class:`~energy_forecast.champion.decision.PromotionDecision`) -> publish (:mod:`.publish`).
"""
