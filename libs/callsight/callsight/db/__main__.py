"""`python -m callsight.db upgrade` migrates the database in CALLSIGHT_DATABASE_URL."""

from __future__ import annotations

import sys

from callsight.db.migrate import autogenerate, upgrade
from callsight.settings import DatabaseSettings, SettingsError


def main(argv: list[str]) -> int:
    try:
        url = DatabaseSettings.from_env().database_url.get_secret_value()
    except SettingsError as exc:
        print(f"callsight.db: {exc}", file=sys.stderr)
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
