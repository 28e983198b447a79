"""`make bench`: every figure against a real local stack, written to bench/results.md.

    python -m bench [--only upload,ingest,reads,list1m,pipeline,scaling,coldstart,speed,comparison,ways,memory4h,
                            live,slowclients,accuracy,timeline,vocabulary,diarization] [--minutes 1,5,30]

Every section carries the machine, commit and date it was measured at. `--only` re-runs
the sections it names and keeps the others as the last run wrote them (with their own
stamps); a section never run is not printed. Runtimes on the 2-core machine: speed with
1,5,30 minutes ~8 min, memory4h ~8 min (a 4-hour call with 40 min of speech), ways ~4 min,
comparison ~3 min, pipeline + scaling + coldstart ~5 min.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import accuracy, diarization, live, slow_clients, speed, system, timeline, vocabulary
from bench.system import Figure
from callsight_stack.stack import Stack

SECTIONS = ("upload", "ingest", "reads", "list1m", "pipeline", "scaling", "coldstart", "speed", "comparison", "ways",
            "memory4h", "live", "slowclients", "accuracy", "timeline", "vocabulary", "diarization")
# where each section's block goes in results.md
ORDER = ["Upload", "Ingest rate", "Status reads", "Pipeline", "Cold start", "Scaling", "Speed", "Comparison", "Ways",
         "Memory", "Sizing for Kubernetes"]
# sections that run in-process, without the local stack
IN_PROCESS = {"speed", "comparison", "ways", "memory4h", "accuracy", "timeline", "vocabulary", "diarization"}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    return f"{os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}"


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results.md"],
                           capture_output=True, text=True).stdout  # this file is what a run writes
    return head + ("+local changes" if dirty.strip() else "")


def stamp() -> str:
    return f"_measured on {machine()}, commit {commit()}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}_\n"


def render(figures: list[Figure]) -> dict[str, str]:
    """One block per section: heading, stamp, table."""
    blocks: dict[str, list[str]] = {}
    for f in figures:
        if f.section not in blocks:
            blocks[f.section] = [stamp(), "| figure | value | unit | reproduce |", "|---|---|---|---|"]
        value = f"{f.value:.3f}" if abs(f.value) < 10 else f"{f.value:,.1f}"
        blocks[f.section].append(f"| {f.name} | {value} | {f.unit} | `{f.command}` |")
    return {name: "\n".join(lines) + "\n" for name, lines in blocks.items()}


def sizing_table(figures: list[Figure]) -> str:
    """Kubernetes sizing from each call length's measured pipeline time and the 4-hour memory peak."""
    lengths = [(float(m.group(1)), f.value) for f in figures if f.section == "Speed"
               for m in [re.match(r"([0-9.]+)-min call: pipeline real-time factor", f.name)] if m]
    peak = next((f.value for f in figures if f.section == "Memory" and "peak RSS (sampled)" in f.name), None)
    if not lengths or peak is None:
        return ""
    cores = os.cpu_count() or 1
    # request: the peak rounded up to 256 MiB; limit: half as much again (a denser call, heap growth)
    request_gib = math.ceil(peak / 256) / 4
    limit_gib = math.ceil(peak * 1.5 / 256) / 4
    rows = [stamp(), f"One worker per pod, given {cores} cores (threads follow the cores it is given). Each row "
            f"uses that call length's measured pipeline real-time factor (section Speed) plus 2 s per call for "
            f"download, analysis and storage; memory from the 4-hour call's peak ({peak:.0f} MB): request the "
            f"peak rounded up to 256 MiB, limit 1.5 times the peak.\n",
            "| call length | measured RTF | calls/hour per worker | workers for 1,000 calls/hour | memory request / limit |",
            "|---|---|---|---|---|"]
    for minutes, rtf in sorted(lengths):
        per_worker = 3600 / (minutes * 60 * rtf + 2.0)
        rows.append(f"| {minutes:g} min | {rtf:.3f} | {per_worker:.0f} | {1000 / per_worker:.1f} "
                    f"| {request_gib:g} GiB / {limit_gib:g} GiB |")
    return "\n".join(rows) + "\n"


def figures_in(blocks: dict[str, str]) -> list[Figure]:
    """The figures of every table, as written: the sizing table uses the latest of each section."""
    out = []
    for section, body in blocks.items():
        for line in body.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == 4 and cells[0] not in ("figure", "---"):
                try:
                    value = float(cells[1].replace(",", ""))
                except ValueError:
                    continue
                out.append(Figure(section, cells[0], value, cells[2], cells[3].strip("`")))
    return out


