// OTLP ingest and span lookup figures (--only otlp).
import EmbeddedStore
import EventModel
import EvtopBenchSupport
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OTLPReceiver

enum OTLPBench {
    /// Five spans per order, as the demo's services make them: publish, process (linked), publish, process, publish.
    static func spans(order: Int, baseNanos: UInt64 = 1_800_000_000_000_000_000) -> [Span] {
        let trace = String(format: "%016llx%016llx", UInt64(order) &* 0x9E37_79B9_7F4A_7C15, UInt64(order) | 1 << 60)
        let conversation = "ord-\(order)"
        var out: [Span] = []
        var parent: String?
        for step in 0..<5 {
            let id = String(format: "%016llx", (UInt64(order) << 4 | UInt64(step)) | 1 << 62)
            let producer = step % 2 == 0
            let start = baseNanos + UInt64(order) * 1_000_000 + UInt64(step) * 100_000
            var attributes = [
                SpanAttribute("messaging.system", .string("kafka")),
                SpanAttribute("messaging.operation.type", .string(producer ? "publish" : "process")),
                SpanAttribute("messaging.destination.name", .string(["orders", "payments", "inventory"][step % 3])),
                SpanAttribute("messaging.message.id", .string("e-\(order)-\(step)")),
                SpanAttribute("messaging.kafka.offset", .int(Int64(order))),
            ]
            if producer { attributes.append(SpanAttribute("messaging.message.conversation_id", .string(conversation))) }
            out.append(Span(traceID: trace, spanID: id, parentSpanID: parent, service: "svc-\(step % 4)",
                            name: producer ? "publish" : "process", kind: producer ? .producer : .consumer,
                            startUnixNano: start, endUnixNano: start + 80_000,
                            status: SpanStatus(code: step == 3 && order % 50 == 0 ? .error : .unset),
                            attributes: attributes,
                            links: producer || parent == nil ? [] : [SpanLink(traceID: trace, spanID: parent!)]))
            parent = id
        }
        return out
    }

