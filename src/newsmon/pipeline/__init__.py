"""The one place that strings the stages together: ``tasks`` holds what the DAG tasks call
(poll, process, tag, run bookkeeping), ``importer`` the same path for archive drops and files,
``runs`` the pipeline-run rows. The CLI and the DAGs call this package and the analyst and alert
functions, never a stage's internals.

May import: every stage.
"""
