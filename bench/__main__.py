"""`make bench`: every figure against a real local stack, written to bench/results.md.

    python -m bench [--only upload,ingest,reads,list1m,pipeline,steps,scaling,live,slowclients,accuracy,timeline,vocabulary,diarization] [--minutes 1,5]

The 30-minute pipeline figure is opt-in (`--minutes 1,5,30`): it takes ~7 minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench import accuracy, diarization, live, slow_clients, system, timeline, vocabulary
from bench.system import Figure
from callsight_stack.stack import Stack

SECTIONS = ("upload", "ingest", "reads", "list1m", "pipeline", "steps", "scaling", "live", "slowclients", "accuracy", "timeline",
            "vocabulary", "diarization")
# sections that run in-process, without the local stack
IN_PROCESS = {"steps", "accuracy", "timeline", "vocabulary", "diarization"}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return (f"- machine: {os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.0f} GiB, {platform.system()} {platform.release()}\n"
            f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC}\n- commit: {commit}\n")


def render(figures: list[Figure]) -> str:
    out = []
    section = None
    for f in figures:
        if f.section != section:
            section = f.section
            out += [f"\n### {section}\n", "| figure | value | unit | reproduce |", "|---|---|---|---|"]
        value = f"{f.value:.3f}" if abs(f.value) < 10 else f"{f.value:,.1f}"
        out.append(f"| {f.name} | {value} | {f.unit} | `{f.command}` |")
    return "\n".join(out) + "\n"


def sizing_table(figures: list[Figure]) -> str:
    """Kubernetes sizing from the measured per-call RTF and worker memory."""
    by_name = {f.name: f.value for f in figures}
    rtf = by_name.get("1-min stereo WAV: real-time factor (upload to Done / duration)")
    rss = by_name.get("model + worker memory per worker process (RSS)")
    if rtf is None:
        return ""
    rows = ["\n### Sizing for Kubernetes (one worker = 1 CPU, 1 Whisper thread)\n",
            f"Per-call RTF {rtf:.3f} (1-min stereo, upload to Done), worker RSS {rss or 0:.0f} MB.\n",
            "| call length | calls/hour per worker | workers for 1,000 calls/hour | worker memory request |",
            "|---|---|---|---|"]
    for minutes in (3, 5, 10, 30):
        per_worker = 3600 / (minutes * 60 * rtf + 1.0)
        rows.append(f"| {minutes} min | {per_worker:.0f} | {1000 / per_worker:.1f} | 1 GiB (limit 3 GiB) |")
    return "\n".join(rows) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--minutes", default="1,5")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    only = set(args.only.split(","))
    minutes = [float(m) for m in args.minutes.split(",") if m]
    figures: list[Figure] = []
    run_dir = Path(tempfile.mkdtemp(prefix="callsight-bench-", dir="/tmp"))
    run_dir.chmod(0o755)
    stack = Stack(run_dir, workers=2, random_ports=True, env_overrides={"CALLSIGHT_WHISPER_THREADS": "1", "CALLSIGHT_RATE_LIMIT_PER_MINUTE": "0"})
    needs_stack = only - IN_PROCESS - {"live", "slowclients"}  # these start a stack of their own
    try:
        if needs_stack:
            print("starting a local stack for the benchmark ...", flush=True)
            stack.start()
        # workers first, then stop them: the gateway and read figures are taken without
        # transcription competing for the two cores
        steps = [
            ("pipeline", lambda: system.pipeline(stack, minutes)),
            ("scaling", lambda: system.scaling(stack)),
            ("stop-workers", lambda: system.stop_workers(stack)),
            ("upload", lambda: system.upload_throughput(stack)),
            ("ingest", lambda: system.ingest_rate(stack)),
            ("reads", lambda: system.status_reads(stack)),
            ("list1m", lambda: system.list_calls_at_1m(stack)),
            ("steps", lambda: system.worker_steps(1.0)),
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
    text = "# Callsight benchmark results\n\n" + machine() + render(figures) + sizing_table(figures)
    if "accuracy" in only:
        print("running accuracy ...", flush=True)
        text += "\n### Transcription accuracy and speed (`python -m bench.accuracy`)\n\n" + accuracy.render(accuracy.main()) + "\n"
    if "timeline" in only:
        print("running timeline ...", flush=True)
        text += ("\n### Turn timeline on real speech in telephone conditions (`python -m bench.timeline`)\n\n"
                 + timeline.main() + "\n")
    if "vocabulary" in only:
        print("running vocabulary ...", flush=True)
        text += "\n### Custom vocabulary (`python -m bench.vocabulary`)\n\n" + vocabulary.main() + "\n"
    if "diarization" in only:
        print("running diarization ...", flush=True)
        text += ("\n### Mono calls: two speakers from one track (`python -m bench.diarization`)\n\n"
                 + diarization.main() + "\n")
    if only != set(SECTIONS) and args.out.exists():
        # a partial run replaces its own sections and keeps the others' figures as they were
        text = merge(args.out.read_text(), text, ",".join(sorted(only)))
    args.out.write_text(text)
    print(text)
    return 0


def _blocks(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The header, then each `### section` with its body, in order."""
    head, *rest = text.split("\n### ")
    return head, [(part.split("\n", 1)[0], "### " + part) for part in rest]


def merge(existing: str, new: str, only: str) -> str:
    old_head, old_blocks = _blocks(existing)
    _, new_blocks = _blocks(new)
    fresh = dict(new_blocks)
    merged = [fresh.pop(name, body) for name, body in old_blocks] + list(fresh.values())
    stamp = machine().replace("\n- ", ", ").replace("- ", "", 1).strip()
    head = old_head.rstrip("\n") + f"\n\n- `python -m bench --only {only}` (its sections below): {stamp}\n"
    return head + "".join("\n" + block.rstrip("\n") + "\n" for block in merged)


if __name__ == "__main__":
    raise SystemExit(main())
