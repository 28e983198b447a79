"""The AmiVoice engine's pure parts: result codes, result bodies, profile words, settings, audio."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from callsight.amivoice_settings import AmiVoiceOrgSettings, AmiVoiceSettingsError
from callsight_worker.engines.amivoice import results
from callsight_worker.engines.amivoice.audio import encode, is_telephone_band
from callsight_worker.engines.amivoice.codes import Outcome, classify, classify_job_error
from callsight_worker.engines.amivoice.config import AmiVoiceSettings, build_d, plan_channel
from callsight_worker.engines.amivoice.engines import engine_info
from callsight_worker.engines.amivoice.vocabulary import profile_words
from callsight_worker.engines.base import VocabularyTerm

pytestmark = pytest.mark.unit

# shaped like the synchronous example of docs.amivoice.com (one result, every token timed)
SYNC_BODY = {
    "results": [{
        "tokens": [
            {"written": "アドバンスト・メディア", "confidence": 1, "starttime": 522, "endtime": 1578,
             "spoken": "あどばんすとめでぃあ"},
            {"written": "は", "confidence": 1, "starttime": 1578, "endtime": 1834, "spoken": "は"},
            {"written": "、", "confidence": 0.86, "starttime": 1834, "endtime": 2090, "spoken": "_"},
            {"written": "人", "confidence": 0.96, "starttime": 2090, "endtime": 2266, "spoken": "ひと"},
            {"written": "と", "confidence": 1, "starttime": 2266, "endtime": 2346, "spoken": "と"},
            {"written": "機械", "confidence": 1, "starttime": 2346, "endtime": 2778, "spoken": "きかい"},
            {"written": "。", "confidence": 0.98, "starttime": 8794, "endtime": 8794, "spoken": "_"},
        ],
        "confidence": 0.998, "starttime": 250, "endtime": 8794, "tags": [], "rulename": "",
        "text": "アドバンスト・メディアは、人と機械。",
    }],
    "utteranceid": "20220602/14/018122d65d370a30116494c8_20220602_141442",
    "text": "アドバンスト・メディアは、人と機械。", "code": "", "message": "",
}
# shaped like the asynchronous default format the official C# sample models (AmiJobData/AmiJobResults)
ASYNC_BODY = {
    "audio_md5": "40f59fe5fc7745c33b33af44be43f6ad", "audio_size": 306980, "service_id": "svc",
    "session_id": "017c25ec12c00a304474a999", "status": "completed", "utteranceid": "u", "text": "…",
    "code": "", "message": "",
    "segments": [
        {"results": [{"tokens": [{"written": "%えー%", "confidence": 0.5, "starttime": 300, "endtime": 600,
                                  "spoken": "えー"},
                                 {"written": "はい", "confidence": 0.9, "starttime": 600, "endtime": 900,
                                  "spoken": "はい"}],
                      "confidence": 0.8, "starttime": 250, "endtime": 950, "tags": [], "rulename": "",
                      "text": "えーはい"}], "text": "えーはい"},
        {"results": [{"tokens": [{"written": "Call_center", "confidence": 0.7, "starttime": 5200,
                                  "endtime": 5900, "spoken": "こーるせんたー"},
                                 {"written": "です", "confidence": 0.9, "starttime": 5900, "endtime": 6100,
                                  "spoken": "です"},
                                 {"written": "。", "spoken": "_"}],
                      "confidence": 0.8, "starttime": 5100, "endtime": 6200, "tags": [], "rulename": "",
                      "text": "Call centerです。"},
                     {"tokens": [{"written": "ほかの候補", "starttime": 5200, "endtime": 6100}]}],
         "text": "Call centerです。"},
    ],
}


def test_sync_body_is_one_segment_of_timed_words() -> None:
    (seg,) = results.parse(SYNC_BODY, "ja-JP")
    assert [w.text for w in seg.words] == ["アドバンスト・メディア", "は、", "人", "と", "機械。"]
    assert (seg.words[0].start, seg.words[0].end) == (0.522, 1.578)
    assert (seg.start, seg.end) == (0.25, 8.794)
    assert seg.text == "アドバンスト・メディアは、人と機械。"


def test_async_body_is_one_segment_per_utterance_reading_the_first_result_only() -> None:
    first, second = results.parse(ASYNC_BODY, "ja-JP")
    assert [w.text for w in first.words] == ["えー", "はい"]  # filler marks dropped, filler kept
    assert [w.text for w in second.words] == ["Call center", "です。"]  # `_` is a space
    assert (second.start, second.end) == (5.1, 6.2)
    assert "ほかの候補" not in second.text


def test_failure_and_empty_bodies_give_no_segments() -> None:
    failure = {"results": [{"tokens": [], "tags": [], "rulename": "", "text": ""}], "text": "", "code": "-",
               "message": "received illegal service authorization"}
    assert results.parse(failure, "ja-JP") == []
    assert results.parse({"segments": []}, "ja-JP") == []
    assert results.parse({}, "ja-JP") == []


def test_odd_token_values_do_not_break_parsing() -> None:
    body = {"results": [{"tokens": [{"written": "a", "starttime": "x", "endtime": None, "confidence": "high"},
                                    {"written": "b", "starttime": -5, "endtime": 100, "confidence": 7},
                                    "not a token", {"written": ""}, {"written": "「"}, {"written": "c"}]}]}
    (seg,) = results.parse(body, "en-US")
    assert [w.text for w in seg.words] == ["a", "b", "「c"]
    assert all(0 <= w.confidence <= 1 and w.end >= w.start >= 0 for w in seg.words)


@pytest.mark.parametrize(("code", "outcome"), [
    ("", Outcome.OK), ("o", Outcome.NOTHING_RECOGNISED), ("-", Outcome.PERMANENT), (">", Outcome.PERMANENT),
    ("+", Outcome.PERMANENT), ("%", Outcome.PERMANENT), ("!", Outcome.TRANSIENT), ("?", Outcome.TRANSIENT),
    ("#", Outcome.TRANSIENT), ("b", Outcome.TRANSIENT),
])
def test_documented_codes(code: str, outcome: Outcome) -> None:
    assert classify(code, "m" if code else "", "recognition request").outcome is outcome


def test_authentication_reason_tells_an_admin_what_to_do() -> None:
    reason = classify("-", "received illegal service authorization", "recognition request").reason
    assert "APPKEY" in reason and "MyPage" in reason and "CALLSIGHT_AMIVOICE_APPKEY" in reason


def test_async_job_errors_by_their_embedded_code() -> None:
    documented = ("ERROR: Failed to transcribe in recognition process - amineth_result=0, amineth_code='o', "
                  "amineth_message='recognition result is rejected because confidence is below the threshold'")
    assert classify_job_error(documented).outcome is Outcome.NOTHING_RECOGNISED
    assert classify_job_error(documented.replace("'o'", "'%'")).outcome is Outcome.PERMANENT
    assert classify_job_error(documented.replace("'o'", "'!'")).outcome is Outcome.TRANSIENT
    assert classify_job_error("ERROR: dsrh_code='-' something").outcome is Outcome.PERMANENT
    assert classify_job_error("ERROR: something new").outcome is Outcome.TRANSIENT


def test_profile_words_in_the_documented_format() -> None:
    terms = [VocabularyTerm("AmiVoice", "あみぼいす"), VocabularyTerm("AMI", "アミ"),
             VocabularyTerm("光回線 プラス", "ﾋｶﾘｶｲｾﾝ ﾌﾟﾗｽ"), VocabularyTerm("AmiVoice", "あみぼいす"),
             VocabularyTerm("a:b", "えーびー"), VocabularyTerm("x|y", "えっくす"), VocabularyTerm("", "から"),
             VocabularyTerm("Zoom", "zoom"), VocabularyTerm("佐藤", "")]
    words = profile_words(terms, language="ja-JP", engine_takes_words=True)
    assert words.value == "AmiVoice あみぼいす|AMI アミ|光回線_プラス ヒカリカイセンプラス"
    assert words.sent == 3 and len(words.skipped) == 5
    assert profile_words(terms, language="en-US", engine_takes_words=True).value == ""
    assert profile_words(terms, language="ja-JP", engine_takes_words=False).value == ""
    assert profile_words([], language="ja-JP", engine_takes_words=True).value == ""


def test_profile_words_are_url_encoded_in_d() -> None:
    d = build_d("-a-general", [("profileWords", "AMI あみ|Ami_Voice あみぼいす"), ("loggingOptOut", "True")])
    assert d.startswith("grammarFileNames=-a-general profileWords=AMI%20%E3%81%82%E3%81%BF%7CAmi_Voice%20")
    assert d.endswith(" loggingOptOut=True") and d.count(" ") == 2


def test_organisation_settings_validation() -> None:
    assert AmiVoiceOrgSettings.from_json(None) == AmiVoiceOrgSettings()
    s = AmiVoiceOrgSettings.from_json({"allow_logging": True, "engine_ja": "-a2-ja-general", "engine_en": ""})
    assert s.to_json() == {"allow_logging": True, "engine_ja": "-a2-ja-general"}
    for bad in ({"allow_logging": "yes"}, {"engine_ja": "a-general"}, {"engine_ja": "-a general"},
                {"engine": "-a-general"}, {"batch_engine_en": 5}):
        with pytest.raises(AmiVoiceSettingsError):
            AmiVoiceOrgSettings.from_json(bad)


def test_engine_plans_per_language_interface_and_organisation() -> None:
    deploy = AmiVoiceSettings(appkey="k")
    none = AmiVoiceOrgSettings()
    assert plan_channel(deploy, none, "ja-JP", False).engine == "-a-general"
    assert plan_channel(deploy, none, "ja-JP", True).engine == "-a2b-ja-general"
    assert plan_channel(deploy, none, "en-US", True).engine == "-a2b-multi-general"
    org = AmiVoiceOrgSettings(batch_engine_ja="-a2b-multi-general", allow_logging=True)
    plan = plan_channel(deploy, org, "ja-JP", True)
    assert (plan.engine, plan.allow_logging) == ("-a2b-multi-general", True)
    sync = plan_channel(deploy, none, "ja-JP", False)
    assert sync.url(deploy) == "https://acp-api.amivoice.com/v1/nolog/recognize"
    assert plan.url(deploy) == "https://acp-api-async.amivoice.com/v2/recognitions"
    assert engine_info("-a-general").takes_8k and not engine_info("-a-general-en").takes_8k
    assert not engine_info("-a-general-en").takes_words
    assert not engine_info("-a-custom").takes_8k and engine_info("-a-custom", frozenset({"-a-custom"})).takes_8k


def _header(data: bytes) -> tuple[str, int, int]:
    with av.open(io.BytesIO(data), "r") as c:
        s = c.streams.audio[0]
        return s.codec_context.name, s.codec_context.sample_rate, s.codec_context.channels


def test_audio_encodings_have_the_headers_amivoice_reads() -> None:
    samples = (0.2 * np.sin(np.arange(16000 * 2) * 2 * np.pi * 300 / 16000)).astype(np.float32)
    wide = encode(samples, telephone=False)
    mulaw = encode(samples, telephone=True)
    alaw = encode(samples, telephone=True, codec="alaw")
    flac = encode(samples, telephone=False, compress=True)
    assert _header(flac.data) == ("flac", 16000, 1) and len(flac.data) < len(wide.data) * 0.7
    assert (flac.filename, mulaw.filename, flac.content_type) == ("audio.flac", "audio.wav", "audio/flac")
    assert _header(wide.data) == ("pcm_s16le", 16000, 1) and len(wide.data) == 44 + 2 * samples.size
    assert _header(mulaw.data) == ("pcm_mulaw", 8000, 1) and abs(len(mulaw.data) - 16000) < 200
    assert _header(alaw.data) == ("pcm_alaw", 8000, 1)
    assert mulaw.duration_s == wide.duration_s == 2.0
    assert is_telephone_band(8000) and not is_telephone_band(16000) and not is_telephone_band(0)
