from __future__ import annotations

import io
import pathlib

import pytest
from dotenv import dotenv_values
from hypothesis import given, settings, strategies as st

from tycho_client.envfile import parse_env
from tycho_client.errors import TychoEnvError, TychoValidationError

SAMPLES = pathlib.Path(__file__).parent / "fixtures" / "samples"
CANARY = "s3cr3t-CANARY-value"


def error_of(text: str, source: str | None = None) -> TychoEnvError:
    with pytest.raises(TychoEnvError) as info:
        parse_env(text, source=source)
    return info.value


# ------------------------------------------------------------------------------------- the rules


def test_blank_lines_and_full_line_comments_are_ignored() -> None:
    text = "\n   \n# a comment\n  # indented comment\nA=1\n\n# B=2\n"
    assert parse_env(text) == {"A": "1"}


def test_export_prefix() -> None:
    assert parse_env("export A=1\nexport\tB=2\n") == {"A": "1", "B": "2"}


def test_export_is_an_ordinary_key_without_a_following_name() -> None:
    assert parse_env("export=1\nexport = 2\nexporter=3\n") == {"export": "2", "exporter": "3"}


def test_single_quotes_are_literal() -> None:
    text = r"""A='C:\new\table'
B='$HOME ${X} "x" # not a comment'
C='a\'
"""
    assert parse_env(text) == {
        "A": r"C:\new\table",
        "B": '$HOME ${X} "x" # not a comment',
        "C": "a\\",
    }


def test_double_quote_escapes() -> None:
    text = r'A="l1\nl2\tx \"q\" back\\slash \'s\' \r"' + "\n" + r'B="\d\$keep"'
    assert parse_env(text) == {"A": "l1\nl2\tx \"q\" back\\slash 's' \r", "B": r"\d\$keep"}


def test_escaped_backslash_before_quote_ends_the_value() -> None:
    assert parse_env('A="x\\\\"\nB=2\n') == {"A": "x\\", "B": "2"}


def test_comment_after_unquoted_value_needs_whitespace_before_hash() -> None:
    text = (
        "A=a # comment\nB=a#b\nC=a\t# tab comment\nD=#start\nE= # only comment\nF=http://x/#frag\n"
    )
    assert parse_env(text) == {
        "A": "a",
        "B": "a#b",
        "C": "a",
        "D": "#start",
        "E": "",
        "F": "http://x/#frag",
    }


def test_comment_after_quoted_value() -> None:
    assert parse_env("A=\"a # b\" # c\nB='x'#y\n") == {"A": "a # b", "B": "x"}


def test_unquoted_values_are_stripped_and_keep_inner_spaces() -> None:
    assert parse_env("A =   a b  c   \nB\t=\tx\t\n") == {"A": "a b  c", "B": "x"}


def test_quoted_values_keep_their_blanks() -> None:
    assert parse_env("A=' a '\nB=\"  \"\n") == {"A": " a ", "B": "  "}


def test_multi_line_quoted_values() -> None:
    text = "A=\"line 1\nline 2\"\nB='x\n  y\n'\nC=3\n"
    assert parse_env(text) == {"A": "line 1\nline 2", "B": "x\n  y\n", "C": "3"}


def test_key_with_empty_value() -> None:
    assert parse_env("A=\nB=''\nC=\"\"\nD=   \n") == {"A": "", "B": "", "C": "", "D": ""}


def test_crlf_and_bom() -> None:
    text = '\ufeffA=1\r\nB="x\r\ny"\r\n# c\r\nC=3'
    assert parse_env(text) == {"A": "1", "B": "x\ny", "C": "3"}


def test_bom_only_at_the_start() -> None:
    assert parse_env("A=\ufeffx") == {"A": "\ufeffx"}


def test_duplicate_keys_last_wins() -> None:
    assert parse_env("A=1\nB=2\nA=3\n") == {"A": "3", "B": "2"}


def test_unquoted_value_keeps_inner_quotes() -> None:
    assert parse_env('A=it\'s "fine"\n') == {"A": 'it\'s "fine"'}


def test_no_interpolation_at_all() -> None:
    text = 'A=${HOME}\nB=$HOME\nC="${USER:-x}"\nD=1\nE=${D}\n'
    assert parse_env(text) == {
        "A": "${HOME}",
        "B": "$HOME",
        "C": "${USER:-x}",
        "D": "1",
        "E": "${D}",
    }


def test_process_environment_is_never_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TYCHO_TEST_LEAK", CANARY)
    monkeypatch.setenv("HOME", CANARY)
    result = parse_env('A=${TYCHO_TEST_LEAK}\nB="$HOME"\nC=${TYCHO_TEST_LEAK:-d}\n')
    assert CANARY not in "".join(result.values())
    assert result["A"] == "${TYCHO_TEST_LEAK}"


def test_sample_env_files() -> None:
    assert parse_env((SAMPLES / "tranql" / ".env").read_text()) == {
        "BACKPLANE_PORT": "8099",
        "APP_PORT": "8001",
    }
    xena = parse_env((SAMPLES / "xena" / ".env").read_text())
    assert xena == {
        "HTTP_PORT": "7222",
        "HTTPS_PORT": "7223",
        "PWD": "/data",
        "CPUS": "0.2",
        "MEMORY": "20M",
    }


