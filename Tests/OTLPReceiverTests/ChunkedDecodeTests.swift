import EmbeddedStore
import EventModel
import Foundation
import Synchronization
@testable import OTLPReceiver
import XCTest

/// The protobuf body walked a span at a time gives exactly what a whole decode gives: the same spans in
/// the same order, the same rejections, and a refusal of the same bodies.
final class ChunkedDecodeTests: XCTestCase {
    // MARK: - A tiny protobuf writer

    func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
        return out
    }
    func len(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload }
    func string(_ field: UInt64, _ s: String) -> [UInt8] { len(field, Array(s.utf8)) }
    func keyValue(_ key: String, _ value: String) -> [UInt8] { string(1, key) + len(2, string(1, value)) }

    func span(_ i: Int, trace: Int = 1, validIDs: Bool = true, extra: [UInt8] = []) -> [UInt8] {
        var traceID = [UInt8](repeating: 0, count: 16), spanID = [UInt8](repeating: 0, count: 8)
        traceID[15] = UInt8(trace); traceID[0] = 0xab
        spanID[7] = UInt8(i & 0xff); spanID[6] = UInt8(i >> 8); spanID[0] = 1
        var out = len(1, traceID) + len(2, validIDs ? spanID : [1, 2, 3]) + string(5, "span \(i)") + varint(6 << 3) + varint(3)
        out += varint(7 << 3 | 1) + [UInt8](repeating: UInt8(i & 0xff), count: 8)  // start (fixed64)
        out += varint(8 << 3 | 1) + [UInt8](repeating: UInt8(i & 0xff), count: 7) + [0x7f]  // end
        out += len(9, keyValue("messaging.message.conversation_id", "ord-\(i % 5)"))
        return out + extra
    }

    func resource(_ service: String) -> [UInt8] { len(1, keyValue("service.name", service)) }

    /// A request with two resources (the second's resource sent in two pieces, after its scopes), scopes
    /// with schema URLs and scope fields, unknown fields at every level, and a span with a bad id.
    func request(spansPerScope: Int) -> [UInt8] {
        var n = 0
        func scope(_ count: Int, bad: Int? = nil) -> [UInt8] {
            var out = len(1, string(1, "lib") + string(2, "1.0")) + string(3, "https://schema")
            for _ in 0..<count {
                out += len(2, span(n, trace: n / 7, validIDs: n != bad))
                n += 1
            }
            return out + varint(99 << 3) + varint(7)  // an unknown varint field
        }
        let first = len(1, resource("orders")) + len(2, scope(spansPerScope)) + len(2, scope(spansPerScope, bad: spansPerScope + 3))
        let secondScopes = len(2, scope(spansPerScope))
        let second = secondScopes + len(1, len(1, keyValue("host", "a"))) + len(1, resource("payments")) + string(3, "https://s")
        return len(1, first) + varint(77 << 3 | 5) + [1, 2, 3, 4] + len(1, second) + len(1, [])
    }

    // MARK: - The walk against the whole decode

    struct Outcome: Equatable {
        var spans: [Span]
        var rejected: Int
        var message: String
    }

    func whole(_ body: [UInt8]) -> Outcome? {
        guard let batch = try? OTLPConversion.decodeRequest(body, encoding: .protobuf) else { return nil }
        return Outcome(spans: batch.spans, rejected: batch.rejected, message: batch.rejectionMessage)
    }

    func walked(_ body: [UInt8], chunk: Int) async -> Outcome? {
        guard let count = try? OTLPConversion.validateProtobuf(body) else { return nil }
        var spans: [Span] = []
        var pieces: [Int] = []
        guard let (rejected, message) = try? await OTLPConversion.decodeProtobuf(body, chunk: chunk, { piece in
            pieces.append(piece.count)
            spans += piece
        }) else {
            XCTFail("the walk refused a body it validated")
            return nil
        }
        XCTAssertTrue(pieces.allSatisfy { $0 > 0 && $0 <= chunk }, "pieces \(pieces) for a chunk of \(chunk)")
        XCTAssertEqual(count, spans.count + rejected)
        return Outcome(spans: spans, rejected: rejected, message: message)
    }

    func testTheWalkGivesWhatTheWholeDecodeGives() async throws {
        let body = request(spansPerScope: 9)
        let expected = try XCTUnwrap(whole(body))
        // The fixture exercises what it should: both services, a rejection, the merged resource.
        XCTAssertEqual(Set(expected.spans.map(\.service)), ["orders", "payments"])
        XCTAssertEqual(expected.rejected, 1)
        XCTAssertEqual(expected.spans.count, 26)
        for chunk in [1, 4, 26, 2_000] {
            let got = await walked(body, chunk: chunk)
            XCTAssertEqual(got, expected, "chunk \(chunk)")
        }
        // The request the SDKs send: one resource, one scope, many spans.
        let encoded = try OTLPConversion.encodeRequest(expected.spans)
        let got = await walked(encoded, chunk: 10)
        XCTAssertEqual(got, whole(encoded))
    }

    /// Mutated bodies (bytes changed, cut, inserted, seeded so that a failure is reproducible): every one is
    /// refused by both or gives the same outcome in both.
    func testMutatedBodiesAreJudgedAlike() async throws {
        let base = request(spansPerScope: 3)
        var rng = SplitMix(seed: 16)
        var refused = 0, accepted = 0
        for _ in 0..<3_000 {
            var body = base
            for _ in 0...(rng.next() % 3) {
                let at = Int(rng.next() % UInt64(body.count))
                switch rng.next() % 4 {
                case 0: body[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: body[at] ^= UInt8(1) << UInt8(rng.next() % 8)
                case 2: body.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                default: body.removeSubrange(at..<min(body.count, at + Int(rng.next() % 4) + 1))
                }
                if body.isEmpty { body = [0] }
            }
            let expected = whole(body)
            let got = await walked(body, chunk: 2)
            XCTAssertEqual(got, expected, "body \(body.map { String(format: "%02x", $0) }.joined())")
            // The synchronous path the fuzz target compares.
            let pieces = (try? OTLPConversion.decodeProtobufInPieces(body, chunk: 2)).map { Outcome(spans: $0.batch.spans, rejected: $0.batch.rejected, message: $0.batch.rejectionMessage) }
            XCTAssertEqual(pieces, expected)
            if expected == nil { refused += 1 } else { accepted += 1 }
        }
        // Both kinds were seen, so the comparison was not vacuous.
        XCTAssertGreaterThan(refused, 100)
        XCTAssertGreaterThan(accepted, 100)
    }

    func testTheDepthLimitIsCountedFromTheRequest() async throws {
        // An attribute value nested so deep that the whole request exceeds swift-protobuf's depth limit
        // by one level, while the span alone would not.
        func nested(_ depth: Int) -> [UInt8] {
            // AnyValue { kvlist_value(6): KeyValueList { values(1): KeyValue { key, value: AnyValue ... } } }
            var v = string(1, "leaf")
            for _ in 0..<depth { v = len(6, len(1, string(1, "k") + len(2, v))) }
            return v
        }
        for depth in 30...34 {
            let spanBytes = span(1, extra: len(9, string(1, "deep") + len(2, nested(depth))))
            let body = len(1, resource("svc") + len(2, len(2, spanBytes)))
            let expected = whole(body)
            let got = await walked(body, chunk: 5)
            XCTAssertEqual(got, expected, "depth \(depth)")
        }
    }
}

