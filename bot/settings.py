"""Settings from the environment and `.env` (see .env.example and CONTRACT's Serving table)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from dotenv import dotenv_values
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ribot_data_dir: Path = Field(default=Path(".ribot"), description="SQLite database and Chroma index")
    ribot_sources_dir: Path | None = Field(default=None, description="extra documents to ingest")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset: SQLite in the data dir"
    )
    conversation_ttl_hours: int = 72
    migrate_on_start: bool = Field(
        default=True, description="false: the server waits for `ribot migrate` instead of migrating itself"
    )
    schema_wait_seconds: float = Field(
        default=600, ge=0, description="how long a server waits for the schema"
    )

    host: str = "127.0.0.1"
    port: int = 3978
    public_url: str | None = None
    log_level: str = Field(default="info", description="debug, info, warning or error; logs are JSON lines")
    worker_threads: int = Field(default=32, ge=1, le=256, description="threads for blocking work per server")
    batch_window_ms: float = Field(default=2.0, ge=0, le=100, description="wait for concurrent questions")
    batch_max_size: int = Field(default=64, ge=1, le=512, description="most questions embedded in one batch")
    serve_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`ribot serve` processes sharing the port; one per core uses them all",
    )
    answer_workers: int = Field(default=1, ge=1, le=8, description="threads answering batches of questions")
    ribot_encoder: Literal["onnx", "sentence-transformers"] = Field(
        default="onnx", description="what embeds questions: the exported ONNX graph, or torch for comparison"
    )
    encoder_threads: int = Field(default=0, ge=0, le=64, description="threads per embedding; 0: cores, max 2")
    encoder_spin_us: int = Field(
        default=100, ge=0, le=10_000, description="microseconds an idle embedding thread waits awake for work"
    )
    shutdown_timeout: float = Field(default=30.0, ge=0, description="seconds to finish requests on stop")
    inbox_lease_seconds: float = Field(
        default=15.0, ge=1, le=600, description="how long a worker holds a delivery before others may take it"
    )
    inbox_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="how often to look for due ones")

    ribot_redis_url: str | None = Field(default=None, description="Redis for rate limits shared by replicas")
    ribot_trusted_proxies: str = Field(
        default="",
        description="comma-separated proxy addresses or networks whose X-Forwarded-For is believed",
    )
    ribot_rate_limits: dict[str, str] = Field(
        default={surface: "20/minute; 200/hour" for surface in ("ask", "chat", "slack", "teams")},
        description='turns per user or client address on each surface, JSON: {"ask": "20/minute"}',
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str | None = None
    slack_coordinator_channel: str | None = None

    teams_anonymous: bool = False
    teams_client_id: str | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
    )
    teams_client_secret: str | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET"
    )
    teams_tenant_id: str | None = Field(
        default=None, alias="CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID"
    )
    teams_service_hosts: str = Field(
        default="",
        description="comma-separated hosts trusted as serviceUrl besides Microsoft's channel hosts",
    )
    teams_botframework_keys_url: str | None = Field(default=None, description="Bot Framework's signing keys")
    teams_entra_keys_url: str | None = Field(
        default=None, description="Entra ID's signing keys; {tenant} is replaced by the tenant id"
    )
    teams_coordinator_channel: str | None = Field(
        default=None, description="Teams channel conversation id where new escalations are announced"
    )

    review_session_hours: float = Field(default=12, gt=0, le=720, description="console sign-in lifetime")
    review_login_limit_account_address: str = Field(
        default="10 per 10 minutes", description="failed sign-ins for one account from one address"
    )
    review_login_limit_address: str = Field(
        default="50 per 10 minutes", description="failed sign-ins from one address, any account"
    )
    review_login_limit_account: str = Field(
        default="30 per 10 minutes",
        description="failed sign-ins for one account from anywhere; then only addresses without one may try",
    )
    review_oidc_issuer: str | None = Field(default=None, description="OIDC issuer for the console login")
    review_oidc_client_id: str | None = None
    review_oidc_client_secret: str | None = None
    review_oidc_scopes: str = "openid email profile"
    review_oidc_trusted_email_claim: str | None = Field(
        default=None,
        description="an ID-token claim taken as a verified e-mail address (Entra ID sends no email_verified)",
    )
    review_oidc_coordinator_group: str | None = Field(
        default=None, description="a groups or roles claim value that grants coordinator access"
    )

    def teams_sdk_environment(self) -> dict[str, str]:
        """The Agents SDK's own CONNECTIONS__… settings (AUTHTYPE, CERTPFXFILE, …): `.env`, then the
        environment over it, as for every other setting."""
        env_file = self.model_config.get("env_file")
        values = (
            dict(dotenv_values(env_file)) if isinstance(env_file, str) and Path(env_file).is_file() else {}
        )
        values.update(os.environ)
        return {k: v for k, v in values.items() if k.startswith("CONNECTIONS__") and v is not None}

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.ribot_data_dir / 'ribot.sqlite3').resolve()}"

    @property
    def index_dir(self) -> Path:
        return self.ribot_data_dir / "index"

    @property
    def review_oidc_enabled(self) -> bool:
        return bool(self.review_oidc_issuer and self.review_oidc_client_id)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and (self.slack_signing_secret or self.slack_app_token))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
