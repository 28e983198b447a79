"""The rules of an organisation's custom vocabulary (callsight.vocabulary), each bad case with its message."""

from __future__ import annotations

import pytest

from callsight.vocabulary import MAX_TERMS, VocabularyError, parse_lines, parse_terms, to_lines

pytestmark = pytest.mark.unit


def test_terms_are_cleaned_deduplicated_and_round_trip_through_the_text_box() -> None:
    terms = parse_terms([" Callsight ", {"text": "光回線プラス", "reading": "ひかりかいせんぷらす", "language": "ja-JP"},
                         {"text": "Callsight"}, {"text": "Callsight", "language": "en-US"}])
    assert terms == [{"text": "Callsight", "reading": None, "language": None},
                     {"text": "光回線プラス", "reading": "ひかりかいせんぷらす", "language": "ja-JP"},
                     {"text": "Callsight", "reading": None, "language": "en-US"}]
    assert parse_lines(to_lines(terms)) == terms
    assert to_lines(terms).splitlines()[1] == "光回線プラス | ひかりかいせんぷらす | ja-JP"
    assert parse_lines("\n  \nPBX | | en-US\n") == [{"text": "PBX", "reading": None, "language": "en-US"}]


@pytest.mark.parametrize(("body", "message"), [
    ({"text": "x"}, "send a list of terms"),
    ([{"reading": "よみ"}], "term 1: text is required"),
    ([{"text": 5}], "term 1: text must be text"),
    ([{"text": "a" * 101}], "term 1: text is longer than 100 characters"),
    ([{"text": "ok"}, {"text": "bad\u0000term"}], "term 2: text must not contain control"),
    ([{"text": "ok", "language": "fr-FR"}], "term 1: language must be ja-JP, en-US or null"),
    ([{"text": "ok", "weight": 3}], "term 1: unknown field(s) weight"),
    ([["ok"]], "term 1: must be an object"),
    ([{"text": f"t{i}"} for i in range(MAX_TERMS + 1)], f"at most {MAX_TERMS} terms"),
])
def test_each_bad_term_is_refused_with_its_rule(body: object, message: str) -> None:
    with pytest.raises(VocabularyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_terms(body)


def test_a_line_with_too_many_fields_is_refused() -> None:
    with pytest.raises(VocabularyError, match="one term per line"):
        parse_lines("a | b | ja-JP | extra")
