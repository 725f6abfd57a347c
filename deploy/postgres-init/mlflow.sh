#!/bin/sh
# MLflow's role and database, beside Airflow's: the postgres image runs the files of
# /docker-entrypoint-initdb.d once, when it initialises an empty data volume
# (docker-compose.yaml mounts this folder there). The role owns only its own database, so
# the MLflow server and the publishers' advisory lock never hold Airflow's credentials.
# (The topology, on the machine's own Postgres, creates it with deploy.topology.)
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set password="$MLFLOW_POSTGRES_PASSWORD" <<'SQL'
CREATE ROLE mlflow LOGIN PASSWORD :'password';
CREATE DATABASE mlflow OWNER mlflow;
SQL
