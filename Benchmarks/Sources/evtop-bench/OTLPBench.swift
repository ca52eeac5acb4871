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
        // Random-looking ids, as OpenTelemetry SDKs make them (W3C: 16 random bytes of trace, 8 of span).
        let trace = String(format: "%016llx%016llx", mix64(UInt64(order)), mix64(UInt64(order) ^ 0xA5A5_5A5A_0F0F_F0F0))
        let conversation = "ord-\(order)"
        var out: [Span] = []
        var parent: String?
        for step in 0..<5 {
            let id = String(format: "%016llx", mix64(UInt64(order) << 4 | UInt64(step) ^ 0x5DEE_CE66_D1CE_4E5B))
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

    /// splitmix64's finaliser: a well-mixed 64-bit value for `x`, never 0 (an all-zero W3C id is invalid).
    static func mix64(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return (z ^ (z >> 31)) | 1
    }

    /// Protobuf export bodies of `batchSize` unique spans each, for orders `orders` (the client's encoding
    /// cost is paid before the clock starts: it is not the receiver's).
    static func bodies(orders: Range<Int>, batchSize: Int) throws -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        var batch: [Span] = []
        for order in orders {
            batch += spans(order: order)
            if batch.count >= batchSize {
                bodies.append(try OTLPConversion.encodeRequest(Array(batch.prefix(batchSize))))
                batch.removeFirst(batchSize)
            }
        }
        if !batch.isEmpty { bodies.append(try OTLPConversion.encodeRequest(batch)) }
        return bodies
    }

    static func run(lookupSpans: Int, ingestBatches: Int, clock: ContinuousClock) async throws {
        let env = ProcessInfo.processInfo.environment
        // Issue 11's measure: 1,000 unique spans per request over one HTTP/1.1 connection.
        let batchSize = Int(env["EVTOP_BENCH_BATCH"] ?? "") ?? 1_000
        let senders = Int(env["EVTOP_BENCH_CONNECTIONS"] ?? "") ?? 1
        let n = ingestBatches * batchSize
        let ordersPerHalf = n / 5

        // 1. Decode alone (protobuf -> Span), for scale.
        let sample = try bodies(orders: 0..<min(ordersPerHalf, 20_000), batchSize: batchSize)
        let avgBytes = sample.reduce(0) { $0 + $1.count } / max(1, sample.count)
        let d0 = clock.now
        var decoded = 0
        for body in sample { decoded += try OTLPConversion.decodeRequest(body, encoding: .protobuf).spans.count }
        let decodeRate = Double(decoded) / (clock.now - d0).seconds

        // 2. End to end over loopback HTTP: N spans into an empty store, then N more into the same store
        // (sustained, between N and 2N stored), then bytes per span once the WAL is checkpointed.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-bench-otlp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // EVTOP_BENCH_KEEP=1 keeps the stores, to see where their bytes go (`dbstat`).
        let keep = ProcessInfo.processInfo.environment["EVTOP_BENCH_KEEP"] != nil
        defer { if keep { print("OTLP stores kept in \(dir.path)") } else { try? FileManager.default.removeItem(at: dir) } }
        let dbPath = dir.appendingPathComponent("ingest.db").path
        let session = URLSession(configuration: .ephemeral)
        // The HTTP path alone (client, receiver, decode) into a store that keeps nothing, for scale.
        let httpSeconds = try await post(sample, into: DiscardingStore(), session: session, senders: senders, clock: clock)
        let httpRate = Double(decoded) / httpSeconds
        // In a function of its own: the store is closed when it returns, which checkpoints the WAL into the
        // file and removes it, so the file's size is what the spans take.
        func ingest() async throws -> (empty: Double, sustained: Double, stored: Int) {
            let store = try SQLiteLog(path: dbPath)
            let first = try bodies(orders: 0..<ordersPerHalf, batchSize: batchSize)
            let empty = try await post(first, into: store, session: session, senders: senders, clock: clock)
            let second = try bodies(orders: ordersPerHalf..<(2 * ordersPerHalf), batchSize: batchSize)
            let sustained = try await post(second, into: store, session: session, senders: senders, clock: clock)
            let count = try await store.spanCount()
            // Weighed closed: the WAL folded into the file (as the lookup store below is).
            store.close()
            return (empty, sustained, count)
        }
        let (emptySeconds, sustainedSeconds, stored) = try await ingest()
        guard stored == 10 * ordersPerHalf else { fail("OTLP ingest: \(stored) spans stored, \(10 * ordersPerHalf) sent") }
        let fileBytes = fileSize(dbPath) + fileSize(dbPath + "-wal")
        let half = 5 * ordersPerHalf
        print("OTLP ingest, protobuf over loopback HTTP through the receiver, \(grouped(batchSize)) unique spans per request "
            + "(~\(grouped(avgBytes)) B), \(senders) connection\(senders == 1 ? "" : "s"): "
            + "\(grouped(Int(Double(half) / emptySeconds))) spans/s into an empty store (0 to \(grouped(half)) stored), "
            + "\(grouped(Int(Double(half) / sustainedSeconds))) spans/s sustained (\(grouped(half)) to \(grouped(2 * half)) stored); "
            + "\(grouped(fileBytes / max(1, stored))) bytes/span at \(grouped(stored)) spans (file after checkpoint) "
            + "[HTTP path into a discarding store \(grouped(Int(httpRate))) spans/s, decode alone \(grouped(Int(decodeRate))) spans/s]")

        // 3. Lookup by correlation id in a store of `lookupSpans` spans (filled directly, 5,000 per transaction).
        let bigPath = dir.appendingPathComponent("lookup.db").path
        let orders = lookupSpans / 5
        let fillBatch = Int(ProcessInfo.processInfo.environment["EVTOP_BENCH_FILL_BATCH"] ?? "") ?? 5_000
        // Filled, then closed (the WAL goes into the file) to weigh it, then reopened for the lookups.
        func fill() async throws -> Duration {
            let big = try SQLiteLog(path: bigPath)
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
            big.close()
            return insertTime
        }
        let fillRate = Double(orders * 5) / (try await fill()).seconds
        let bigBytes = fileSize(bigPath) + fileSize(bigPath + "-wal")
        let big = try SQLiteLog(path: bigPath, mode: .readOnly)
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
            + "\(ms(s.median)) median, p95 \(ms(s.p95)) (n=\(samples.count)); direct insert \(grouped(Int(fillRate))) spans/s, "
            + "\(grouped(bigBytes / max(1, orders * 5))) bytes/span (file after checkpoint)")
    }
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil) ?? 0
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
        // Until the last acknowledged span is committed: the figure is spans stored per second, not answered.
        await receiver.flush()
        let seconds = (clock.now - t0).seconds
        await receiver.stop()
        return seconds
    }
}
