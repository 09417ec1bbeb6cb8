"""Run the signature pass inside BigQuery, where a Log Router sink or a Log Analytics linked
dataset already keeps a project's logs, and bring home only what the analysis needs.

Modules: ``client`` (the real google-cloud-bigquery client: ADC, or an emulator through
$FORENSICS_BIGQUERY_ENDPOINT), ``source`` (SOURCE names, table discovery and the mapping views
that give the columns the signature SQL reads), ``shapes`` (how Cloud Logging writes a LogEntry
into a sink table or the ``_AllLogs`` view: used to load emulators and benchmarks), ``statements``
(the classification query and the count query run per window), ``rebuild`` (a LogEntry's JSON
from the wire columns), ``collect`` (runs the statements and stores what they return like the
API collectors' pulls).
"""
