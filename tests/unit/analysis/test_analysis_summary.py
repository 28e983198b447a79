from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from callsight.settings import SummarySettings
from callsight_worker.analysis.summary import (
    ExtractiveSummarizer,
    OpenAICompatibleSummarizer,
    Summarizer,
    SummarizerError,
    content_tokens,
    keywords,
)
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit

OP, CU = "operator", "customer"

EN_CALL = call(
    [
        turn(OP, 0, 5, "Thank you for calling Acme Internet, my name is Dana. How can I help?"),
        turn(
            CU,
            5,
            15,
            "Hi. My internet connection keeps dropping every evening. "
            "The router lights go red when the connection drops.",
        ),
        turn(OP, 15, 20, "I'm sorry to hear that. Let me run a line test on your connection."),
        turn(CU, 20, 22, "Okay."),
        turn(
            OP,
            22,
            32,
            "The line test shows errors on your router. I will send a replacement router tomorrow.",
        ),
        turn(CU, 32, 38, "Thanks. Will the replacement router fix the dropping connection?"),
        turn(OP, 38, 42, "Yes, the new router should fix it. Have a great day."),
    ]
)

JA_CALL = call(
    [
        turn(OP, 0, 5, "お電話ありがとうございます。サンプル光の鈴木でございます。"),
        turn(
            CU,
            5,
            15,
            "インターネット回線が夜になると切れてしまいます。ルーターのランプが赤くなります。",
        ),
        turn(OP, 15, 22, "ご不便をおかけしております。回線の状態を確認いたします。"),
        turn(CU, 22, 23, "はい。"),
        turn(
            OP, 23, 33, "ルーターに異常が見つかりました。明日、交換用のルーターを発送いたします。"
        ),
        turn(
            CU, 33, 40, "交換用ルーターはいつ届きますか。インターネット回線が使えないと困ります。"
        ),
        turn(OP, 40, 45, "明後日には届く予定です。お電話ありがとうございました。"),
    ],
    language="ja-JP",
)


@pytest.mark.parametrize("transcript", [EN_CALL, JA_CALL], ids=["en", "ja"])
def test_key_sentences_belong_to_their_speaker(transcript):
    s = ExtractiveSummarizer(sentences_per_speaker=2).summarize(transcript)
    assert set(s.key_sentences) == {OP, CU}
    for speaker, sentences in s.key_sentences.items():
        assert 1 <= len(sentences) <= 2
        for ks in sentences:
            t = transcript.turns[ks.turn_index]
            assert t.speaker == speaker == ks.speaker
            assert ks.text in t.text
            assert ks.start == t.start
        assert [k.start for k in sentences] == sorted(k.start for k in sentences)
    # backchannels are never key sentences
    texts = [k.text for ks in s.key_sentences.values() for k in ks]
    assert "Okay." not in texts and "はい。" not in texts
    json.dumps(s.to_dict(), ensure_ascii=False)


def test_key_sentences_prefer_central_content():
    s = ExtractiveSummarizer(sentences_per_speaker=1).summarize(EN_CALL)
    assert "router" in s.key_sentences[CU][0].text.lower() or "connection" in (
        s.key_sentences[CU][0].text.lower()
    )


def test_keywords_english():
    kws = [k.text.lower() for k in keywords(" ".join(t.text for t in EN_CALL.turns), "en-US")]
    assert any("router" in k for k in kws[:5])
    assert any("connection" in k for k in kws)


def test_keywords_japanese_content_nouns():
    text = "".join(t.text for t in JA_CALL.turns)
    kws = [k.text for k in keywords(text, "ja-JP")]
    assert "ルーター" in kws[:3]
    assert any("インターネット" in k for k in kws)
    assert not {"こと", "はい", "お客様"} & set(kws)


def test_keywords_skip_pii_masks():
    kws = [k.text.lower() for k in keywords("my card [CARD] and card [CARD] card number", "en-US")]
    assert not any(k in ("card", "[card]", "number") for k in kws)


def test_content_tokens():
    assert content_tokens("I'd like to change my billing address", "en-US") == [
        "change",
        "billing",
        "address",
    ]
    toks = content_tokens("住所の変更をお願いします。", "ja-JP")
    assert "住所" in toks and "変更" in toks


# --- the OpenAI-compatible summarizer against a local fake server ---------


class _FakeLLM(BaseHTTPRequestHandler):
    answer: dict[str, Any] | None = None
    status = 200
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        payload = json.dumps(type(self).answer or {}).encode()
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_llm() -> Iterator[str]:
    _FakeLLM.seen = []
    _FakeLLM.status = 200
    _FakeLLM.answer = {
        "choices": [{"message": {"role": "assistant", "content": " Router replaced. "}}]
    }
    server = HTTPServer(("127.0.0.1", 0), _FakeLLM)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_llm_summarizer_posts_chat_completion(fake_llm):
    llm = OpenAICompatibleSummarizer.from_settings(SummarySettings.from_env({
        "CALLSIGHT_SUMMARY_LLM_URL": fake_llm,
        "CALLSIGHT_SUMMARY_LLM_MODEL": "local-model",
        "CALLSIGHT_SUMMARY_LLM_API_KEY": "k",
        "CALLSIGHT_SUMMARY_LLM_TIMEOUT_S": "5",
    }))
    s = llm.summarize(EN_CALL)
    assert s.overview == "Router replaced."
    assert s.method == "openai-compatible:local-model"
    assert s.key_sentences[OP]  # still extractive quotes
    [req] = _FakeLLM.seen
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer k"
    assert req["model"] == "local-model"
    assert "operator: Thank you for calling" in req["messages"][1]["content"]


def test_llm_summarizer_base_url_with_v1(fake_llm):
    OpenAICompatibleSummarizer(base_url=fake_llm + "/v1/", model="m").summarize(JA_CALL)
    assert _FakeLLM.seen[0]["path"] == "/v1/chat/completions"
    assert _FakeLLM.seen[0]["auth"] is None
    assert "日本語" in _FakeLLM.seen[0]["messages"][0]["content"]


def test_llm_summarizer_errors_are_clear(fake_llm):
    _FakeLLM.status = 500
    with pytest.raises(SummarizerError, match="HTTP 500"):
        OpenAICompatibleSummarizer(base_url=fake_llm, model="m").summarize(EN_CALL)
    _FakeLLM.status = 200
    _FakeLLM.answer = {"unexpected": True}
    with pytest.raises(SummarizerError, match="unexpected answer"):
        OpenAICompatibleSummarizer(base_url=fake_llm, model="m").summarize(EN_CALL)


def test_llm_summarizer_unreachable_and_misconfigured():
    with pytest.raises(SummarizerError, match="unreachable"):
        OpenAICompatibleSummarizer(
            base_url="http://127.0.0.1:9", model="m", connect_timeout_s=1, timeout_s=1
        ).summarize(EN_CALL)
    with pytest.raises(SummarizerError, match="CALLSIGHT_SUMMARY_LLM_URL"):
        OpenAICompatibleSummarizer.from_settings(SummarySettings.from_env({}))


def test_protocol():
    def use(s: Summarizer) -> str:
        return s.name

    assert use(ExtractiveSummarizer()) == "extractive"
    assert use(OpenAICompatibleSummarizer(base_url="http://x", model="m")) == "openai-compatible"
