"""The turn timeline's arithmetic on hand-built inputs with known answers.

Whether it holds on real speech is shown by tests/integration/test_turn_timeline_real_speech.py
and measured by `python -m bench.timeline`; these pin down each rule on its own.
"""

from __future__ import annotations

import numpy as np
import pytest

from callsight_worker.engines.base import Segment, Word
from callsight_worker.language import LanguageGuess, decide
from callsight_worker.speech import crosstalk
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import guard_words, loop_spans, normalise
from callsight_worker.timeline.turns import assemble, is_continuer
from callsight_worker.timeline.utterances import build_utterances
from callsight_worker.transcript import BACKCHANNEL, UTTERANCE, Turn

pytestmark = pytest.mark.unit
CFG = TimelineConfig()
OP, CU = "operator", "customer"


def speech(duration: float, own: list[tuple[float, float]], echo: tuple[tuple[float, float], ...] = ()) -> ChannelSpeech:
    """A channel whose own speech (and the other side's echo) is where the test says."""
    n = int(duration * 100)
    own_mask = np.zeros(n, bool)
    heard = np.zeros(n, bool)
    for a, b in own:
        own_mask[int(a * 100):int(b * 100)] = True
        heard[int(a * 100):int(b * 100)] = True
    for a, b in echo:
        heard[int(a * 100):int(b * 100)] = True
    return ChannelSpeech(heard=heard, own=own_mask, noise_floor_db=-70.0)


def words(*spec: tuple[str, float, float], p: float = 0.9) -> list[Word]:
    return [Word(t, a, b, p) for t, a, b in spec]


def seg(ws: list[Word]) -> Segment:
    return Segment(ws[0].start, ws[-1].end, " ".join(w.text for w in ws), tuple(ws))


# ---- guards -------------------------------------------------------------------------


def test_repetition_loops_keep_the_first_copy_and_real_repeats() -> None:
    tokens = [normalise(t) for t in ["i", "will", "be", "i", "will", "be", "i", "will", "be", "i", "will", "be", "right", "back"]]
    assert loop_spans(tokens, CFG) == [(3, 12)]
    # "no no no" is said by people: one word needs four copies
    assert loop_spans(["no", "no", "no", "thanks"], CFG) == []
    assert loop_spans(["no"] * 5, CFG) == [(1, 5)]
    # a Japanese decoder loop: "のセイク" over and over
    assert loop_spans(["の", "セ", "イク"] * 6 + ["です"], CFG) == [(3, 18)]


def test_words_on_echo_and_on_silence_are_dropped_and_counted() -> None:
    ch = speech(10, own=[(0.0, 2.0)], echo=((4.0, 6.0),))
    ws = words(("hello", 0.2, 0.6), ("there", 0.7, 1.2), ("please", 4.2, 4.8), ("hold", 8.0, 8.5))
    kept, report = guard_words([seg(ws)], ch, "en-US", CFG)
    assert [w.text for w in kept] == ["hello", "there"]
    assert report.dropped == {"echo": 1, "non_speech": 1}
    assert report.to_dict()["examples"]["echo"] == ["please"]


def test_stock_phrases_never_said_in_a_call_are_dropped_even_over_speech() -> None:
    ch = speech(10, own=[(0.0, 9.0)])
    ws = words(("So", 0.2, 0.4), ("that's", 0.5, 0.8), ("it.", 0.9, 1.1), ("Thanks", 2.0, 2.3), ("for", 2.3, 2.5),
               ("watching!", 2.5, 3.0))
    kept, report = guard_words([seg(ws)], ch, "en-US", CFG)
    assert [w.text for w in kept] == ["So", "that's", "it."]
    assert report.dropped == {"stock_phrase": 3}
    ja = words(("ご視聴", 0.2, 0.8), ("ありがとう", 0.8, 1.4), ("ございました", 1.4, 2.0))
    assert guard_words([seg(ja)], ch, "ja-JP", CFG)[0] == []


def test_a_plausible_stock_phrase_needs_speech_evidence() -> None:
    thanks = words(("Thank", 1.0, 1.3), ("you.", 1.3, 1.6))
    spoken = speech(5, own=[(0.9, 1.7)])
    assert [w.text for w in guard_words([seg(thanks)], spoken, "en-US", CFG)[0]] == ["Thank", "you."]
    unsure = words(("Thank", 1.0, 1.3), ("you.", 1.3, 1.6), p=0.3)
    kept, report = guard_words([seg(unsure)], spoken, "en-US", CFG)
    assert kept == [] and report.dropped == {"stock_phrase": 2}
    # inside a longer sentence it is just words
    longer = words(("I", 0.2, 0.3), ("said", 0.3, 0.6), ("thank", 1.0, 1.3), ("you.", 1.3, 1.6), p=0.3)
    assert len(guard_words([seg(longer)], speech(5, own=[(0.0, 2.0)]), "en-US", CFG)[0]) == 4


# ---- utterances -----------------------------------------------------------------------


