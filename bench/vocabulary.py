"""Custom vocabulary: does giving the engine an organisation's terms make it write them right?

    .venv/bin/python -m bench.vocabulary        # prints the markdown table

English: Allison's telephone prompts that name products (Comedian Mail, Digium, Inter-Asterisk
Exchange, Super Awesome Company ...), real human speech. Japanese: call-centre sentences with
product names spoken by Kokoro TTS (not human speech). Every clip is sent as 8 kHz G.711
μ-law, through the worker's pipeline, once without and once with the organisation's terms.
Recall counts the term occurrences of the references found in the transcripts; the
error rate on clips that contain no term shows what the terms cost elsewhere.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.calls import render, sources
from bench.calls.score import error_rate
from bench.calls.script import OPERATOR, Placement, Script
from callsight.vocabulary import parse_terms
from callsight_worker.engines.whisper import WhisperTranscriber
from callsight_worker.model import default_model_dir
from callsight_worker.pipeline import CallRequest, transcribe_file
from callsight_worker.timeline.guards import normalise

EN_TERMS = ["Comedian Mail", "Digium", "Asterisk", "Inter-Asterisk Exchange", "PBX", "IVR", "Super Awesome Company",
            "Waldo"]
EN_WITH = ["vm-newuser", "vm-login", "demo-abouttotry", "demo-nogo", "demo-instruct", "demo-moreinfo",
           "basic-pbx-ivr-main", "demo-thanks"]
EN_WITHOUT = ["followme/status", "queue-periodic-announce", "tt-allbusy", "vm-sorry", "privacy-prompt", "ss-noservice",
              "vm-msgforwarded", "priv-introsaved"]

JA_TERMS = [("光回線プラスプラン", "ひかりかいせんぷらすぷらん"), ("マイページ", "まいぺーじ"),
            ("スマートバリュー割", "すまーとばりゅーわり"), ("コールサイト", "こーるさいと"),
            ("あんしんサポートパック", "あんしんさぽーとぱっく"), ("ギガトクプラン", "ぎがとくぷらん"),
            ("ネオモバイル", "ねおもばいる")]
JA_WITH = [
    "光回線プラスプランへのお申し込みありがとうございます。",
    "マイページからスマートバリュー割の適用状況をご確認いただけます。",
    "コールサイトの管理画面にログインしてください。",
    "あんしんサポートパックは月額五百円でご利用いただけます。",
    "ギガトクプランとの併用はできませんのでご注意ください。",
    "ネオモバイルの端末補償についてご案内いたします。",
    "光回線プラスプランとギガトクプランの違いを説明いたします。",
    "解約はマイページのご契約内容から行っていただけます。",
]
JA_WITHOUT = [
    "お電話ありがとうございます。カスタマーサポートの佐藤でございます。",
    "ご本人様確認のため、お名前と生年月日をお願いいたします。",
    "大変申し訳ございません。ただいまお調べいたします。",
    "他にご不明な点はございますか。",
]


@dataclass
class Clip:
    path: Path
    text: str
    language: str


def _clip_file(clip: sources.Clip, out: Path, name: str) -> Clip:
    s = Script(name, clip.language, [Placement(OPERATOR, clip, 0.3, "line")])
    path, _ = render.render(s, render.Condition("ulaw"), out, seed=1, pause_s=0.6)
    return Clip(path, clip.text, clip.language)


def _occurrences(text: str, term: str) -> int:
    return normalise(text).count(normalise(term))


def run_set(engine: WhisperTranscriber, clips: list[Clip], controls: list[Clip], terms: list[str],
            vocabulary: list[dict[str, Any]]) -> dict[str, float]:
    """Term recall on `clips`, term insertions (said more often than in the reference, so
    recited or invented) on all clips, and the error rate on `controls` (no term in them)."""
    found = {False: 0, True: 0}
    inserted = {False: 0, True: 0}
    errors: dict[bool, list[float]] = {False: [], True: []}
    total = 0
    for clip in clips + controls:
        wanted = {t: _occurrences(clip.text, t) for t in terms}
        total += sum(wanted.values())
        for with_terms in (False, True):
            result = transcribe_file(clip.path, "wav", engine, CallRequest(
                language=clip.language, vocabulary=tuple(vocabulary) if with_terms else ()))
            said = result.transcript.text
            found[with_terms] += sum(min(n, _occurrences(said, t)) for t, n in wanted.items())
            inserted[with_terms] += sum(max(0, _occurrences(said, t) - n) for t, n in wanted.items())
            if clip in controls:
                errors[with_terms].append(error_rate(clip.text, said, clip.language))
    return {"total": total, "without": found[False] / max(1, total), "with": found[True] / max(1, total),
            "inserted_without": inserted[False], "inserted_with": inserted[True],
            "error_without": sum(errors[False]) / len(errors[False]), "error_with": sum(errors[True]) / len(errors[True])}


def main() -> str:
    engine = WhisperTranscriber(default_model_dir(), threads=int(os.environ.get("CALLSIGHT_WHISPER_THREADS", "1")))
    out = Path(tempfile.mkdtemp(prefix="callsight-vocab-"))
    rows = []
    en_vocab = parse_terms([{"text": t, "language": "en-US"} for t in EN_TERMS])
    en_with = [_clip_file(sources.asterisk(n), out, f"en-{i}") for i, n in enumerate(EN_WITH)]
    en_without = [_clip_file(sources.asterisk(n), out, f"en-c{i}") for i, n in enumerate(EN_WITHOUT)]
    rows.append(("English, Allison's prompts (human speech)", run_set(engine, en_with, en_without, EN_TERMS, en_vocab),
                 "WER"))
    try:
        ja_vocab = parse_terms([{"text": t, "reading": k, "language": "ja-JP"} for t, k in JA_TERMS])
        ja_with = [_clip_file(sources.japanese(t, "jf_alpha"), out, f"ja-{i}") for i, t in enumerate(JA_WITH)]
        ja_without = [_clip_file(sources.japanese(t, "jf_alpha"), out, f"ja-c{i}") for i, t in enumerate(JA_WITHOUT)]
        rows.append(("Japanese, product names (Kokoro TTS)",
                     run_set(engine, ja_with, ja_without, [t for t, _ in JA_TERMS], ja_vocab), "CER"))
    except ImportError as exc:
        print(f"(Japanese set skipped: {exc}; install requirements/bench.txt)")
    lines = ["| set | term occurrences | recall without terms | recall with terms | terms inserted: without / with "
             "| error on clips without terms: without / with |", "|---|---|---|---|---|---|"]
    for name, r, metric in rows:
        lines.append(f"| {name} | {r['total']:.0f} | {r['without']:.0%} | {r['with']:.0%} "
                     f"| {r['inserted_without']:.0f} / {r['inserted_with']:.0f} "
                     f"| {metric} {r['error_without']:.1%} / {r['error_with']:.1%} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main())
