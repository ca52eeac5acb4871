#!/usr/bin/env python3
"""Sends spans to an OTLP/HTTP receiver with the real OpenTelemetry Python SDK and its protobuf exporter.

usage: otlp_send.py ENDPOINT none|gzip CONVERSATION_ID
Prints one JSON object with the ids (lowercase hex) of the spans it exported and whether export succeeded.
"""
import json
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

endpoint, compression, conversation = sys.argv[1], sys.argv[2], sys.argv[3]


class Recording(OTLPSpanExporter):
    """The SDK's exporter, remembering what each export returned."""
    results = []

    def export(self, spans):
        result = super().export(spans)
        Recording.results.append(result == SpanExportResult.SUCCESS)
        return result


exporter = Recording(endpoint=endpoint, timeout=10,
                     compression=Compression.Gzip if compression == "gzip" else Compression.NoCompression)
provider = TracerProvider(resource=Resource.create({"service.name": "orders", "service.version": "1.2.3"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("evtop-test", "0.1")

with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER) as root:
    with tracer.start_as_current_span("orders publish", kind=SpanKind.PRODUCER, attributes={
        "messaging.system": "kafka",
        "messaging.destination.name": "orders",
        "messaging.operation.type": "publish",
        "messaging.message.id": "msg-1",
        "messaging.message.conversation_id": conversation,
        "messaging.kafka.message.offset": 42,
        "retry.ratio": 0.25,
        "flags": [True, False],
    }) as producer:
        producer.add_event("enqueued", {"queue.depth": 3, "note": "tab\there"})

consumer = tracer.start_span("orders process", kind=SpanKind.CONSUMER,
                             links=[Link(producer.get_span_context(), {"link.reason": "creation"})],
                             attributes={"messaging.operation.type": "process", "messaging.message.id": "msg-1"})
try:
    raise ValueError("card declined")
except ValueError as error:
    consumer.record_exception(error)
consumer.set_status(Status(StatusCode.ERROR, "payment failed"))
consumer.end()
provider.shutdown()


def ids(span):
    ctx = span.get_span_context()
    return {"trace": format(ctx.trace_id, "032x"), "span": format(ctx.span_id, "016x")}


print(json.dumps({"ok": all(Recording.results) and len(Recording.results) == 3,
                  "root": ids(root), "producer": ids(producer), "consumer": ids(consumer)}))