def test_utterances_split_at_pauses_of_the_channel_not_at_word_gaps() -> None:
    # Whisper glued "yes" to the end of the stretched word "please": no gap in word times,
    # but the channel was silent 2.0-3.5 s, so these are two utterances
    ch = speech(10, own=[(0.5, 2.0), (3.5, 4.0), (4.3, 6.0)])
    ws = words(("one", 0.5, 1.0), ("moment", 1.0, 1.5), ("please", 1.5, 3.5), ("yes", 3.5, 3.9),
               ("I", 4.35, 4.5), ("know", 4.5, 5.9))
    out = build_utterances(CU, ws, ch, "en-US", CFG)
    assert [(t.text, t.start, t.end) for t in out] == [("one moment please", 0.5, 2.0), ("yes I know", 3.5, 6.0)]


def test_on_a_noisy_line_an_utterance_ends_where_its_fading_ending_is_still_heard() -> None:
    # own speech 1.0-2.0 and 2.2-3.0 s; Silero still hears the voice until 3.25 s, then the
    # background: the utterance ends at 3.25 s, and the pause inside it is still measured on `own`
    ch = speech(10, own=[(1.0, 2.0), (2.2, 3.0), (6.0, 7.0)])
    still = np.zeros(ch.frames, bool)
    still[300:325] = still[700:705] = True
    still[190:215] = True  # heard into the short gap
    ch.tails = crosstalk.extend_ends(ch.own, still, frames=30)
    assert crosstalk.regions(ch.tails) == [(1.0, 2.15), (2.2, 3.25), (6.0, 7.05)]
    ws = words(("so", 1.0, 1.5), ("that", 1.5, 2.0), ("is", 2.2, 2.6), ("it", 2.6, 3.0), ("ok", 6.1, 6.9))
    out = build_utterances(CU, ws, ch, "en-US", CFG)
    assert [(t.text, t.start, t.end) for t in out] == [("so that is it", 1.0, 3.25), ("ok", 6.0, 7.05)]
    # carried on at most `frames`, and never over the next run
    always = crosstalk.extend_ends(ch.own, np.ones(ch.frames, bool), frames=100)
    assert crosstalk.regions(always) == [(1.0, 4.0), (6.0, 8.0)]


def test_without_speech_activity_word_times_decide() -> None:
    ws = words(("a", 0.0, 0.5), ("b", 0.6, 1.0), ("c", 1.7, 2.0))
    out = build_utterances(OP, ws, None, "en-US", CFG)
    assert [(t.text, t.start, t.end) for t in out] == [("a b", 0.0, 1.0), ("c", 1.7, 2.0)]


def test_japanese_utterances_are_joined_without_spaces() -> None:
    ws = words(("お電話", 0.0, 0.5), ("ありがとう", 0.5, 1.0), ("ございます", 1.0, 1.6))
    [t] = build_utterances(OP, ws, speech(2, own=[(0.0, 1.6)]), "ja-JP", CFG)
    assert t.text == "お電話ありがとうございます"


# ---- turns and backchannels ------------------------------------------------------------


def turn(speaker: str, start: float, end: float, text: str) -> Turn:
    return Turn(speaker, start, end, text)


def test_backchannels_inside_the_other_utterance_or_continuers_in_its_pause() -> None:
    turns = assemble([
        turn(OP, 0.0, 8.0, "Let me explain how the new plan works and what it costs."),
        turn(CU, 3.0, 3.4, "mm-hmm"),  # inside: a backchannel
        turn(CU, 8.3, 8.7, "right"),  # continuer in the operator's pause, operator goes on
        turn(OP, 9.2, 12.0, "So the price is lower. Do you want it?"),
        turn(CU, 12.3, 12.6, "Yes."),  # the answer to a question, not a backchannel
        turn(OP, 13.0, 14.0, "Great, I will switch you."),
        turn(CU, 13.2, 13.9, "no wait that is wrong"),  # inside, but more than a backchannel says
    ], "en-US", CFG)
    kinds = {(t.speaker, t.start): t.kind for t in turns}
    assert kinds[(CU, 3.0)] == BACKCHANNEL and kinds[(CU, 8.3)] == BACKCHANNEL
    assert kinds[(CU, 12.3)] == UTTERANCE and kinds[(CU, 13.2)] == UTTERANCE
    assert [t.start for t in turns] == sorted(t.start for t in turns)


def test_continuer_words() -> None:
    assert is_continuer("Uh-huh.", "en-US") and is_continuer("All right.", "en-US")
    assert not is_continuer("No, the other one.", "en-US")
    assert is_continuer("はい、はい。", "ja-JP") and is_continuer("なるほど", "ja-JP")
    assert not is_continuer("いいえ、違います。", "ja-JP")


# ---- crosstalk arithmetic ---------------------------------------------------------------


