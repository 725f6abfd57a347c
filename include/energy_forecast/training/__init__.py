"""Distributed training of the hybrid LSTM forecaster, launched by Spark's TorchDistributor.

* :mod:`~energy_forecast.training.model`: the network and the config that rebuilds it;
* :mod:`~energy_forecast.training.sharding`: row groups dealt to shards and ranks (no torch);
* :mod:`~energy_forecast.training.dataset`: Parquet row groups -> sharded tensor batches;
* :mod:`~energy_forecast.features.manifest`: the features manifest, checked up front;
* :mod:`~energy_forecast.training.distributed`: process group and collectives;
* :mod:`~energy_forecast.training.collective_threads`: gloo's threads at real-time priority;
* :mod:`~energy_forecast.training.trainer`: the DDP loop, early stopping, snapshots;
* :mod:`~energy_forecast.training.entrypoint`: ``train_fn``, what every rank runs;
* :mod:`~energy_forecast.training.launch`: ``train_in_rank``, its torch-free handle;
* :mod:`~energy_forecast.training.artifacts`: the files written and how to load them;
* :mod:`~energy_forecast.training.evaluate`: predictions in kWh;
* :mod:`~energy_forecast.training.train`: ``run_training``, the Airflow task's one call
  (its process never imports torch: the ranks train and evaluate);

Nothing is imported here, so importing the package stays cheap (torch loads on first use).
"""
