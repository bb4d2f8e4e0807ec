"""The README is a user's page: short, its links work on the code host and on the package index,
and its snippets run as they are shown."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tycho_client.testing import FakeTycho

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPO = "https://github.com/helxplatform/tycho-client"
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README) if lang == language]


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub (and mkdocs' toc) give headings: lowercase, punctuation dropped."""
    outside_code = FENCE.sub("", markdown)
    headings = re.findall(r"^#{1,6} (.+)$", outside_code, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_is_at_most_400_lines() -> None:
    assert len(README.splitlines()) <= 400


def test_the_quick_start_comes_first_with_two_commands() -> None:
    sections = re.findall(r"^## (.+)$", FENCE.sub("", README), re.MULTILINE)
    assert sections[0] == "Quick start"
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = [body for lang, body in FENCE.findall(quick_start) if lang == "sh"]
    assert len(commands) == 2
    assert "examples/quickstart.sh" in commands[0]
    assert "-m pytest" in commands[1]
    assert "5 to 10 minutes" in quick_start  # the test command's duration is stated


def test_every_link_is_absolute_or_an_anchor_of_the_page() -> None:
    """Relative links break on the package index, which shows the README without the repository."""
    page_anchors = anchors(README)
    for target in LINK.findall(README):
        if target.startswith("#"):
            assert target[1:] in page_anchors, f"no heading for {target}"
        else:
            assert target.startswith("https://"), f"relative link {target}"


def repository_links() -> Iterator[str]:
    for target in LINK.findall(README):
        if target.startswith((f"{REPO}/blob/main/", f"{REPO}/tree/main/")):
            yield target


@pytest.mark.parametrize("target", sorted(set(repository_links())))
def test_links_into_the_repository_point_at_what_exists(target: str) -> None:
    path, _, anchor = target.split("/main/", 1)[1].partition("#")
    assert (ROOT / path).exists(), f"{target}: no {path} in the repository"
    if anchor:
        assert anchor in anchors((ROOT / path).read_text(encoding="utf-8")), target


def test_the_docs_pages_linked_are_in_the_docs_site() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for target in repository_links():
        path = target.split("/main/", 1)[1].partition("#")[0]
        if path.startswith("docs/") and path.endswith(".md"):
            assert path.removeprefix("docs/") in nav, f"{path} is not in mkdocs.yml's nav"


def test_every_python_snippet_compiles() -> None:
    snippets = blocks("python")
    assert len(snippets) >= 3
    for snippet in snippets:
        compile(snippet, "README.md", "exec")


@pytest.fixture
def served_fake() -> Iterator[tuple[FakeTycho, str]]:
    fake = FakeTycho()
    with fake.serve() as url:
        yield fake, url


def run_snippet(snippet: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TYCHO_")}
    return subprocess.run(
        [sys.executable, "-c", snippet.replace("http://localhost:5000", url)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )  # fmt: skip


def test_the_first_library_snippet_runs_as_shown(served_fake: tuple[FakeTycho, str]) -> None:
    fake, url = served_fake
    snippet = next(s for s in blocks("python") if "TychoClient(" in s and "Path(" in s)
    done = run_snippet(snippet, url)
    assert done.returncode == 0, done.stderr
    (line, deleted) = done.stdout.splitlines()
    name, ready = line.split()
    assert re.fullmatch(r"webstack-[0-9a-f]{32}", name)
    assert ready == "True"
    assert deleted == f"[{name.removeprefix('webstack-')!r}]"
    assert fake.systems == {}  # down took it away
    (start,) = [r for r in fake.requests if r.path == "/system/start"]
    assert start.body["name"] == "webstack"


def test_the_async_snippet_runs_as_shown(served_fake: tuple[FakeTycho, str]) -> None:
    fake, url = served_fake
    snippet = next(s for s in blocks("python") if "AsyncTychoClient(" in s)
    done = run_snippet(snippet, url)
    assert done.returncode == 0, done.stderr
    assert sorted(s.app_id for s in fake.systems.values()) == ["lab-alice", "lab-bob"]
    assert sorted(ast.literal_eval(done.stdout)) == sorted(s.sid for s in fake.systems.values())


def test_the_testing_snippet_passes_under_pytest(tmp_path: Path) -> None:
    snippet = next(s for s in blocks("python") if "def test_" in s)
    (tmp_path / "test_readme_example.py").write_text(snippet, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{snippet.count('def test_')} passed" in done.stdout


def test_the_validate_example_shows_what_tycho_validate_prints() -> None:
    """Each line shown is the start of a line the command prints (the README shortens some)."""
    console = next(b for b in blocks("console") if "tycho validate examples/mistakes" in b)
    shown = [line for line in console.splitlines() if line.startswith("tycho: ")]
    assert shown
    done = subprocess.run(
        [sys.executable, "-m", "tycho_client", "validate", "examples/mistakes/docker-compose.yaml"],
        capture_output=True, text=True, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    printed = done.stderr.splitlines()
    for line in shown:
        assert any(real.startswith(line) for real in printed), line
