"""newsmon: a news-monitoring ETL pipeline (feeds -> articles -> PostgreSQL).

The package is plain Python: Airflow DAGs in ``dags/`` only wire its functions together.
"""

__version__ = "0.1.0"
