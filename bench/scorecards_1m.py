"""Scorecard aggregates at 1 million calls: how long each query takes and which indexes it uses.

    .venv/bin/python bench/scorecards_1m.py                      # starts a throwaway PostgreSQL
    .venv/bin/python bench/scorecards_1m.py --database-url URL   # a server you have (e.g. the
                                                                 # running stack); a scratch database
                                                                 # is created in it and dropped

Generates 1,000,000 calls of one organisation (plus 100,000 of another) over 2025 with
`INSERT ... SELECT generate_series` — 200 operators, 10 departments, 100,000 customers,
95 % Done, each Done call with an analysis of 8 QA items — migrates with the project's
own migrations, runs every query of ScorecardRepository (the SQL the status service
runs) three times warm, and prints the median and the indexes in its plan.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from callsight.db.engine import sqlalchemy_url
from callsight.db.migrate import upgrade
from callsight.db.scorecards_repo import ScopeFilter, ScorecardRepository

ORG, OTHER = "bench", "bench-other"
N_CALLS, N_OTHER = 1_000_000, 100_000

CALLS_SQL = """
INSERT INTO calls (uid, org_id, call_id, status, status_rank, error, language, operator_id, customer_id,
                   department, call_date, duration_s, audio_format, size_bytes, audio_key, created_at, updated_at)
SELECT md5(:org || g)::uuid::text, :org, 'c-' || g,
       CASE WHEN g % 20 = 0 THEN 'Failed' ELSE 'Done' END, 2,
       CASE WHEN g % 20 = 0 THEN 'bench' END, 'ja-JP',
       'op-' || (g % 200), 'cust-' || (g % 100000), 'dept-' || (g % 10),
       DATE '2025-01-01' + (g % 365), 60 + g % 600, 'wav', 1000, 'k/' || g,
       TIMESTAMPTZ '2025-01-01' + (g % 365) * INTERVAL '1 day' + (g % 86400) * INTERVAL '1 second',
       now()
FROM generate_series(1, :n) AS g
"""

ANALYSES_SQL = """
INSERT INTO analyses (call_uid, org_id, analysis_version, form_fingerprint, result, qa_score, qa_items,
                      operator_talk_share, silence_total_s, longest_silence_s, interruptions,
                      customer_sentiment_start, customer_sentiment_end, customer_sentiment_change)
SELECT c.uid, c.org_id, '1.0.0', 'bench',
       jsonb_build_object('analysis_version', '1.0.0', 'scorecard', jsonb_build_object('score', s.score)),
       s.score,
       jsonb_build_object('greeting', r1 > 0.1, 'self_introduction', r1 > 0.2, 'identity_check', r2 > 0.3,
                          'cushion', r2 > 0.5, 'closing', r3 > 0.15, 'ng_words', r3 > 0.05,
                          'dead_air', r1 + r2 > 0.4, 'talk_share', r2 + r3 > 0.6),
       0.3 + r1 * 0.5, r2 * 30, r3 * 15, (r1 * 6)::int, r2 * 2 - 1, r3 * 2 - 1, (r3 - r2) * 2
FROM calls c,
     LATERAL (SELECT random() AS r1, random() AS r2, random() AS r3) r,
     LATERAL (SELECT round((r1 * 60 + 40)::numeric, 1)::float AS score) s
WHERE c.org_id = :org AND c.status = 'Done'
"""


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))
    from callsight_stack import servers

    root = Path(tempfile.mkdtemp(prefix="callsight-bench-", dir="/tmp"))
    root.chmod(0o755)
    password = secrets.token_hex(8)
    data_dir = servers.postgres_data_dir(root)
    user = servers.init_postgres(data_dir, password)
    port = servers.free_port()
    spec = servers.postgres_spec(data_dir, port, user, password)
    log = root / "postgres.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(spec.argv, user=spec.user, stdout=out, stderr=subprocess.STDOUT)
    try:
        servers.wait_healthy(spec, proc, log)
        yield f"postgresql://callsight:{password}@127.0.0.1:{port}/postgres"
    finally:
        proc.terminate()
        proc.wait(30)
        shutil.rmtree(data_dir.parent if data_dir.parent != root / "data" else root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    name = f"callsight_bench_{secrets.token_hex(4)}"
    admin = create_engine(sqlalchemy_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def generate(engine: Engine) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        for org, n in ((ORG, N_CALLS), (OTHER, N_OTHER)):
            conn.execute(text("INSERT INTO organizations (id, name) VALUES (:org, :org)"), {"org": org})
            conn.execute(text(CALLS_SQL), {"org": org, "n": n})
            conn.execute(text(ANALYSES_SQL), {"org": org})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE calls"))
        conn.execute(text("VACUUM ANALYZE analyses"))
    return time.perf_counter() - started


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def plan_indexes(engine: Engine, statements: list[tuple[str, Any]]) -> list[str]:
    found: list[str] = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
            stack = [plan[0]["Plan"]]
            while stack:
                node = stack.pop()
                name = node.get("Index Name")
                label = f"{name} ({node['Node Type'].lower()})" if name else None
                if label and label not in found:
                    found.append(label)
                stack.extend(node.get("Plans", []))
    return found


def measure(engine: Engine, run: Callable[[], Any], repeats: int = 3) -> tuple[float, int, list[str]]:
    with captured(engine) as statements:
        result = run()  # warm-up; its statements are the ones explained
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), len(result), plan_indexes(engine, statements)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("CALLSIGHT_BENCH_DATABASE_URL"))
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the throwaway server is stopped and removed
    server = nullcontext(args.database_url) if args.database_url else throwaway_postgres()
    with server as server_url, scratch_database(server_url) as url:
        upgrade(url)
        engine = create_engine(sqlalchemy_url(url), pool_size=2)
        print(f"generating {N_CALLS:,} + {N_OTHER:,} calls with analyses ...", flush=True)
        print(f"generated in {generate(engine):.0f} s", flush=True)
        repo = ScorecardRepository(engine)
        month = ScopeFilter(ORG, dt.date(2025, 3, 1), dt.date(2025, 3, 31))
        year = ScopeFilter(ORG, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
        quarter = ScopeFilter(ORG, dt.date(2025, 1, 1), dt.date(2025, 3, 31))
        cases: list[tuple[str, Callable[[], Any]]] = [
            ("operators, 1 month (~78k calls)", lambda: repo.operator_scorecards(month)),
            ("operators, 1 month, one department, sort mean_qa_score desc",
             lambda: repo.operator_scorecards(ScopeFilter(ORG, month.date_from, month.date_to, "dept-3"),
                                              "mean_qa_score", True)),
            ("operators, whole year (950k calls)", lambda: repo.operator_scorecards(year)),
            ("one operator, a quarter: figures + weekly trend", lambda: repo.operator_scorecard(quarter, "op-7")[1]),
            ("one operator, a quarter: their calls (500 newest)", lambda: repo.calls(quarter, operator_id="op-7")),
            ("departments, 1 month", lambda: repo.department_analytics(month)),
            ("departments, whole year", lambda: repo.department_analytics(year)),
            ("one customer's calls, time order", lambda: repo.calls(ScopeFilter(ORG), customer_id="cust-4242",
                                                                     any_status=True, newest_first=False)),
            ("re-run selection: one operator, 1 month", lambda: repo.done_calls(month, "op-7")),
        ]
        print("\n| query | median ms | rows | indexes in the plan |\n|---|---:|---:|---|")
        for name, run in cases:
            ms, rows, indexes = measure(engine, run)
            print(f"| {name} | {ms:.0f} | {rows} | {', '.join(indexes) or 'none (sequential scan)'} |", flush=True)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
