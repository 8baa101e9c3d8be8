"""Users: the admin from settings, users created by admins, VC grants."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .auth import Authenticator
from .db import User
from .errors import ApiError
from .jobs import now_ms

log = logging.getLogger("pai_rest_server")


def no_user(username: str) -> ApiError:
    """404 NoUserError."""
    return ApiError(404, "NoUserError", f"User {username} is not found.")


def user_view(user: User, all_vcs: list[str] | None = None) -> dict[str, Any]:
    """The OpenPAI user object (never the password); admins may use every VC."""
    vcs = sorted(set(all_vcs or []) | set(user.virtual_clusters or [])) if user.admin else list(user.virtual_clusters or [])
    groups = sorted(set(user.virtual_clusters or []) | ({"admingroup"} if user.admin else set()))
    return {"username": user.username, "grouplist": groups, "email": user.email or "",
            "extension": user.extension or {}, "admin": bool(user.admin), "virtualCluster": vcs,
            "storageConfig": []}


class UserService:
    """User records behind the /users endpoints."""

    def __init__(self, sessions: sessionmaker[Session], auth: Authenticator):
        self.sessions = sessions
        self.auth = auth

    def ensure_admin(self, username: str, password: str) -> bool:
        """Create the settings' admin if missing (True when created); an existing one keeps its password
        and is made admin again if it was not."""
        with self.sessions.begin() as s:
            user = s.get(User, username)
            if user is not None:
                if not user.admin:
                    user.admin = True
                return False
            s.add(User(username=username, password_hash=self.auth.hash_password(password), admin=True, email="",
                       virtual_clusters=["default"], extension={}, created_ms=now_ms()))
        log.info("created admin user %s", username)
        return True

    def get(self, username: str) -> User:
        """The record of ``username``; 404 NoUserError."""
        with self.sessions() as s:
            user = s.get(User, username)
        if user is None:
            raise no_user(username)
        return user

    def all(self) -> list[User]:
        """Every user, by name."""
        with self.sessions() as s:
            return list(s.scalars(select(User).order_by(User.username)))

    def create(self, username: str, password: str, admin: bool, email: str, vcs: list[str],
               extension: dict[str, Any]) -> User:
        """A new user; 409 ConflictUserError if the name is taken."""
        user = User(username=username, password_hash=self.auth.hash_password(password), admin=admin, email=email,
                    virtual_clusters=sorted(set(vcs)), extension=extension, created_ms=now_ms())
        with self.sessions.begin() as s:
            if s.get(User, username) is not None:
                raise ApiError(409, "ConflictUserError", f"User name {username} already exists.")
            s.add(user)
        return user

    def update(self, username: str, *, vcs: list[str] | None = None, admin: bool | None = None,
               email: str | None = None, password: str | None = None) -> User:
        """Change the given fields of a user; 404 NoUserError."""
        new_hash = self.auth.hash_password(password) if password is not None else None
        with self.sessions.begin() as s:
            user = s.get(User, username)
            if user is None:
                raise no_user(username)
            if vcs is not None:
                user.virtual_clusters = sorted(set(vcs))
            if admin is not None:
                user.admin = admin
            if email is not None:
                user.email = email
            if new_hash is not None:
                user.password_hash = new_hash
            return user

    def delete(self, username: str) -> None:
        """Remove a user; 404 NoUserError."""
        with self.sessions.begin() as s:
            user = s.get(User, username)
            if user is None:
                raise no_user(username)
            s.delete(user)
