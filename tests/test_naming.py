from __future__ import annotations

import hashlib
import re
import sys
import unicodedata

import pytest
from hypothesis import assume, given, settings, strategies as st

from tycho_client.errors import TychoNameError, TychoValidationError
from tycho_client.naming import MAX_NAME_LENGTH, format_name, is_dns_label

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("apps/jupyter", "apps-jupyter"),
        ("Jupyter-DS", "jupyter-ds"),
        ("my_app.v2", "my-app-v2"),
        ("  spaced   out  ", "spaced-out"),
        ("a--b---c", "a-b-c"),
        ("--edge--", "edge"),
        ("café au lait", "cafe-au-lait"),
        ("C:\\Users\\me\\app", "c-users-me-app"),
        ("7", "7"),
    ],
)
def test_format_name_examples(name: str, expected: str) -> None:
    assert format_name(name) == expected


def test_max_length_leaves_room_for_server_guid() -> None:
    # Servers use "{name}-{32 hex}" as a Kubernetes label value (at most 63 characters).
    assert MAX_NAME_LENGTH + 1 + 32 == 63


def test_long_name_is_truncated_with_hash_of_full_formatted_name() -> None:
    name = "A_Very.Long/Name " * 4
    full = "a-very-long-name-" * 3 + "a-very-long-name"
    result = format_name(name)
    digest = hashlib.sha256(full.encode()).hexdigest()
    assert len(result) <= MAX_NAME_LENGTH
    assert result.endswith("-" + digest[:8])
    assert full.startswith(result[:-9].rstrip("-"))
    assert LABEL.fullmatch(result)


def test_truncation_does_not_leave_a_dash_before_the_hash() -> None:
    # The cut point (21 characters) falls right after a '-' here.
    name = "abcdefghijklmnopqrst-" + "x" * 20
    result = format_name(name)
    assert "--" not in result
    assert result.startswith("abcdefghijklmnopqrst-")
    assert format_name(result) == result


def test_name_at_the_limit_is_kept_whole() -> None:
    name = "n" * MAX_NAME_LENGTH
    assert format_name(name) == name
    assert format_name(name + "n") != name + "n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Mon Café ☕ app", "mon-cafe-app"),
        ("Straße", "strasse"),
        ("GROẞE", "grosse"),
        ("Ñandú", "nandu"),
        ("Ångström", "angstrom"),
        ("Ærøskøbing", "aeroskobing"),
        ("Œuvre", "oeuvre"),
        ("Đorđe", "dorde"),
        ("Łódź", "lodz"),
        ("Þingvellir", "thingvellir"),
        ("Guðrún", "gudrun"),
        ("\u0131spanak", "ispanak"),  # dotless i
        ("İstanbul", "istanbul"),  # I with a dot above: the dot is a combining mark
        ("\ufb01le", "file"),  # the fi ligature
        ("\uff21\uff22\uff23", "abc"),  # full-width letters
        ("e\u0301te\u0301", "ete"),  # already decomposed: the marks are dropped too
        ("日本語 app", "app"),  # what stays non-ASCII is a separator, as before
        ("Привет world", "world"),
    ],
)
def test_accents_are_taken_off_and_letters_spelt_out(name: str, expected: str) -> None:
    assert format_name(name) == expected
    assert format_name(expected) == expected


def test_long_accented_name_is_hashed_after_transliteration() -> None:
    name = "Ünïcödé Straße " * 3
    full = "unicode-strasse-" * 2 + "unicode-strasse"
    result = format_name(name)
    assert result == full[:21] + "-" + hashlib.sha256(full.encode()).hexdigest()[:8]
    # The same name typed without accents is the same system name.
    assert format_name("Unicode Strasse " * 3) == result


@pytest.mark.parametrize("name", ["", "   ", "---", "___/..", "日本語", "☕", "\u0301", "Привет"])
def test_nothing_usable_raises_name_error(name: str) -> None:
    with pytest.raises(TychoNameError) as info:
        format_name(name)
    assert isinstance(info.value, TychoValidationError)
    assert isinstance(info.value, ValueError)
    assert "no ASCII letters or digits" in str(info.value)
    assert info.value.paths == ["name"]


