"""The library forgives and explains: systems by the name ``status`` shows, GUID strings where a
request names one system, and compose documents as a path, a model or text.

Every test runs on both faces, against the fake Tycho on a loopback socket.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from faces import Face

from tycho_client import (
    ComposeSystem,
    TychoAmbiguousNameError,
    TychoClient,
    TychoComposeError,
    TychoSystemNotFoundError,
    TychoValidationError,
)
from tycho_client.testing import FakeTycho

WEB = {"services": {"web": {"image": "nginx:1.25", "ports": ["8080:80"]}}}
COMPOSE_TEXT = "services:\n  web:\n    image: nginx:1.25\n    ports: ['8080:80']\n"


@pytest.fixture
def served() -> Iterator[tuple[FakeTycho, str]]:
    fake = FakeTycho()
    with fake.serve() as url:
        yield fake, url


def started(tycho: TychoClient, *names: str) -> list[str]:
    return [tycho.up(name, WEB).result.sid for name in names]


# ------------------------------------------------------------------------------------ names


def test_list_finds_systems_by_the_name_status_shows(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    _, url = served
    with face(url) as tycho:
        first, second, other = started(tycho, "webstack", "webstack", "Data Lab")
        assert sorted(tycho.list("webstack", terse=True)) == sorted([first, second])
        assert tycho.list("Data Lab", terse=True) == [other]  # formatted as it was started
        assert tycho.list("data-lab", terse=True) == [other]
        assert tycho.list(other, terse=True) == [other]  # a GUID
        full = tycho.list(other)[0].name
        assert full is not None
        assert tycho.list(full, terse=True) == [other]  # a full name
        assert tycho.list("nothing-here") == []


def test_down_by_name_takes_down_exactly_that_system(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    with face(url) as tycho:
        (web,) = started(tycho, "web")
        (keep,) = started(tycho, "other")
        assert tycho.down("web") == [web]
        assert set(fake.systems) == {keep}


def test_a_name_shared_by_several_systems_is_refused_before_anything_is_deleted(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    with face(url) as tycho:
        guids = started(tycho, "webstack", "webstack")
        with pytest.raises(TychoAmbiguousNameError) as caught:
            tycho.down(["webstack"])
        assert set(fake.systems) == set(guids)  # nothing deleted
        assert sorted(caught.value.systems) == sorted(f"webstack-{g}" for g in guids)
        assert "names 2 running systems" in str(caught.value)
        assert "take them all" in str(caught.value)
        assert sorted(tycho.down("webstack", all_matching=True)) == sorted(guids)
        assert fake.systems == {}


def test_a_name_of_no_system_is_refused_before_anything_is_deleted(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    with face(url) as tycho:
        (web,) = started(tycho, "web")
        with pytest.raises(TychoSystemNotFoundError, match="no running system is named 'gone'"):
            tycho.down([web, "gone"])
        assert set(fake.systems) == {web}
    deletes = [r for r in fake.requests if r.operation == "delete"]
    assert deletes == []


# -------------------------------------------------------------------- a GUID given alone


def test_status_and_delete_take_a_guid_alone(face: Face, served: tuple[FakeTycho, str]) -> None:
    fake, url = served
    with face(url) as tycho:
        (web,) = started(tycho, "web")
        assert [s.sid for s in tycho.status(web).result] == [web]
        assert [s.sid for s in tycho.status(f"web-{web}").result] == [web]
        tycho.delete(web)
        assert fake.systems == {}


@pytest.mark.parametrize(("method", "instead"), [("status", "list"), ("delete", "down")])
def test_a_system_name_where_a_guid_is_needed_says_what_to_use(
    face: Face, served: tuple[FakeTycho, str], method: str, instead: str
) -> None:
    fake, url = served
    with face(url) as tycho, pytest.raises(TychoValidationError) as caught:
        getattr(tycho, method)("webstack")
    assert f"use {instead}(name)" in str(caught.value)
    assert fake.requests == []  # nothing sent


# ------------------------------------------------------------------ compose documents


def test_up_reads_a_compose_file_and_the_env_beside_it(
    face: Face, served: tuple[FakeTycho, str], tmp_path: Path
) -> None:
    fake, url = served
    (tmp_path / "docker-compose.yaml").write_text(
        "services:\n  web:\n    image: nginx:${TAG}\n    ports: ['8080:80']\n"
    )
    (tmp_path / ".env").write_text("TAG=1.25\n")
    with face(url) as tycho:
        sid = tycho.up("app", tmp_path / "docker-compose.yaml").result.sid
        other = tycho.up("app", tmp_path / "docker-compose.yaml", {"TAG": "1.26"}).result.sid
    assert fake.systems[sid].images == {"web": "nginx:1.25"}
    assert fake.systems[other].images == {"web": "nginx:1.26"}  # settings given win


def test_up_takes_a_compose_model_and_start_takes_yaml_text(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    with face(url) as tycho:
        from_model = tycho.up("app", ComposeSystem.model_validate(WEB)).result.sid
        from_text = tycho.start({"name": "app", "system": COMPOSE_TEXT}).result.sid
    assert (
        fake.systems[from_model].images == fake.systems[from_text].images == {"web": "nginx:1.25"}
    )


def test_a_file_name_given_as_compose_text_gets_a_hint(face: Face) -> None:
    with face("http://tycho.test") as tycho, pytest.raises(TychoComposeError) as caught:
        tycho.up("app", "app/docker-compose.yaml")
    assert "pass pathlib.Path('app/docker-compose.yaml')" in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_compose_path_that_is_a_fifo_is_refused_without_blocking(
    face: Face, tmp_path: Path
) -> None:
    fifo = tmp_path / "compose.yaml"
    os.mkfifo(fifo)
    with face("http://tycho.test") as tycho, pytest.raises(TychoComposeError) as caught:
        tycho.up("app", fifo)
    assert "not a regular file" in str(caught.value)
    assert str(fifo) in str(caught.value)


def test_down_takes_a_name_as_it_was_given_at_start(
    face: Face, served: tuple[FakeTycho, str]
) -> None:
    fake, url = served
    with face(url) as tycho:
        (lab,) = started(tycho, "Data Lab")
        assert tycho.down("Data Lab") == [lab]
        assert fake.systems == {}
        with pytest.raises(TychoValidationError) as caught:
            tycho.down(["web", "---"])  # no name can be made of '---'
        assert caught.value.paths == ["names[1]"]