def kept_blocks(path: Path) -> dict[str, str]:
    """The sections of the last results, each with its stamp (older files: the file's own commit and date)."""
    if not path.exists():
        return {}
    text = path.read_text()
    head = text.split("\n### ", 1)[0]
    old_commit = re.search(r"- commit: (\S+)", head)
    old_date = re.search(r"- date: (.+)", head)
    old_machine = re.search(r"- machine: (.+)", head)
    blocks = {}
    for part in text.split("\n### ")[1:]:
        name, _, body = part.partition("\n")
        body = body.lstrip("\n")
        partial = re.search(r"- `python -m bench --only ([a-z0-9,]+)` \(its sections below\): machine: (.+?), "
                            r"date: (.+?), commit: (\S+)", head)
        if not body.startswith("_measured on") and partial and name.strip().lower().replace(" ", "").startswith(
                partial.group(1).split(",")[0][:4]):
            body = (f"_measured on {partial.group(2)}, commit {partial.group(4)}, {partial.group(3)}_\n" + body)
        if not body.startswith("_measured on") and old_commit and old_date:
            body = (f"_measured on {old_machine.group(1) if old_machine else 'the same machine'}, commit "
                    f"{old_commit.group(1)}, {old_date.group(1)}_\n" + body)
        blocks[name.strip()] = body.rstrip("\n") + "\n"
    return blocks


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--minutes", default="1,5,30")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    only = set(args.only.split(","))
    minutes = [float(m) for m in args.minutes.split(",") if m]
    figures: list[Figure] = []
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-bench-", dir="/tmp"))
    run_dir.chmod(0o755)
    # the default local stack (`make up`): two workers, each using the cores it is given
    stack = Stack(run_dir, workers=2, random_ports=True, env_overrides={"CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0"})
    needs_stack = only - IN_PROCESS - {"live", "slowclients"}  # these start a stack of their own
    try:
        if needs_stack:
            print("starting a local stack for the benchmark ...", flush=True)
            stack.start()
        # workers first, then stop them: the gateway and read figures are taken without
        # transcription competing for the cores
        steps = [
            ("pipeline", lambda: system.pipeline(stack, [m for m in minutes if m <= 5])),
            ("scaling", lambda: system.scaling(stack)),
            ("coldstart", lambda: system.cold_start(stack)),
            ("stop-workers", lambda: system.stop_workers(stack)),
            ("upload", lambda: system.upload_throughput(stack)),
            ("ingest", lambda: system.ingest_rate(stack)),
            ("reads", lambda: system.status_reads(stack)),
            ("list1m", lambda: system.list_calls_at_1m(stack)),
            ("speed", lambda: speed.pipeline(minutes)),
            ("comparison", lambda: speed.comparison(5.0)),
            ("ways", lambda: speed.ways(5.0)),
            ("memory4h", lambda: speed.memory_4h()),
        ]
        for name, run in steps:
            if name in only or (name == "stop-workers" and needs_stack):
                print(f"running {name} ...", flush=True)
                for figure in run():
                    figures.append(figure)
                    print(f"  {figure.name}: {figure.value:.3f} {figure.unit}", flush=True)
    finally:
        stack.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    if "live" in only:  # a stack of its own (one gateway process), after the other one is gone
        print("running live ...", flush=True)
        for figure in live.live_streams():
            figures.append(figure)
            print(f"  {figure.name}: {figure.value:.3f} {figure.unit}", flush=True)
    if "slowclients" in only:  # a stack of its own (one gateway pod), after the others are gone
        print("running slowclients ...", flush=True)
        for figure in slow_clients.slow_clients():
            figures.append(figure)
            print(f"  {figure.name}: {figure.value:.3f} {figure.unit}", flush=True)
    blocks = kept_blocks(args.out)
    for legacy in ("Pipeline steps", "Sizing for Kubernetes (one worker = 1 CPU, 1 Whisper thread)"):
        blocks.pop(legacy, None)  # replaced by Speed, Comparison and the new sizing table (issue 16)
    blocks.update(render(figures))
    sizing = sizing_table(figures_in(blocks))
    if sizing:
        blocks["Sizing for Kubernetes"] = sizing
    if "accuracy" in only:
        print("running accuracy ...", flush=True)
        blocks["Transcription accuracy and speed (`python -m bench.accuracy`)"] = stamp() + "\n" + accuracy.render(accuracy.main()) + "\n"
    if "timeline" in only:
        print("running timeline ...", flush=True)
        blocks["Turn timeline on real speech in telephone conditions (`python -m bench.timeline`)"] = (
            stamp() + "\n" + timeline.main() + "\n")
    if "vocabulary" in only:
        print("running vocabulary ...", flush=True)
        blocks["Custom vocabulary (`python -m bench.vocabulary`)"] = stamp() + "\n" + vocabulary.main() + "\n"
    if "diarization" in only:
        print("running diarization ...", flush=True)
        blocks["Mono calls: two speakers from one track (`python -m bench.diarization`)"] = (
            stamp() + "\n" + diarization.main() + "\n")
    text = ("# Callsight benchmark results\n\nWritten by `make bench` (`python -m bench`); each section says the "
            "machine, commit and date it was measured at. Never edited by hand.\n")
    ordered = sorted(blocks, key=lambda name: ORDER.index(name) if name in ORDER else len(ORDER))
    text += "".join(f"\n### {name}\n\n{blocks[name]}" for name in ordered)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