/// A small seeded generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A store that says how many spans each write brought, over a real SQLite store.
final class BatchSizeRecorder: SpanStore, Sendable {
    let base: SQLiteLog
    private let sizes = Mutex<[Int]>([])
    init(_ base: SQLiteLog) { self.base = base }
    var batches: [Int] { sizes.withLock { $0 } }
    func insertSpans(_ spans: [Span]) async throws -> Int {
        sizes.withLock { $0.append(spans.count) }
        return try await base.insertSpans(spans)
    }
    func spans(correlationID id: String, limit: Int) async throws -> [Span] { try await base.spans(correlationID: id, limit: limit) }
    func spans(traceID: String) async throws -> [Span] { try await base.spans(traceID: traceID) }
    func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int {
        try await base.pruneSpans(olderThanUnixNano: cutoffUnixNano, maxSpans: maxSpans)
    }
}

/// Over HTTP: a large protobuf request reaches the store in pieces, and is answered 200 once all are in.
final class ChunkedIngestTests: ReceiverTestCase {
    func testALargeProtobufRequestIsStoredInBoundedPieces() async throws {
        let recorder = BatchSizeRecorder(store)
        // No write-behind window: each piece waits for its own commit before the next is decoded, so the
        // store sees the pieces themselves (with a window, the writer may group queued pieces into one
        // transaction, as it does across requests; WriteBehindTests covers that).
        var limits = ReceiverTestCase.noRetention
        limits.writeBehindSpans = 0
        let r = OTLPReceiver(host: "127.0.0.1", port: 0, store: recorder, limits: limits)
        port = try await r.start()
        receiver = r
        let count = OTLPReceiver.decodeChunk * 2 + 500
        let spans = (0..<count).map { span($0, trace: String(format: "%032x", 0xabc000 + $0 / 50)) }
        let reply = try await post(try OTLPConversion.encodeRequest(spans))
        XCTAssertEqual(reply.status, 200, reply.text)
        // Every piece committed (the helper waits for the writer after the answer).
        let stored = try await store.spanCount()
        XCTAssertEqual(stored, count)
        let batches = recorder.batches
        XCTAssertEqual(batches.reduce(0, +), count)
        XCTAssertLessThanOrEqual(batches.max() ?? 0, OTLPReceiver.decodeChunk, "batches \(batches)")
        XCTAssertEqual(receiver?.stats.pendingSpans, 0)
        XCTAssertEqual(receiver?.stats.spansStored, count)
    }
}
