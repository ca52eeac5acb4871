import EmbeddedStore
import EventModel
import Foundation
@testable import OTLPReceiver
import XCTest

/// Status codes, encodings and limits of POST /v1/traces, against a real SQLite store.
final class HTTPBehaviourTests: ReceiverTestCase {
    let traceHex = "5B8EFFF798038103D269B633813FC60C"
    let spanHex = "EEE19B7EC3C1B174"

    /// An OTLP/JSON request as the specification's example writes it: hex ids, int64 as strings, enums as integers.
    func jsonRequest(traceID: String? = nil, spanID: String? = nil, extra: String = "") -> [UInt8] {
        Array("""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"billing"}}]},
          "scopeSpans":[{"scope":{"name":"manual","unknownScopeField":1},"spans":[{
            "traceId":"\(traceID ?? traceHex)","spanId":"\(spanID ?? spanHex)","parentSpanId":"",
            "name":"charge","kind":5,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
            "attributes":[{"key":"messaging.conversation_id","value":{"stringValue":"ord-json"}},
                          {"key":"attempt","value":{"intValue":"3"}}],
            "events":[{"timeUnixNano":"1544712660500000000","name":"exception",
                       "attributes":[{"key":"exception.message","value":{"stringValue":"declined"}}]}],
            "links":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331"}],
            "status":{"code":2,"message":"no funds"},
            "someFutureField":{"x":[1,2]}\(extra)
          }]}]}]}
        """.utf8)
    }

