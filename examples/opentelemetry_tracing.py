"""OpenTelemetry: trace tycho-client's requests by instrumenting the httpx client you pass in.

    pip install opentelemetry-sdk opentelemetry-instrumentation-httpx
    python examples/opentelemetry_tracing.py --url http://127.0.0.1:5000

tycho-client sends every request through its httpx client, so httpx's instrumentation sees
them all: one CLIENT span per HTTP request (a retried call gives one span per attempt), with
method, URL and status code, and the W3C ``traceparent`` header sent to the server. This prints
the spans to stdout; a service would export them with OTLP instead.
"""

from __future__ import annotations

import argparse
import os

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from tycho_client import TychoClient


def tracer_provider() -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("TYCHO_URL", "http://localhost:5000"))
    args = parser.parse_args()
    provider = tracer_provider()
    tracer = trace.get_tracer("example-service")

    # Instrument this client only (HTTPXClientInstrumentor().instrument() would patch every
    # httpx client in the process); tycho-client uses it as given and leaves it open.
    http = httpx.Client(timeout=30.0)
    HTTPXClientInstrumentor.instrument_client(http, tracer_provider=provider)
    with (
        http,
        TychoClient(args.url, http_client=http) as tycho,
        tracer.start_as_current_span("list-notebooks"),  # the request spans nest in this one
    ):
        systems = tycho.list()
    provider.shutdown()
    print(f"{len(systems)} systems running")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
