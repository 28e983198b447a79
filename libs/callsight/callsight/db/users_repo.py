"""UserRepository and SessionRepository: people who sign in to the web app, and their sessions.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).
A session cookie is a random secret; only its SHA-256 is stored, so a leaked table
cannot be replayed as cookies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from callsight.db.records import FromRow
from callsight.db.schema import users, web_sessions
from callsight.passwords import check_password

ROLES = ("admin", "supervisor")
LOCALES = ("ja", "en")
_hasher = PasswordHasher()
# verified against when the e-mail is unknown, so timing does not reveal who has an account
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class DuplicateEmail(Exception):
    """Another user already signs in with this e-mail address."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class UserRecord(FromRow):
    id: str
    org_id: str
    email: str
    name: str
    role: str
    locale: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    disabled_at: dt.datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord
    csrf_token: str
    expires_at: dt.datetime


class UserRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, org_id: str, email: str, name: str, password: str, role: str = "supervisor",
               locale: str = "ja") -> UserRecord:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}")
        check_password(password, (email, name))  # WeakPassword, before anything is written
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    users.insert().values(
                        id=str(uuid.uuid4()), org_id=org_id, email=normalise_email(email), name=name.strip(),
                        password_hash=hash_password(password), role=role, locale=locale,
                    ).returning(*users.c)
                ).one()
        except IntegrityError:
            raise DuplicateEmail(email) from None
        return UserRecord.from_row(row)

    def get(self, user_id: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        return UserRecord.from_row(row) if row else None

    def by_email(self, email: str) -> UserRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == normalise_email(email))).first()
        return UserRecord.from_row(row) if row else None

    def list(self, org_id: str) -> list[UserRecord]:
        q = select(users).where(users.c.org_id == org_id).order_by(users.c.created_at, users.c.email)
        with self.engine.connect() as conn:
            return [UserRecord.from_row(r) for r in conn.execute(q).all()]

    def authenticate(self, email: str, password: str) -> UserRecord | None:
        """The active user with this e-mail and password, or None; stamps last_login_at."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == normalise_email(email))).first()
        if row is None:
            verify_password(_DUMMY_HASH, password)
            return None
        if not verify_password(row.password_hash, password) or row.disabled_at is not None:
            return None
        with self.engine.begin() as conn:
            values: dict[str, object] = {"last_login_at": func.now()}
            if _hasher.check_needs_rehash(row.password_hash):
                values["password_hash"] = hash_password(password)
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
        return UserRecord.from_row(row)

    def set_password(self, user_id: str, password: str) -> None:
        check_password(password)
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(password_hash=hash_password(password)))

    def password_matches(self, user_id: str, password: str) -> bool:
        with self.engine.connect() as conn:
            stored = conn.execute(select(users.c.password_hash).where(users.c.id == user_id)).scalar()
        return isinstance(stored, str) and verify_password(stored, password)

    def set_locale(self, user_id: str, locale: str) -> None:
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {LOCALES}")
        with self.engine.begin() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(locale=locale))

    def update(self, org_id: str, user_id: str, *, role: str | None = None, disabled: bool | None = None) -> bool:
        values: dict[str, object] = {}
        if role is not None:
            if role not in ROLES:
                raise ValueError(f"role must be one of {ROLES}")
            values["role"] = role
        if disabled is not None:
            values["disabled_at"] = func.now() if disabled else None
        if not values:
            return False
        with self.engine.begin() as conn:
            result = conn.execute(update(users).where(users.c.org_id == org_id, users.c.id == user_id).values(**values))
            if disabled:
                conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id))
        return bool(result.rowcount)


class SessionRepository:
    """Server-side sessions with an idle and an absolute expiry."""

    def __init__(self, engine: Engine, idle: dt.timedelta, absolute: dt.timedelta) -> None:
        self.engine = engine
        self.idle = idle
        self.absolute = absolute

    def create(self, user_id: str) -> tuple[str, str]:
        """Returns (cookie value, CSRF token)."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            conn.execute(web_sessions.insert().values(
                id_hash=_digest(token), user_id=user_id, csrf_token=csrf, created_at=now, last_seen_at=now,
                expires_at=now + self.absolute,
            ))
            # a sign-in is a good moment to sweep this user's dead sessions
            conn.execute(delete(web_sessions).where(web_sessions.c.user_id == user_id,
                                                    web_sessions.c.expires_at < now))
        return token, csrf

    def resolve(self, token: str) -> SessionRecord | None:
        """The live session for this cookie (touching last_seen_at), or None when unknown,
        idle too long, past its absolute expiry, or its user is disabled."""
        if not token:
            return None
        now = dt.datetime.now(dt.UTC)
        key = _digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(web_sessions.c.csrf_token, web_sessions.c.last_seen_at, web_sessions.c.expires_at, users)
                .join(users, users.c.id == web_sessions.c.user_id)
                .where(web_sessions.c.id_hash == key)
            ).first()
            if row is None:
                return None
            if row.expires_at <= now or row.last_seen_at + self.idle <= now or row.disabled_at is not None:
                conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == key))
                return None
            # one write a minute at most: the idle clock does not need finer steps
            if now - row.last_seen_at > dt.timedelta(seconds=60):
                conn.execute(update(web_sessions).where(web_sessions.c.id_hash == key).values(last_seen_at=now))
        return SessionRecord(user=UserRecord.from_row(row), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def delete(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(token)))

    def age(self, token: str, by: dt.timedelta) -> None:
        """Moves a session's clocks into the past (tests of expiry)."""
        with self.engine.begin() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == _digest(token)).values(
                created_at=web_sessions.c.created_at - by, last_seen_at=web_sessions.c.last_seen_at - by,
                expires_at=web_sessions.c.expires_at - by,
            ))