    func testJSONWithHexIDsAndStringInt64() async throws {
        try await startReceiver()
        let reply = try await post(jsonRequest(), contentType: "application/json")
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.headers["content-type"], "application/json")
        XCTAssertEqual(reply.text, "{}")
        let spans = try await store.spans(traceID: traceHex.lowercased())
        XCTAssertEqual(spans.count, 1)
        let span = try XCTUnwrap(spans.first)
        XCTAssertEqual(span.spanID, "eee19b7ec3c1b174")
        XCTAssertNil(span.parentSpanID)
        XCTAssertEqual(span.service, "billing")
        XCTAssertEqual(span.kind, .consumer)
        XCTAssertEqual(span.startUnixNano, 1_544_712_660_000_000_000)
        XCTAssertEqual(span.endUnixNano, 1_544_712_661_000_000_000)
        XCTAssertEqual(span.attribute("attempt"), .int(3))
        XCTAssertEqual(span.status, SpanStatus(code: .error, message: "no funds"))
        XCTAssertEqual(span.events, [SpanEvent(timeUnixNano: 1_544_712_660_500_000_000, name: "exception",
                                               attributes: [SpanAttribute("exception.message", .string("declined"))])])
        XCTAssertEqual(span.links, [SpanLink(traceID: "0af7651916cd43dd8448eb211c80319c", spanID: "b7ad6b7169203331")])
        // The older attribute name counts as the correlation id too.
        let awaited1 = try await store.spans(correlationID: "ord-json", limit: 10).map(\.spanID)
        XCTAssertEqual(awaited1, ["eee19b7ec3c1b174"])
    }

    func testProtobufRoundTripAndGzip() async throws {
        try await startReceiver()
        let spans = (0..<3).map { span($0) }
        let body = try OTLPConversion.encodeRequest(spans)
        var reply = try await post(body)
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.headers["content-type"], "application/x-protobuf")
        XCTAssertEqual(reply.body.count, 0, "an empty ExportTraceServiceResponse")
        let more = (3..<6).map { span($0) }
        reply = try await post(Gzip.compress(try OTLPConversion.encodeRequest(more)), encoding: "gzip")
        XCTAssertEqual(reply.status, 200)
        let stored = try await store.spans(traceID: "0af7651916cd43dd8448eb211c80319c")
        XCTAssertEqual(stored, spans + more)
        // JSON, gzip
        reply = try await post(Gzip.compress(jsonRequest()), contentType: "application/json; charset=utf-8", encoding: "gzip")
        XCTAssertEqual(reply.status, 200, reply.text)
        let awaited2 = try await store.spanCount()
        XCTAssertEqual(awaited2, 7)
    }

    #if os(Linux)
    func testIdleConnectionsAreClosed() async throws {
        var limits = Self.noRetention
        limits.idleTimeout = .milliseconds(200)
        try await startReceiver(limits)
        let quiet = try RawConnection(port: port)
        XCTAssertEqual(quiet.readUntilClosed(timeoutMillis: 10_000), true, "an idle connection was kept open")
        let freed = try await eventuallyValue { self.receiver?.stats.openConnections == 0 ? true : nil }
        XCTAssertEqual(freed, true)
    }

    func testConnectionsBeyondTheCapAreClosedAndServingGoesOn() async throws {
        var limits = Self.noRetention
        limits.maxConnections = 3
        try await startReceiver(limits)
        // Three idle clients hold every slot (a slowloris would).
        let idle = try (0..<3).map { _ in try RawConnection(port: port) }
        let three = try await eventuallyValue { self.receiver?.stats.openConnections == 3 ? true : nil }
        XCTAssertEqual(three, true)
        // A fourth is answered 503 + Retry-After at once and closed.
        let extra = try RawConnection(port: port)
        let answer = extra.readAll(timeoutMillis: 10_000)
        XCTAssertTrue(answer.closed, "the fourth connection was not closed")
        XCTAssertTrue(answer.text.hasPrefix("HTTP/1.1 503"), answer.text)
        XCTAssertTrue(answer.text.contains("Retry-After: 1"), answer.text)
        XCTAssertTrue(answer.text.contains("all 3 connections of the receiver are in use"), answer.text)
        XCTAssertGreaterThanOrEqual(receiver?.stats.refusedConnections ?? 0, 1)
        // When they go, exports are served again.
        idle.forEach { $0.close() }
        let freed = try await eventuallyValue { self.receiver?.stats.openConnections == 0 ? true : nil }
        XCTAssertEqual(freed, true)
        let reply = try await post(jsonRequest(), contentType: "application/json")
        XCTAssertEqual(reply.status, 200, reply.text)
    }
    #endif

    func testMalformedBodiesAre400AndLeaveTheStoreUnchanged() async throws {
        try await startReceiver()
        let awaited3 = try await post(try OTLPConversion.encodeRequest([span(1)])).status
        XCTAssertEqual(awaited3, 200)
        let cases: [(String, [UInt8], String?)] = [
            ("application/x-protobuf", [0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01], nil),  // length beyond the data
            ("application/x-protobuf", [0xff, 0xff, 0xff], nil),
            ("application/json", Array("{\"resourceSpans\": [".utf8), nil),
            ("application/json", Array("{\"resourceSpans\": 5}".utf8), nil),
            ("application/json", Array("not json".utf8), nil),
            ("application/x-protobuf", [0x1f, 0x8b, 0x08, 0x00, 0x01], "gzip"),  // truncated gzip
            ("application/json", Array("{}".utf8), "gzip"),  // not gzip at all
        ]
        for (contentType, body, encoding) in cases {
            let reply = try await post(body, contentType: contentType, encoding: encoding)
            XCTAssertEqual(reply.status, 400, "\(contentType) \(body.prefix(20)) \(encoding ?? "")")
            XCTAssertEqual(reply.headers["content-type"], contentType)
            if contentType == "application/json" {
                let status = try JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
                XCTAssertEqual(status?["code"] as? Int, 3)
                XCTAssertFalse((status?["message"] as? String ?? "").isEmpty)
            } else {
                let status = try Google_Rpc_Status(serializedBytes: Array(reply.body))
                XCTAssertEqual(status.code, 3)
            }
        }
        let awaited4 = try await store.spanCount()
        XCTAssertEqual(awaited4, 1)
    }

    func testPartialSuccessForInvalidSpans() async throws {
        try await startReceiver()
        var request = ProtoRequest()
        var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        ss.spans = [OTLPConversion.proto(span(1)), OTLPConversion.proto(span(2)), OTLPConversion.proto(span(3))]
        ss.spans[1].spanID = Data([1, 2, 3])  // bad length
        ss.spans[2].traceID = Data(repeating: 0, count: 16)  // all zero
        rs.scopeSpans = [ss]
        request.resourceSpans = [rs]
        let reply = try await post(try request.serializedBytes())
        XCTAssertEqual(reply.status, 200)
        let answer = try ProtoResponse(serializedBytes: Array(reply.body))
        XCTAssertEqual(answer.partialSuccess.rejectedSpans, 2)
        XCTAssertTrue(answer.partialSuccess.errorMessage.contains("span_id must be 8 bytes"), answer.partialSuccess.errorMessage)
        let stored = try await store.spans(traceID: "0af7651916cd43dd8448eb211c80319c")
        XCTAssertEqual(stored.map(\.name), ["span 1"])
        XCTAssertEqual(stored.first?.service, "unknown", "no resource: service unknown")

        // JSON: a span id of the wrong length, and a base64 id (OTLP/JSON wants hex).
        let json = try await post(jsonRequest(spanID: "EEE19B7EC3C1B1"), contentType: "application/json")
        XCTAssertEqual(json.status, 200, json.text)
        let object = try JSONSerialization.jsonObject(with: json.body) as? [String: Any]
        let partial = object?["partialSuccess"] as? [String: Any]
        XCTAssertEqual(partial?["rejectedSpans"] as? String, "1", json.text)
        let b64 = try await post(jsonRequest(traceID: "W47/95gDgQPSabYzgT/GDA=="), contentType: "application/json")
        XCTAssertTrue(b64.status == 200 && b64.text.contains("rejectedSpans") || b64.status == 400, b64.text)
        let awaited5 = try await store.spanCount()
        XCTAssertEqual(awaited5, 1)
    }

    func testOversizedBodiesAre413() async throws {
        try await startReceiver(OTLPReceiverLimits(maxBodyBytes: 4096, retentionAge: nil, retentionMaxSpans: nil))
        let big = try OTLPConversion.encodeRequest((0..<200).map { span($0) })
        XCTAssertGreaterThan(big.count, 4096)
        var reply = try await post(big)
        XCTAssertEqual(reply.status, 413)
        // A small gzip body that inflates past the limit (a decompression bomb).
        var bomb = try OTLPConversion.encodeRequest([span(0)])
        bomb += Array(repeating: 0, count: 1 << 20)  // trailing zero bytes; never reached
        let compressed = Gzip.compress(bomb)
        XCTAssertLessThan(compressed.count, 4096)
        reply = try await post(compressed, encoding: "gzip")
        XCTAssertEqual(reply.status, 413)
        let awaited6 = try await store.spanCount()
        XCTAssertEqual(awaited6, 0)
        // The receiver still serves afterwards.
        reply = try await post(try OTLPConversion.encodeRequest([span(1)]))
        XCTAssertEqual(reply.status, 200)
    }

    func testWrongContentTypePathAndMethod() async throws {
        try await startReceiver()
        let body = try OTLPConversion.encodeRequest([span(1)])
        let awaited7 = try await post(body, contentType: "text/plain").status
        XCTAssertEqual(awaited7, 415)
        let awaited8 = try await post(body, contentType: nil).status
        XCTAssertEqual(awaited8, 415)
        let awaited9 = try await post(body, encoding: "br").status
        XCTAssertEqual(awaited9, 415)
        let awaited10 = try await post(body, path: "/v1/metrics").status
        XCTAssertEqual(awaited10, 404)
        let get = try await post([], path: "/v1/traces", method: "GET")
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(get.headers["allow"], "POST")
        let awaited11 = try await post(body, path: "/v1/traces?x=1").status
        XCTAssertEqual(awaited11, 200)
        let awaited12 = try await store.spanCount()
        XCTAssertEqual(awaited12, 1)
    }

    func testStoreBehindGets503WithRetryAfter() async throws {
        try await startReceiver(OTLPReceiverLimits(maxPendingSpans: 2, retryAfterSeconds: 7, retentionAge: nil, retentionMaxSpans: nil))
        // Another process holds the store's write lock, as a busy writer would; the first request waits for it.
        let (release, lock) = try holdWriteLock()
        let firstBody = try OTLPConversion.encodeRequest([span(1), span(2)])
        let receiverPort = port
        async let first = ReceiverTestCase.post(port: receiverPort, firstBody)
        // Wait until the first request's spans are pending; then the next one is refused.
        for _ in 0..<3_000 where receiver?.stats.pendingSpans != 2 {
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        XCTAssertEqual(receiver?.stats.pendingSpans, 2)
        let throttled: Reply? = try await ReceiverTestCase.post(port: receiverPort, try OTLPConversion.encodeRequest([span(3)]))
        XCTAssertEqual(throttled?.status, 503)
        let refused = try XCTUnwrap(throttled, "no 503 while the store was locked")
        XCTAssertEqual(refused.headers["retry-after"], "7")
        XCTAssertEqual(try Google_Rpc_Status(serializedBytes: Array(refused.body)).code, 14)
        release()
        let accepted = try await first
        XCTAssertEqual(accepted.status, 200)
        lock.waitUntilExit()
        await receiver?.flush()
        let names = Set(try await store.spans(traceID: "0af7651916cd43dd8448eb211c80319c").map(\.name))
        XCTAssertTrue(names.isSuperset(of: ["span 1", "span 2"]))
        XCTAssertFalse(names.contains("span 3"))
        XCTAssertEqual(receiver?.stats.throttled, 1)
        XCTAssertEqual(receiver?.stats.pendingSpans, 0)
    }

    func testExporterDeliversBatchesOverHTTP() async throws {
        try await startReceiver()
        let exporter = OTLPExporter(endpoint: try XCTUnwrap(OTLPExporter.endpoint(host: "127.0.0.1", port: port)), batchSize: 4)
        exporter.enqueue((0..<10).map { span($0) })
        await exporter.flush()
        XCTAssertEqual(exporter.counters.exported, 10)
        XCTAssertEqual(exporter.counters.dropped, 0)
        // The receiver answers once spans are queued for its writer: wait for the writer before counting.
        await receiver?.flush()
        let awaited13 = try await store.spanCount()
        XCTAssertEqual(awaited13, 10)
    }

    func testRetentionRunsPeriodically() async throws {
        try await startReceiver(OTLPReceiverLimits(retentionAge: 3_600, retentionMaxSpans: nil, retentionInterval: 0.05))
        var fresh = span(2, trace: "1af7651916cd43dd8448eb211c80319c")
        fresh.startUnixNano = UInt64(Date().timeIntervalSince1970 * 1e9)
        fresh.endUnixNano = fresh.startUnixNano + 1_000
        let reply = try await post(try OTLPConversion.encodeRequest([span(1), fresh]))  // span(1) is from 2023
        XCTAssertEqual(reply.status, 200)
        var left = try await store.spanCount()
        for _ in 0..<200 where left != 1 {
            try await Task.sleep(nanoseconds: 20_000_000)
            left = try await store.spanCount()
        }
        XCTAssertEqual(left, 1)
        let kept = try await store.spans(traceID: fresh.traceID)
        XCTAssertEqual(kept, [fresh])
    }

    func testExpect100ContinueIsAnswered() async throws {
        try await startReceiver()
        let body = try OTLPConversion.encodeRequest([span(1)])
        let bodyFile = dir.appendingPathComponent("body.bin")
        try Data(body).write(to: bodyFile)
        // A client that waits for 100 Continue before sending the body, as curl does for large bodies.
        let script = """
            import socket, sys
            body = open(sys.argv[2], 'rb').read()
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
            s.sendall(b'POST /v1/traces HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/x-protobuf\\r\\n'
                      + b'Expect: 100-continue\\r\\nContent-Length: ' + str(len(body)).encode() + b'\\r\\n\\r\\n')
            interim = s.recv(4096)
            print(interim.split(b'\\r\\n')[0].decode())
            s.sendall(body)
            final = b''
            while b'\\r\\n\\r\\n' not in final:
                final += s.recv(4096)
            print(final.split(b'\\r\\n')[0].decode())
            """
        let result = try await run("/usr/bin/env", ["python3", "-c", script, String(port), bodyFile.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n"), ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
        let count = try await store.spanCount()
        XCTAssertEqual(count, 1)
    }
}
