"""OpenTelemetry tracing shared by every service: one trace per upload, across
HTTP -> SQS -> worker -> gRPC.

The exporter is each service's setting (`OTEL_TRACES_EXPORTER`: `otlp`, `console` or
`none`, default `none`; the OTLP exporter itself reads `OTEL_EXPORTER_OTLP_ENDPOINT`,
as OpenTelemetry documents). Context crosses SQS in
the job message's `trace_context` map (W3C traceparent/tracestate) and gRPC in call
metadata.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)


def setup_tracing(service: str, exporter: SpanExporter | None = None, *, kind: str = "none") -> TracerProvider:
    """Install the process's tracer provider (once): spans of `service` go to the exporter
    named by `kind` (tests pass an in-memory exporter instead)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif (configured := _exporter(kind)) is not None:
        provider.add_span_processor(BatchSpanProcessor(configured))
    trace.set_tracer_provider(provider)
    return provider


def _exporter(kind: str) -> SpanExporter | None:
    if kind == "console":
        return ConsoleSpanExporter()
    if kind == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    return None


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def inject(carrier: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """The current trace context as W3C headers (for a job message or gRPC metadata)."""
    out: dict[str, str] = dict(carrier or {})
    propagate.inject(out)
    return out


@contextlib.contextmanager
def attached(carrier: Mapping[str, str]) -> Iterator[None]:
    """Run a block as a continuation of the trace described by `carrier`."""
    token = context.attach(propagate.extract(dict(carrier)))
    try:
        yield
    finally:
        context.detach(token)


def grpc_metadata() -> list[tuple[str, str]]:
    return list(inject().items())
