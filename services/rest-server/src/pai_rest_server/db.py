"""The records: users, revoked tokens, jobs. SQLAlchemy 2 ORM, SQLite by default, PostgreSQL possible."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, UniqueConstraint, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    """Declarative base of every table."""


class User(Base):
    """A user who logs in; ``virtual_clusters`` are the VCs granted (admins may use every VC)."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(255), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str] = mapped_column(String(255), default="")
    virtual_clusters: Mapped[list] = mapped_column(JSON, default=list)
    extension: Mapped[dict] = mapped_column(JSON, default=dict)
    created_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class RevokedToken(Base):
    """A token revoked by logout, kept until it would have expired anyway."""

    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_s: Mapped[int] = mapped_column(BigInteger)


class ServerSecret(Base):
    """Generated secrets that must survive a restart (the token signing key when none is configured)."""

    __tablename__ = "server_secrets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Job(Base):
    """One job: its protocol (secrets masked), where it runs on YARN and what YARN last said."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("username", "name", name="uq_jobs_user_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    virtual_cluster: Mapped[str] = mapped_column(String(255), index=True)
    config_yaml: Mapped[str] = mapped_column(Text)
    protocol: Mapped[dict] = mapped_column(JSON)
    service_name: Mapped[str] = mapped_column(String(63))
    components: Mapped[dict] = mapped_column(JSON)
    app_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="WAITING", index=True)
    sub_state: Mapped[str] = mapped_column(String(64), default="SUBMITTED")
    execution_type: Mapped[str] = mapped_column(String(8), default="START")
    retries: Mapped[int] = mapped_column(Integer, default=0)
    job_retry_count: Mapped[int] = mapped_column(Integer, default=0)
    submission_ms: Mapped[int] = mapped_column(BigInteger)
    launched_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    completed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_diagnostics: Mapped[str | None] = mapped_column(Text, nullable=True)
    tracking_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    progress: Mapped[float | None] = mapped_column(nullable=True)
    total_gpu: Mapped[int] = mapped_column(Integer, default=0)
    total_tasks: Mapped[int] = mapped_column(Integer, default=0)
    total_task_roles: Mapped[int] = mapped_column(Integer, default=0)
    tasks: Mapped[dict] = mapped_column(JSON, default=dict)
    tags: Mapped[list] = mapped_column(JSON, default=list)

    @property
    def full_name(self) -> str:
        """The OpenPAI framework name ``user~name``."""
        return f"{self.username}~{self.name}"


TERMINAL_STATES = ("SUCCEEDED", "FAILED", "STOPPED")


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``; a SQLite file's folder is created, WAL is on."""
    kwargs: dict[str, Any] = {}
    if database_url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:" and database_url.startswith("sqlite:///"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(database_url, **kwargs)
    if database_url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    Base.metadata.create_all(engine)
    return engine


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


def server_secret(sessions: sessionmaker[Session], name: str) -> str:
    """The stored secret ``name``, generated (and stored) on first use."""
    with sessions.begin() as s:
        row = s.get(ServerSecret, name)
        if row is None:
            row = ServerSecret(name=name, value=secrets.token_urlsafe(48))
            s.add(row)
        return row.value