# ------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("A=1\nJUSTAWORD\n", 2, "no '='"),
        ("A=1\n\n1BAD=x\n", 3, "'1BAD' is not a variable name: a variable name is letters"),
        ("my-key=x\n", 1, "'my-key' is not a variable name"),
        ("=x\n", 1, "no key"),
        ('A=1\nB="open\nC=2\n', 2, "unterminated double-quoted value for B"),
        ("B='open\n", 1, "unterminated single-quoted value for B"),
        ('A="x"y\n', 1, "after the closing quote of A"),
        ("A='x' y\n", 1, "after the closing quote of A"),
        ("export B\n", 1, "no '='"),
    ],
)
def test_malformed_lines(text: str, line: int, fragment: str) -> None:
    error = error_of(text)
    assert error.line == line
    assert fragment in str(error)
    assert str(error).startswith(f"line {line}: ")
    assert isinstance(error, TychoValidationError)
    assert isinstance(error, ValueError)


def test_every_bad_line_is_named_in_one_pass() -> None:
    text = "A=1\nJUSTAWORD\n1BAD=x\nB=2\nC='x' y\n"
    error = error_of(text, source=".env")
    assert error.line == 2
    assert [e.loc for e in error.errors] == [
        ("env", "line 2"),
        ("env", "line 3"),
        ("env", "line 5"),
    ]
    assert str(error).startswith(".env:2: expected KEY=value")
    assert ".env:3: " in str(error)


def test_an_unterminated_quote_ends_the_reading() -> None:
    # What follows is inside the quote as far as anyone can tell: never quoted in a message.
    error = error_of(f"A='x\nmy-{CANARY}=y\n")
    assert [e.loc for e in error.errors] == [("env", "line 1")]
    assert CANARY not in str(error)


def test_error_names_the_source_file() -> None:
    error = error_of("A=1\nB\n", source="apps/.env")
    assert str(error).startswith("apps/.env:2: ")
    assert error.source == "apps/.env"


def test_line_numbers_count_lines_inside_multi_line_values() -> None:
    text = "A=\"one\ntwo\nthree\"\n\n# c\nB='x\ny'\nBAD LINE\n"
    assert error_of(text).line == 8


def test_line_numbers_after_crlf_and_comments() -> None:
    assert error_of("# c\r\n\r\nA=1\r\nB\r\n").line == 4


def test_garbage_after_a_multi_line_value_is_reported_where_it_is() -> None:
    error = error_of('A="x\ny" junk\n')
    assert error.line == 2
    assert "A" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        f"{CANARY}\n",
        f'A="{CANARY}\n',
        f"A='{CANARY}\n",
        f'A="{CANARY}" trailing\n',
        f"A='{CANARY}'{CANARY}\n",
        f"postgres://user:{CANARY}@db/x?a=1\n",
        f"BAD KEY {CANARY}=x\n",
        f"{CANARY}{CANARY}{CANARY}{CANARY}=x\n",
    ],
)
def test_values_never_appear_in_errors(text: str) -> None:
    error = error_of(text, source="x.env")
    assert CANARY not in str(error)
    assert CANARY not in repr(error.errors)
    assert all(CANARY not in e.msg for e in error.errors)


# ------------------------------------------------------------------------------- round trip


def render_env(values: dict[str, str]) -> str:
    escaped = {
        key: value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
        for key, value in values.items()
    }
    return "".join(f'{key}="{value}"\n' for key, value in escaped.items())


keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,15}", fullmatch=True)
# Any text but NUL, which parse_env refuses (tests/test_reliability.py).
values_text = st.text(st.characters(exclude_characters="\x00"), max_size=40)


@settings(max_examples=150)
@given(st.dictionaries(keys, values_text, max_size=8))
def test_round_trip_of_double_quoted_values(values: dict[str, str]) -> None:
    assert parse_env(render_env(values)) == values


@settings(max_examples=150)
@given(st.dictionaries(keys, values_text, max_size=8))
def test_round_trip_survives_crlf_and_bom(values: dict[str, str]) -> None:
    # Raw newlines inside values become CRLF too: they must come back as "\n".
    text = "\ufeff" + render_env(values).replace("\n", "\r\n")
    assert parse_env(text) == values


# Where the semantics overlap (no single quotes, no errors), python-dotenv agrees with us.
simple_values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r\n\\\"'#"),
    max_size=20,
).map(str.strip)


@settings(max_examples=100)
@given(st.dictionaries(keys, simple_values, max_size=6), st.booleans())
def test_agrees_with_python_dotenv_on_the_common_subset(
    values: dict[str, str], quoted: bool
) -> None:
    if quoted:
        text = render_env(values)
    else:
        text = "".join(f"export {key}={value} # c\n" for key, value in values.items())
    expected = dotenv_values(stream=io.StringIO(text), interpolate=False)
    assert parse_env(text) == expected
