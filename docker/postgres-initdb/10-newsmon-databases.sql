-- Run once by the postgres image, as its superuser, when the data volume is empty
-- (files in /docker-entrypoint-initdb.d/; see docker-compose.yml). Changing this file later has no
-- effect on an existing volume: `docker compose down -v` to start over.
--
-- One server, two databases, each owned by its own unprivileged role:
--   airflow: Airflow's metadata (AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)
--   newsmon: the news database (AIRFLOW_CONN_NEWSMON_DB, NEWSMON_DATABASE_URL; schema by `newsmon migrate`)
-- The passwords are for local use only and match the URLs in docker-compose.yml.

CREATE ROLE airflow LOGIN PASSWORD 'airflow';
CREATE DATABASE airflow OWNER airflow ENCODING 'UTF8' TEMPLATE template0;

CREATE ROLE newsmon LOGIN PASSWORD 'newsmon';
CREATE DATABASE newsmon OWNER newsmon ENCODING 'UTF8' TEMPLATE template0;