    static func run(lookupSpans: Int, ingestBatches: Int, clock: ContinuousClock) async throws {
        let batchSize = 512
        // Pre-encoded protobuf bodies: the client's encoding cost is not the receiver's.
        var bodies: [[UInt8]] = []
        var order = 0
        for _ in 0..<ingestBatches {
            var batch: [Span] = []
            while batch.count < batchSize { batch += spans(order: order); order += 1 }
            bodies.append(try OTLPConversion.encodeRequest(Array(batch.prefix(batchSize))))
        }
        let spanCount = ingestBatches * batchSize
        let avgBytes = bodies.reduce(0) { $0 + $1.count } / max(1, bodies.count)

        // 1. Decode alone (protobuf -> Span), for scale.
        let d0 = clock.now
        var decoded = 0
        for body in bodies { decoded += try OTLPConversion.decodeRequest(body, encoding: .protobuf).spans.count }
        let decodeRate = Double(decoded) / (clock.now - d0).seconds

        // 2. End to end over loopback HTTP into a fresh store, 4 concurrent connections.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-bench-otlp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteLog(path: dir.appendingPathComponent("ingest.db").path)
        let session = URLSession(configuration: .ephemeral)
        let senders = Int(ProcessInfo.processInfo.environment["EVTOP_BENCH_CONNECTIONS"] ?? "") ?? 4
        // The HTTP path alone (client, receiver, decode) into a store that keeps nothing, for scale.
        let httpSeconds = try await post(bodies, into: DiscardingStore(), session: session, senders: senders, clock: clock)
        let ingestSeconds = try await post(bodies, into: store, session: session, senders: senders, clock: clock)
        let stored = try await store.spanCount()
        guard stored == spanCount else { fail("OTLP ingest: \(stored) spans stored, \(spanCount) sent") }
        print("OTLP ingest, protobuf over loopback HTTP into the embedded store, \(grouped(spanCount)) spans "
            + "(batches of \(batchSize), ~\(grouped(avgBytes)) B per request, \(senders) connections): "
            + "\(grouped(Int(Double(spanCount) / ingestSeconds))) spans/s (HTTP path into a discarding store "
            + "\(grouped(Int(Double(spanCount) / httpSeconds))) spans/s, decode alone \(grouped(Int(decodeRate))) spans/s)")

        // 3. Lookup by correlation id in a store of `lookupSpans` spans (filled directly, 5,000 per transaction).
        let big = try SQLiteLog(path: dir.appendingPathComponent("lookup.db").path)
        let orders = lookupSpans / 5
        let fillBatch = Int(ProcessInfo.processInfo.environment["EVTOP_BENCH_FILL_BATCH"] ?? "") ?? 5_000
        var insertTime = Duration.zero
        var pendingBatch: [Span] = []
        func flushBatch() async throws {
            let f0 = clock.now
            try await big.insertSpans(pendingBatch)
            insertTime += clock.now - f0
            pendingBatch.removeAll(keepingCapacity: true)
        }
        for o in 0..<orders {
            pendingBatch += spans(order: o)
            if pendingBatch.count >= fillBatch { try await flushBatch() }
        }
        if !pendingBatch.isEmpty { try await flushBatch() }
        let fillRate = Double(orders * 5) / insertTime.seconds
        var rng = BenchRandom(seed: 7)
        var samples: [Duration] = []
        var found = 0
        for _ in 0..<1_000 {
            let id = "ord-\(rng.int(0...(orders - 1)))"
            let l0 = clock.now
            let spans = try await big.spans(correlationID: id, limit: 1_000)
            samples.append(clock.now - l0)
            found += spans.count
        }
        guard found == 5 * samples.count else { fail("span lookup: found \(found) spans for \(samples.count) sagas, expected 5 each") }
        let s = Stats(samples)
        print("span lookup by correlation id, \(grouped(orders * 5)) spans stored (\(grouped(orders)) sagas of 5, links followed): "
            + "\(ms(s.median)) median, p95 \(ms(s.p95)) (n=\(samples.count)); direct insert \(grouped(Int(fillRate))) spans/s")
    }
}

/// Keeps nothing: isolates the HTTP path's cost in the ingest figure.
struct DiscardingStore: TraceStore, SpanRetention {
    func insertSpans(_ spans: [Span]) async throws -> Int { spans.count }
    func spans(correlationID id: String, limit: Int) async throws -> [Span] { [] }
    func spans(traceID: String) async throws -> [Span] { [] }
    func pruneSpans(olderThanUnixNano cutoffUnixNano: UInt64, maxSpans: Int) async throws -> Int { 0 }
}

extension OTLPBench {
    /// Posts every body over `senders` connections to a receiver into `store`; returns the seconds taken.
    static func post(_ bodies: [[UInt8]], into store: any SpanStore, session: URLSession, senders: Int,
                     clock: ContinuousClock) async throws -> Double {
        let receiver = OTLPReceiver(host: "127.0.0.1", port: 0, store: store,
                                    limits: OTLPReceiverLimits(maxPendingSpans: 1_000_000, retentionAge: nil, retentionMaxSpans: nil))
        let port = try await receiver.start()
        let url = URL(string: "http://127.0.0.1:\(port)/v1/traces")!
        let t0 = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<senders {
                let mine = stride(from: s, to: bodies.count, by: senders).map { bodies[$0] }
                group.addTask {
                    for body in mine {
                        var request = URLRequest(url: url)
                        request.httpMethod = "POST"
                        request.setValue("application/x-protobuf", forHTTPHeaderField: "Content-Type")
                        request.httpBody = Data(body)
                        let (_, response) = try await session.data(for: request)
                        guard (response as? HTTPURLResponse)?.statusCode == 200 else { fail("OTLP post: HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (clock.now - t0).seconds
        await receiver.stop()
        return seconds
    }
}
