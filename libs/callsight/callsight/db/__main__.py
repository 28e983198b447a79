"""`python -m callsight.db upgrade` migrates the database in CALLSIGHT_DATABASE_URL."""

from __future__ import annotations

import os
import sys

from callsight.db.migrate import autogenerate, upgrade


def main(argv: list[str]) -> int:
    url = os.environ.get("CALLSIGHT_DATABASE_URL")
    if not url:
        print("CALLSIGHT_DATABASE_URL is required", file=sys.stderr)
        return 2
    if argv[:1] == ["upgrade"]:
        upgrade(url, argv[1] if len(argv) > 1 else "head")
        return 0
    if argv[:1] == ["revision"] and len(argv) == 2:
        autogenerate(url, argv[1])
        return 0
    print("usage: python -m callsight.db upgrade [REVISION] | revision MESSAGE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
