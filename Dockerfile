# One image for every role: Airflow (api-server, scheduler, dag-processor) and the Spark
# master/workers, so the package the Spark driver and executors import is the same one
# the DAG was parsed with. Mirrors what `make run` installs on a laptop.
FROM python:3.11-slim-bookworm

RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps make \
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

ENV AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/energy-forecast/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/energy-forecast/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    AIRFLOW__CORE__EXECUTOR=LocalExecutor \
    ENERGY_FORECAST_ARTIFACTS=/data/artifacts \
    PYSPARK_PYTHON=/usr/local/bin/python \
    PYSPARK_DRIVER_PYTHON=/usr/local/bin/python
