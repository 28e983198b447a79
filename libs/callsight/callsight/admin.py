"""Operator commands: `python -m callsight.admin ensure-demo | create-org | create-key`.

Prints JSON so scripts (the local launcher) can read it.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys

from callsight.apikeys import SCOPES
from callsight.db.engine import make_engine
from callsight.db.orgs_repo import ApiKeyExpired, OrgRepository
from callsight.db.users_repo import UserRepository
from callsight.settings import DatabaseSettings, PepperSettings, SettingsError

DEMO_ORG = "demo"


class AdminSettings(DatabaseSettings, PepperSettings):
    """What `python -m callsight.admin` reads: the database and the API key pepper."""


DEMO_USER = "admin@demo.callsight.local"


def ensure_demo_user(users: UserRepository, password: str) -> str:
    """The demo admin's password: `password` when it still signs in, else a new one."""
    user = users.by_email(DEMO_USER)
    if user is None:
        password = password or secrets.token_urlsafe(12)
        users.create(DEMO_ORG, DEMO_USER, "Demo Admin", password, role="admin", locale="ja")
        return password
    if password and users.password_matches(user.id, password):
        return password
    password = secrets.token_urlsafe(12)
    users.set_password(user.id, password)
    return password


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("ensure-demo", help="create the demo organisation and an API key if needed")
    demo.add_argument("--api-key", default="", help="a key to keep if it is still valid")
    demo.add_argument("--password", default="", help="the demo admin's password to keep if it still signs in")
    org = sub.add_parser("create-org")
    org.add_argument("org_id")
    org.add_argument("--name", default="")
    org.add_argument("--language", default="ja-JP", choices=["ja-JP", "en-US"])
    key = sub.add_parser("create-key")
    key.add_argument("org_id")
    key.add_argument("--name", default="cli")
    key.add_argument("--scopes", default=",".join(SCOPES), help=f"comma-separated, of {', '.join(SCOPES)}")
    args = parser.parse_args(argv)

    try:
        settings = AdminSettings.from_env()
    except SettingsError as exc:
        print(f"callsight.admin: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    repo = OrgRepository(engine, settings.peppers)
    if args.command == "ensure-demo":
        repo.ensure_org(DEMO_ORG, "Demo Contact Centre", "ja-JP")
        try:
            key_record = repo.authenticate(args.api_key) if args.api_key else None
        except ApiKeyExpired:
            key_record = None
        # the demo key is the organisation's administrator: every scope
        usable = key_record is not None and key_record.org_id == DEMO_ORG and set(key_record.scopes) == set(SCOPES)
        api_key = args.api_key if usable else ""
        if not api_key:
            api_key, _ = repo.create_api_key(DEMO_ORG, "demo key (make up)", SCOPES, created_by="make up")
        password = ensure_demo_user(UserRepository(engine), args.password)
        print(json.dumps({"org_id": DEMO_ORG, "api_key": api_key, "user": DEMO_USER, "password": password}))
    elif args.command == "create-org":
        record = repo.ensure_org(args.org_id, args.name or args.org_id, args.language)
        print(json.dumps({"org_id": record.id, "name": record.name}))
    elif args.command == "create-key":
        if repo.get(args.org_id) is None:
            print(f"organisation {args.org_id!r} does not exist", file=sys.stderr)
            return 1
        scopes = [s.strip() for s in args.scopes.split(",") if s.strip()]
        if not scopes or set(scopes) - set(SCOPES):
            print(f"--scopes must name some of {', '.join(SCOPES)}", file=sys.stderr)
            return 2
        plaintext, created = repo.create_api_key(args.org_id, args.name, scopes, created_by="cli")
        print(json.dumps({"org_id": args.org_id, "api_key": plaintext, "prefix": created.prefix,
                          "scopes": created.scopes}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
