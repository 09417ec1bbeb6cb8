"""Exact texts of the demo: Cloud Run platform lines and the staging app's own message catalogue.

Platform texts follow shared/reference/gcp-wire-facts.md (section 3.2, 4); app messages copy the
wording of the real staging logs in shared/fixtures/real-staging/entries.jsonl.
"""

from __future__ import annotations

from forensics.demo.model import AUTH, BACKEND, SQL_CONNECTION_NAME, SQL_SOCKET

PORT = {BACKEND: 8000, AUTH: 8080}
HOST = {
    BACKEND: "https://api.staging.netrasystems.ai",
    AUTH: "https://auth.staging.netrasystems.ai",
}
DEFAULT_HOST = "https://app.staging.netrasystems.ai"

START_AUTOSCALING = (
    "Starting new instance. Reason: AUTOSCALING - Instance started due to configured scaling "
    "factors (e.g. CPU utilization, request throughput, etc.) or no existing capacity for "
    "current traffic."
)
START_ROLLOUT = (
    "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due to traffic shifting "
    "between revisions due to deployment, traffic split adjustment, or deployment health check."
)
PROBE_OK = 'Default STARTUP TCP probe succeeded after 1 attempt for container "{c}" on port {p}.'
PROBE_FAILED = (
    'Default STARTUP TCP probe failed 1 time consecutively for container "{c}" on port {p}. '
    "The instance was not started.\nConnection failed with status DEADLINE_EXCEEDED."
)
MALFORMED_503 = (
    "The request failed because either the HTTP response was malformed or connection to the "
    "instance had an error. Additional troubleshooting documentation can be found at: "
    "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error"
)
CLOUDSQL_DIAL_FAILED = (
    "Cloud SQL connection failed. Please see https://cloud.google.com/sql/docs/mysql/connect-run, "
    "https://cloud.google.com/sql/docs/postgres/connect-run, or "
    "https://cloud.google.com/sql/docs/sqlserver/connect-run for additional details: dial error: "
    f'failed to dial (connection name = "{SQL_CONNECTION_NAME}"): connection to Cloud SQL '
    "instance at 10.107.0.3:3307 failed: timed out after 10s"
)
EXIT_3 = "Container called exit(3)."
SIGNAL_9 = "Container terminated on signal 9."
MEMORY_EXCEEDED = (
    "Memory limit of 512 MiB exceeded with {used} MiB used. Consider increasing the memory limit, "
    "see https://cloud.google.com/run/docs/configuring/memory-limits"
)
USER_AGENTS = (
    "python-httpx/0.28.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/134.0.6782.74 Safari/537.36",
    "Netra-E2E-Tests/1.0",
    "Python/3.12 websockets/15.0.1",
)
UPTIME_UA = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"

# --- normal traffic catalogue (benign look-alikes included on purpose) ---

API = (  # (method, path, typical response size)
    ("GET", "/api/discovery/services", 1843),
    ("GET", "/api/mcp/servers", 412),
    ("GET", "/api/mcp/config", 388),
    ("OPTIONS", "/api/discovery/services", 0),
    ("GET", "/api/threads", 2210),
    ("GET", "/api/messages", 5120),
    ("POST", "/api/agents/execute", 734),
    ("GET", "/api/health", 96),
    ("GET", "/api/metrics/agents", 1520),
)
CLIENT_ERRORS = (
    ("GET", "/api/threads", 403),
    ("POST", "/api/messages", 403),
    ("GET", "/api/conversations", 404),
    ("GET", "/api/agents/list", 404),
    ("POST", "/api/agents/execute", 422),
    ("PUT", "/api/health", 405),
)
FRONTEND_PATHS = (
    ("/chat", 308),
    ("/chat/", 200),
    ("/", 200),
    ("/_next/static/chunks/main.js", 200),
)
AUTH_PATHS = (
    ("POST", "/auth/validate"),
    ("POST", "/auth/check-blacklist"),
    ("POST", "/auth/refresh"),
    ("GET", "/health"),
)
BACKEND_JSON = (
    ("INFO", "AuthClientCache initialized with default TTL: 300s and user isolation"),
    ("INFO", "AuthCircuitBreakerManager initialized with UnifiedCircuitBreaker"),
    ("INFO", "Tracer initialized: default"),
    ("INFO", "Circuit breaker 'auth_service' initialized: threshold=3"),
    ("INFO", "Configuration loaded and cached for environment: staging"),
    ("INFO", "Handler cleanup complete. Remaining handlers: 8"),
    ("WARNING", "Sentry SDK not available - install sentry-sdk[fastapi] to enable error tracking"),
    ("WARNING", "WebSocket connection rejected in staging: No JWT=REDACTED"),
)
LOGURU_INFO = (
    ("logging:handle:978", "Background task timeout properly configured: 120s"),
    ("logging:handle:978", "Applied Redis mode default with fallback capability"),
    (
        "netra_backend.app.services.database.health_checker:start_monitoring:29",
        "Starting database connection monitoring",
    ),
    (
        "netra_backend.app.core.unified_logging:_emit_log:204",
        "[ClickHouse] Using mock client as fallback in staging",
    ),
    ("netra_backend.app.routes.health:health_ready:88", "Readiness check passed (db=ok, redis=ok)"),
    ("netra_backend.app.db.postgres_core:initialize_postgres:180", "Configured DB timeout: 75.0s"),
)
AUTH_LINES = (
    "auth_service.auth_core.database.connection - INFO - "
    "Auth database connection test successful: 1",
    "auth_service.main - INFO - Redis session management: enabled",
    "auth_service.auth_core.config - INFO - Using database URL from staging configuration",
    "auth_service.auth_core.database.database_manager - INFO - Creating async engine for auth "
    "service with config: {'pool_size': 5, 'max_overflow': 10, 'pool_timeout': 30, "
    "'pool_recycle': 3600, 'connect_args': {'command_timeout': 15}, 'pool_pre_ping': True}",
)
CONFIG_DUMPS = (  # benign: the socket path printed as a setting, not a failure
    "Database URL (staging/Cloud SQL): postgresql+asyncpg://***@/netra_staging?host="
    "/cloudsql/netra-staging:us-central1:staging-shared-postgres",
    f"PostgreSQL settings: unix_socket={SQL_SOCKET}, database=netra_staging, pool_size=20, "
    "max_overflow=30, pool_timeout=30.0s, connect_timeout=10s",
    "Built database URL from POSTGRES_* environment variables",
    "Database configuration: Using component-based configuration for staging environment",
)
ANSI_INFO = (
    "\x1b[32m{ts}\x1b[0m | \x1b[1mINFO    \x1b[0m | \x1b[36mnetra_backend.app.core.request_context"
    "\x1b[0m:\x1b[36mlog_request_details\x1b[0m:\x1b[36m69\x1b[0m | \x1b[1m{msg}\x1b[0m"
)