def test_error_says_what_a_system_name_is() -> None:
    with pytest.raises(TychoNameError) as info:
        format_name("日本語")
    assert str(info.value) == (
        "name '日本語' has no ASCII letters or digits to make a system name from "
        "(system names are a-z, 0-9 and '-'); give one such as 'my-app'"
    )


def test_error_escapes_control_characters_of_the_name() -> None:
    with pytest.raises(TychoNameError) as info:
        format_name("\x1b\u202e☕\n")
    message = str(info.value)
    assert "'\\x1b\\u202e☕\\n'" in message
    assert not any(char in message for char in "\x1b\u202e\n")


def test_error_quotes_a_huge_input_only_in_part() -> None:
    with pytest.raises(TychoNameError) as info:
        format_name("/" * 10_000)
    assert len(str(info.value)) < 200


@pytest.mark.parametrize(
    ("text", "max_length", "expected"),
    [
        ("abc", 63, True),
        ("a-1", 63, True),
        ("1a", 63, True),
        ("-a", 63, False),
        ("a-", 63, False),
        ("A", 63, False),
        ("a_b", 63, False),
        ("", 63, False),
        ("a" * 63, 63, True),
        ("a" * 64, 63, False),
        ("a" * 31, 30, False),
    ],
)
def test_is_dns_label(text: str, max_length: int, expected: bool) -> None:
    assert is_dns_label(text, max_length) is expected


usable_names = st.text(max_size=80).filter(lambda s: any(c.isascii() and c.isalnum() for c in s))


@settings(max_examples=200)
@given(usable_names)
def test_any_usable_name_becomes_a_valid_label(name: str) -> None:
    result = format_name(name)
    assert LABEL.fullmatch(result)
    assert 1 <= len(result) <= MAX_NAME_LENGTH
    assert is_dns_label(result, MAX_NAME_LENGTH)


@settings(max_examples=200)
@given(usable_names)
def test_format_name_is_idempotent_and_deterministic(name: str) -> None:
    once = format_name(name)
    assert format_name(once) == once
    assert format_name(name) == once


ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"


@settings(max_examples=100)
@given(
    st.text(alphabet=ALNUM, min_size=MAX_NAME_LENGTH, max_size=50),
    st.text(alphabet=ALNUM, min_size=1, max_size=20),
    st.text(alphabet=ALNUM, min_size=1, max_size=20),
)
def test_long_names_with_a_common_start_stay_distinct(prefix: str, end1: str, end2: str) -> None:
    assume(end1 != end2)
    assert format_name(prefix + end1) != format_name(prefix + end2)


# Not ASCII, no letter or digit once transliterated: a mark, a letter of another script, an emoji.
@settings(max_examples=100)
@given(st.text(alphabet=" _./-\\\t\u0301\u4e2d\u2615\u0436", max_size=40))
def test_names_without_alphanumerics_raise(name: str) -> None:
    with pytest.raises(TychoNameError):
        format_name(name)


# Every character that is not ASCII but decomposes (NFKD) into something with an ASCII letter or
# digit (é, Å, ﬁ, full-width and mathematical letters, ①, ...), and the letters spelt out by hand.
TRANSLITERABLE = sorted(
    {
        char
        for char in map(chr, range(0x80, sys.maxunicode + 1))
        if any(c.isascii() and c.isalnum() for c in unicodedata.normalize("NFKD", char))
    }
    | set("ßẞæÆœŒøØđĐðÐłŁþÞ\u0131")
)

with_a_transliterable_letter = st.builds(
    lambda before, letter, after: before + letter + after,
    st.text(max_size=40),
    st.sampled_from(TRANSLITERABLE),
    st.text(max_size=40),
)


@settings(max_examples=300)
@given(with_a_transliterable_letter)
def test_transliterated_names_are_idempotent_labels(name: str) -> None:
    result = format_name(name)
    assert is_dns_label(result, MAX_NAME_LENGTH)
    assert LABEL.fullmatch(result)
    assert format_name(result) == result
