"""Passwords (argon2id), tokens (HS256 JWT, expiring, revocable) and who is calling."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from dataclasses import dataclass

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from .db import RevokedToken, User
from .errors import ApiError, unauthorized

GUEST_MESSAGE = "Guest is not allowed to do this operation."
COOKIE_NAME = "pai_token"


@dataclass(frozen=True)
class Caller:
    """The authenticated user of a request."""

    username: str
    admin: bool
    jti: str | None = None
    expires_s: int | None = None


class Authenticator:
    """Checks passwords and issues/verifies tokens against the user records."""

    def __init__(self, sessions: sessionmaker[Session], secret: str, hasher: PasswordHasher | None = None):
        self.sessions = sessions
        self._secret = secret
        self.hasher = hasher or PasswordHasher()

    def hash_password(self, password: str) -> str:
        """A slow salted hash of ``password``."""
        return self.hasher.hash(password)

    def check_password(self, username: str, password: str) -> User:
        """The user if ``password`` is theirs; 400 NoUserError / IncorrectPasswordError otherwise."""
        with self.sessions() as s:
            user = s.get(User, username)
        if user is None:
            raise ApiError(400, "NoUserError", f"User {username} is not found.")
        try:
            self.hasher.verify(user.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise ApiError(400, "IncorrectPasswordError", "Password is incorrect.") from None
        if self.hasher.check_needs_rehash(user.password_hash):
            with self.sessions.begin() as s:
                row = s.get(User, username)
                if row is not None:
                    row.password_hash = self.hash_password(password)
        return user

    def issue(self, user: User, expiration_s: int) -> str:
        """A signed token for ``user`` valid for ``expiration_s`` seconds."""
        now = int(time.time())
        claims = {"username": user.username, "application": False, "jti": uuid.uuid4().hex,
                  "iat": now, "exp": now + expiration_s}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify_token(self, token: str) -> Caller:
        """The caller of a valid, unrevoked token of an existing user; 401 otherwise."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], options={"require": ["exp", "jti"]})
        except jwt.PyJWTError:
            raise unauthorized() from None
        username, jti = claims.get("username"), claims.get("jti")
        if not isinstance(username, str) or not isinstance(jti, str):
            raise unauthorized()
        with self.sessions() as s:
            if s.get(RevokedToken, jti) is not None:
                raise unauthorized()
            user = s.get(User, username)
        if user is None:
            raise unauthorized()
        return Caller(user.username, user.admin, jti, int(claims["exp"]))

    def revoke(self, caller: Caller) -> None:
        """Revoke the caller's token (logout); expired revocations are purged on the way."""
        if caller.jti is None:
            return
        now = int(time.time())
        with self.sessions.begin() as s:
            s.execute(delete(RevokedToken).where(RevokedToken.expires_s < now))
            if s.get(RevokedToken, caller.jti) is None:
                s.add(RevokedToken(jti=caller.jti, expires_s=caller.expires_s or now))

    def from_authorization(self, header: str | None) -> Caller:
        """The caller of an ``Authorization: Bearer`` header, with the note's 401 messages."""
        if not header:
            raise unauthorized(GUEST_MESSAGE)
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized()
        return self.verify_token(value.strip())

    def from_basic(self, header: str) -> Caller:
        """The caller of an ``Authorization: Basic base64(user:password)`` header; 401 when wrong."""
        _, _, value = header.strip().partition(" ")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized() from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise unauthorized()
        try:
            user = self.check_password(username, password)
        except ApiError:
            raise unauthorized("Username or password is incorrect.") from None
        return Caller(user.username, user.admin)
