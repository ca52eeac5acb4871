#!/usr/bin/env python3
"""Writes corpus/otlp-protobuf/: the spans of Tests/Fixtures/otlp_send.py, encoded by the OpenTelemetry
Python SDK's own OTLP protobuf encoder (the bytes its exporter posts). Run from Fuzz/ after scripts/deps."""
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

memory = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "orders", "service.version": "1.2.3"}))
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("evtop-test", "0.1")

with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER):
    with tracer.start_as_current_span("orders publish", kind=SpanKind.PRODUCER, attributes={
        "messaging.system": "kafka", "messaging.destination.name": "orders",
        "messaging.operation.type": "publish", "messaging.message.id": "msg-1",
        "messaging.message.conversation_id": "ord-1", "messaging.kafka.message.offset": 42,
        "retry.ratio": 0.25, "flags": [True, False],
    }) as producer:
        producer.add_event("enqueued", {"queue.depth": 3, "note": "tab\there"})
consumer = tracer.start_span("orders process", kind=SpanKind.CONSUMER,
                             links=[Link(producer.get_span_context(), {"link.reason": "creation"})],
                             attributes={"messaging.system": "kafka"})
consumer.set_status(Status(StatusCode.ERROR, "declined"))
consumer.end()

spans = memory.get_finished_spans()
with open("corpus/otlp-protobuf/sdk-three-spans.bin", "wb") as f:
    f.write(encode_spans(spans).SerializeToString())
for i, span in enumerate(spans):
    with open(f"corpus/otlp-protobuf/sdk-span-{i}.bin", "wb") as f:
        f.write(encode_spans([span]).SerializeToString())
