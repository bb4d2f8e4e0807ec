"""schemathesis vs the loopback fake: every operation, positive and negative data, default checks.

The document is loaded from the file the fake serves at ``/openapi.yaml`` (``test_fake_server``
checks they are the same text); requests go to a real loopback server.

The fake answers the way real servers do, and the document records that on purpose. Where a
default check contradicts it, that check is excluded for just those requests, and the test asserts
the real-server answer in its place:

- A body the document rejects is answered HTTP 200 with an error envelope: real servers never
  answer 400. ``negative_data_rejection`` (which wants a 4xx for negative data) is excluded for
  negative cases only; the test asserts 200 ``{"status": "error"}`` whenever the document rejects
  the body the fake received.
- A body sent as JSON that is not JSON gets 500 ``{"message": "Internal Server Error"}`` (recorded
  exchange 10). ``not_a_server_error`` is excluded for exactly those requests; the test asserts
  that answer, and ``response_schema_conformance`` still checks it against the documented 500.
- A status ``name`` or ``username`` that is no Kubernetes label value gets the same 500: real
  servers fail formatting Kubernetes' refusal of the selector. Excluded and asserted the same way.
- ``/system/modify`` on a server that does not route it answers every method with the HTML 404
  (recorded exchange 15), never 405: ``unsupported_method`` is excluded there only.

All other default checks (status codes, content types, response schemas and headers, positive data
acceptance, unsupported methods) run as schemathesis ships them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, unsupported_method

from tycho_client.openapi import spec_path
from tycho_client.testing import FakeTycho
from tycho_client.testing.checks import selector_refused
from tycho_client.testing.fake import INVALID_JSON

pytestmark = pytest.mark.slow

schema = schemathesis.openapi.from_path(spec_path())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=50
)
modify_only = schema.include(path="/system/modify")

CONTRACT_SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def routed_fake() -> FakeTycho:
    return FakeTycho(modify_supported=True)


@pytest.fixture(scope="module")
def routed_url(routed_fake: FakeTycho) -> Iterator[str]:
    with routed_fake.serve() as url:
        yield url


@pytest.fixture(scope="module")
def unrouted_fake() -> FakeTycho:
    return FakeTycho(modify_supported=False)


@pytest.fixture(scope="module")
def unrouted_url(unrouted_fake: FakeTycho) -> Iterator[str]:
    with unrouted_fake.serve() as url:
        yield url


def call_and_check(case: Any, base_url: str, fake: FakeTycho) -> None:
    fake.reset()  # the fake keeps its last 1,000 requests: start each case with none
    response = case.call(base_url=base_url, timeout=10)
    recorded = fake.requests
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    not_json = bool(recorded) and INVALID_JSON in recorded[-1].problems
    # A status name or username that is no label value: Kubernetes refuses the selector and real
    # servers answer 500 (their error formatting fails on the client's ApiException).
    refused_selector = (
        bool(recorded) and case.path == "/system/status" and selector_refused(recorded[-1].body)
    )
    unrouted = case.path == "/system/modify" and not fake.modify_supported

    excluded: list[Any] = []
    if negative:
        excluded.append(negative_data_rejection)
    if not_json or refused_selector:
        excluded.append(not_a_server_error)
    if unrouted:
        excluded.append(unsupported_method)
    case.validate_response(response, excluded_checks=excluded)

    if unrouted:
        assert response.status_code == 404
        assert response.headers["content-type"][0].startswith("text/html")
        return
    if case.method.upper() != "POST":
        # schemathesis also sends undeclared methods (TRACE, QUERY ...): 405 (OPTIONS: 200, as
        # Flask answers it), and the fake's state is not touched.
        assert response.status_code == (200 if case.method.upper() == "OPTIONS" else 405)
        assert not recorded
        return
    assert len(recorded) == 1
    if not_json or refused_selector:
        assert response.status_code == 500
        assert response.json() == {"message": "Internal Server Error"}
    elif recorded[-1].problems:
        assert response.status_code == 200
        assert response.json()["status"] == "error"


@schema.parametrize()
@CONTRACT_SETTINGS
def test_fake_conforms_to_the_document(case: Any, routed_url: str, routed_fake: FakeTycho) -> None:
    call_and_check(case, routed_url, routed_fake)


@modify_only.parametrize()
@CONTRACT_SETTINGS
def test_unrouted_modify_conforms_to_the_document(
    case: Any, unrouted_url: str, unrouted_fake: FakeTycho
) -> None:
    call_and_check(case, unrouted_url, unrouted_fake)
