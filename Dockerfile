# One image for every role: Airflow (API server, scheduler, DAG processor, triggerer, Celery
# worker) and the Spark master/workers, so the package the Spark driver and executors import
# is the same one the DAG was parsed with. Mirrors what `make install` puts on a laptop.
FROM python:3.11-slim-bookworm

# curl for the health checks; procps for Spark's scripts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps curl \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64

WORKDIR /opt/energy-forecast
COPY requirements.txt pyproject.toml ./
COPY include ./include
# The CPU build of torch: the default PyPI wheel drags in several GB of CUDA libraries.
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu \
        -r requirements.txt -e .
# Spark drivers map this class-data archive instead of loading every class from the jars
# (seconds per driver start); it belongs to this JDK and these jars, so it is built here.
RUN python -m energy_forecast.features.archive_classes
COPY dags ./dags
COPY plugins ./plugins
COPY bin ./bin

# Every service runs as this unprivileged user (uid 50000, as Airflow's own image). The
# folders that volumes mount are created here so the volumes start owned by it.
RUN useradd --uid 50000 --gid 0 --create-home --home-dir /home/airflow airflow \
    && mkdir -p /opt/airflow /opt/airflow-users /data/artifacts /opt/spark-work \
        /home/airflow/.cache/kagglehub \
    && chown -R airflow:0 /opt/airflow /opt/airflow-users /data/artifacts /opt/spark-work \
        /home/airflow
USER airflow

ENV AIRFLOW_HOME=/opt/airflow \
    ENERGY_FORECAST_ARTIFACTS=/data/artifacts \
    PYSPARK_PYTHON=/usr/local/bin/python \
    PYSPARK_DRIVER_PYTHON=/usr/local/bin/python
