import pytest

from contacts.keywords import KeywordKind, clean_word_list, detect_keyword, normalize_keyword


@pytest.mark.parametrize(
    ("text", "kind", "word"),
    [
        ("stop", KeywordKind.STOP, "STOP"),
        (" Stop. ", KeywordKind.STOP, "STOP"),
        ("STOP ALL", KeywordKind.STOP, "STOPALL"),
        ("stop all!", KeywordKind.STOP, "STOPALL"),
        ("StopAll", KeywordKind.STOP, "STOPALL"),
        ("S T O P", KeywordKind.STOP, "STOP"),
        ("\n\tUNSUBSCRIBE!!\n", KeywordKind.STOP, "UNSUBSCRIBE"),
        ("cancel", KeywordKind.STOP, "CANCEL"),
        ("End.", KeywordKind.STOP, "END"),
        ("quit", KeywordKind.STOP, "QUIT"),
        ('"stop"', KeywordKind.STOP, "STOP"),
        ("\uff33\uff34\uff2f\uff30", KeywordKind.STOP, "STOP"),
        ("start", KeywordKind.START, "START"),
        (" Unstop ", KeywordKind.START, "UNSTOP"),
    ],
)
def test_keywords_are_detected(text, kind, word):
    match = detect_keyword(text)
    assert match is not None
    assert (match.kind, match.word) == (kind, word)


@pytest.mark.parametrize(
    "text",
    ["stopp", "stop sending me offers", "please stop", "stop it", "", "   ", "...", "STOPPED", "restart", "ALL"],
)
def test_other_texts_are_not_keywords(text):
    assert detect_keyword(text) is None


def test_stop_all_reads_as_stop_even_without_stopall_in_the_list():
    match = detect_keyword("STOP ALL", stop_words=["STOP"], start_words=[])
    assert match is not None and match.word == "STOP"


def test_account_words_replace_the_defaults():
    assert detect_keyword("stop", stop_words=["ARRET"], start_words=[]) is None
    match = detect_keyword(" arrêt! ", stop_words=["arrêt"], start_words=[])
    assert match is not None and match.kind == KeywordKind.STOP


def test_stop_wins_when_a_word_is_in_both_lists():
    match = detect_keyword("end", stop_words=["END"], start_words=["END"])
    assert match.kind == KeywordKind.STOP


def test_normalisation_and_word_lists():
    assert normalize_keyword("  Stop   all ?! ") == "STOP ALL"
    assert clean_word_list(["stop", " STOP ", "", "quit."]) == ["STOP", "QUIT"]
