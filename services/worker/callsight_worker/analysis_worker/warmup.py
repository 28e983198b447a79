"""Load what the analysis needs (MeCab's dictionary, the sentiment lexicons, YAKE) once
at start, by analysing two tiny built-in calls, so the first real job does not pay for it."""

from __future__ import annotations

from callsight_worker.analysis import analyse_call
from callsight_worker.transcript import Transcript

SAMPLES = {
    "ja-JP": ("お電話ありがとうございます。担当の佐藤です。", "請求書の件で確認したいことがあります。"),
    "en-US": ("Thank you for calling, this is Dana.", "Hi, I have a question about my bill."),
}


def warm_up() -> None:
    for language, (operator, customer) in SAMPLES.items():
        analyse_call(Transcript.from_dict({"language": language, "duration_s": 5.0, "turns": [
            {"speaker": "operator", "start": 0.0, "end": 2.0, "text": operator},
            {"speaker": "customer", "start": 2.5, "end": 4.5, "text": customer},
        ]}))
