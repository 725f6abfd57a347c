"""The Airflow edge: what each task does (:mod:`.tasks`), the spark-submit operator, the
Params and the Assets. This is the only layer that imports ``airflow``; everything below it
runs without Airflow, under spark-submit, TorchDistributor or a unit test."""
