"""Operator commands: `python -m callsight.admin ensure-demo | create-org | create-key`.

Prints JSON so scripts (the local launcher) can read it.
"""

from __future__ import annotations

import argparse
import json
import sys

from callsight.db.engine import make_engine
from callsight.db.orgs_repo import OrgRepository
from callsight.settings import Settings

DEMO_ORG = "demo"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m callsight.admin")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("ensure-demo", help="create the demo organisation and an API key if needed")
    demo.add_argument("--api-key", default="", help="a key to keep if it is still valid")
    org = sub.add_parser("create-org")
    org.add_argument("org_id")
    org.add_argument("--name", default="")
    org.add_argument("--language", default="ja-JP", choices=["ja-JP", "en-US"])
    key = sub.add_parser("create-key")
    key.add_argument("org_id")
    key.add_argument("--name", default="cli")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    repo = OrgRepository(make_engine(settings.database_url, pool_size=1),
                         [settings.api_key_pepper, settings.api_key_pepper_previous or ""])
    if args.command == "ensure-demo":
        repo.ensure_org(DEMO_ORG, "Demo Contact Centre", "ja-JP")
        key_record = repo.authenticate(args.api_key) if args.api_key else None
        api_key = args.api_key if key_record and key_record.org_id == DEMO_ORG else ""
        if not api_key:
            api_key, _ = repo.create_api_key(DEMO_ORG, "demo key (make up)")
        print(json.dumps({"org_id": DEMO_ORG, "api_key": api_key}))
    elif args.command == "create-org":
        record = repo.ensure_org(args.org_id, args.name or args.org_id, args.language)
        print(json.dumps({"org_id": record.id, "name": record.name}))
    elif args.command == "create-key":
        if repo.get(args.org_id) is None:
            print(f"organisation {args.org_id!r} does not exist", file=sys.stderr)
            return 1
        plaintext, record = repo.create_api_key(args.org_id, args.name)
        print(json.dumps({"org_id": args.org_id, "api_key": plaintext, "prefix": record.prefix}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