def test_leak_delay_and_coupling_are_measured_and_own_speech_survives_double_talk() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    source = np.full(n, -70.0, np.float32)
    vad = np.zeros(n, np.float32)
    for a in range(100, n - 200, 400):  # the other side talks in bursts with a varying level
        source[a:a + 250] = -20 + 6 * rng.standard_normal(250)
        vad[a:a + 250] = 0.9
    target = np.full(n, -70.0, np.float32) + rng.standard_normal(n).astype(np.float32)
    echo = np.full(n, -200.0, np.float32)
    echo[20:] = source[:-20] - 30  # 200 ms late, 30 dB down
    target = np.maximum(target, echo)
    heard = target > -60
    target[2550:2600] = -22.0  # the target's own voice during the other's burst (double talk)
    heard[2550:2600] = True
    cfg = crosstalk.CrosstalkConfig()
    leak = crosstalk.estimate_leak(target, source, vad, cfg)
    assert leak is not None
    assert leak.delay_s == pytest.approx(0.2) and leak.coupling_db == pytest.approx(-30, abs=1.5)
    own = crosstalk.own_speech(target, heard, crosstalk.predicted_echo(source, leak, cfg), cfg)
    assert own[2555:2595].all()
    assert not own[200:350].any()  # pure echo


def test_no_leak_is_measured_between_independent_channels() -> None:
    rng = np.random.default_rng(5)
    source = (-40 + 15 * rng.standard_normal(3000)).astype(np.float32)
    target = (-70 + rng.standard_normal(3000)).astype(np.float32)
    assert crosstalk.estimate_leak(target, source, np.ones(3000, np.float32), crosstalk.CrosstalkConfig()) is None


# ---- language ------------------------------------------------------------------------------


def test_language_requested_detected_or_default() -> None:
    sure_en = LanguageGuess("en-US", confidence=0.98, support=0.9, speech_s=20)
    decision, warnings = decide(None, "ja-JP", sure_en)
    assert (decision.language, decision.source, warnings) == ("en-US", "detected", [])
    decision, warnings = decide("ja-JP", "ja-JP", sure_en)
    assert (decision.language, decision.source) == ("ja-JP", "request")
    assert [w["code"] for w in warnings] == ["language_mismatch"] and "en-US" in warnings[0]["message"]
    unsure = LanguageGuess("en-US", confidence=0.6, support=0.9, speech_s=20)
    decision, warnings = decide(None, "ja-JP", unsure)
    assert (decision.language, decision.source) == ("ja-JP", "default")
    assert [w["code"] for w in warnings] == ["language_uncertain"]
    assert decide(None, "en-US", None)[0].source == "default"


def test_a_recited_vocabulary_is_dropped_but_one_term_in_speech_is_kept() -> None:
    vocabulary = ("Comedian Mail", "Digium", "Asterisk", "Inter-Asterisk Exchange", "PBX")
    ch = speech(10, own=[(0.0, 9.0)])
    said = words(("Comedian", 0.1, 0.5), ("Mail,", 0.5, 0.9), ("Mailbox.", 1.0, 1.5), ("Digium,", 1.6, 1.8),
                 ("Asterisk,", 1.8, 2.0), ("Inter-Asterisk", 2.0, 2.2), ("Exchange,", 2.2, 2.4), ("PBX,", 2.4, 2.5))
    kept, report = guard_words([seg(said)], ch, "en-US", CFG, vocabulary)
    assert [w.text for w in kept] == ["Comedian", "Mail,", "Mailbox."]
    assert report.dropped == {"prompt_leak": 5}
    one = words(("Call", 0.1, 0.3), ("Digium", 0.3, 0.8), ("support", 0.9, 1.3), ("about", 1.4, 1.6), ("PBX", 1.7, 2.0))
    assert len(guard_words([seg(one)], ch, "en-US", CFG, vocabulary)[0]) == 5


def test_a_misheard_japanese_product_name_is_written_as_the_organisation_writes_it() -> None:
    from callsight_worker.engines.base import VocabularyTerm
    from callsight_worker.timeline.vocabulary_fix import apply_japanese_vocabulary

    terms = (VocabularyTerm("光回線プラスプラン", "ひかりかいせんぷらすぷらん"), VocabularyTerm("ネオモバイル", ""))
    ws = words(("ひかり", 0.0, 0.3), ("改善", 0.3, 0.7), ("プラス", 0.7, 1.0), ("プラン", 1.0, 1.3), ("の", 1.3, 1.4),
               ("お申し込み", 1.4, 2.0))
    fixed = apply_japanese_vocabulary(Turn(OP, 0.0, 2.0, "ひかり改善プラスプランのお申し込み", tuple(ws)), terms)
    assert fixed.text == "光回線プラスプランのお申し込み"
    assert [(w.text, w.start, w.end) for w in fixed.words] == [("光回線プラスプラン", 0.0, 1.3), ("の", 1.3, 1.4),
                                                               ("お申し込み", 1.4, 2.0)]
    # an ordinary sentence is not turned into product names
    plain = Turn(OP, 0.0, 2.0, "お電話ありがとうございます", (Word("お電話ありがとうございます", 0.0, 2.0, 0.9),))
    assert apply_japanese_vocabulary(plain, terms) == plain
