import EventModel
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Exports spans over OTLP/HTTP (protobuf, POST /v1/traces) in batches, as an OpenTelemetry SDK's
/// batch span processor would: spans are queued, sent when a batch is full or on ``flush()``.
///
/// The queue is bounded (``maxQueuedSpans``): beyond it the oldest spans are dropped and counted. A 429 or 503
/// from the receiver is retried after its Retry-After (a few times), as the OTLP specification asks.
public final class OTLPExporter: Sendable {
    /// Where spans are posted, e.g. `http://127.0.0.1:4318/v1/traces`.
    public let endpoint: URL
    /// Spans per request.
    public let batchSize: Int
    /// Spans kept waiting at most.
    public let maxQueuedSpans: Int
    private let session: URLSession

    private struct State {
        var queue: [Span] = []
        var dropped = 0
        var exported = 0
        var lastError: String?
    }
    private let state = Mutex(State())
    /// Serializes sends, so batches arrive in order.
    private let sender = SendQueue()

    /// Creates an exporter posting to `endpoint`.
    public init(endpoint: URL, batchSize: Int = 512, maxQueuedSpans: Int = 20_000) {
        self.endpoint = endpoint
        self.batchSize = max(1, batchSize)
        self.maxQueuedSpans = max(self.batchSize, maxQueuedSpans)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 10
        self.session = URLSession(configuration: configuration)
    }

    /// The endpoint for a receiver at `host:port`.
    public static func endpoint(host: String, port: Int) -> URL? {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return URL(string: "http://\(bracketed):\(port)\(OTLPReceiver.tracesPath)")
    }

    /// Spans exported, spans dropped (queue full or export failed), and the last failure.
    public var counters: (exported: Int, dropped: Int, lastError: String?) {
        state.withLock { ($0.exported, $0.dropped, $0.lastError) }
    }

    /// Queues spans; a full batch is sent in the background.
    public func enqueue(_ spans: [Span]) {
        let ready = state.withLock { s -> Bool in
            s.queue.append(contentsOf: spans)
            if s.queue.count > maxQueuedSpans {
                let excess = s.queue.count - maxQueuedSpans
                s.queue.removeFirst(excess)
                s.dropped += excess
            }
            return s.queue.count >= batchSize
        }
        if ready { Task { await self.flush(fullBatchesOnly: true) } }
    }

    /// Sends everything queued (or only full batches) and returns when it has been answered.
    public func flush(fullBatchesOnly: Bool = false) async {
        await sender.run {
            while true {
                let batch = self.state.withLock { s -> [Span] in
                    guard !s.queue.isEmpty, !fullBatchesOnly || s.queue.count >= self.batchSize else { return [] }
                    let n = min(self.batchSize, s.queue.count)
                    defer { s.queue.removeFirst(n) }
                    return Array(s.queue.prefix(n))
                }
                if batch.isEmpty { return }
                await self.send(batch)
            }
        }
    }

    /// Posts one batch now (no queue), retrying 429/503; throws when it was not accepted.
    public func export(_ spans: [Span]) async throws {
        let body = try OTLPConversion.encodeRequest(spans)
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.setValue(OTLPEncoding.protobuf.contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body)
        var attempt = 0
        while true {
            attempt += 1
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else { throw ExportError(message: "no HTTP response") }
            switch http.statusCode {
            case 200..<300:
                if let answer = try? ProtoResponse(serializedBytes: Array(data)), answer.partialSuccess.rejectedSpans > 0 {
                    throw ExportError(message: "receiver rejected \(answer.partialSuccess.rejectedSpans) spans: \(answer.partialSuccess.errorMessage)")
                }
                return
            case 429 where attempt < 4, 503 where attempt < 4:
                let wait = http.value(forHTTPHeaderField: "Retry-After").flatMap(Double.init) ?? 1
                try await Task.sleep(nanoseconds: UInt64(min(max(wait, 0.05), 5) * 1_000_000_000))
            default:
                let status = try? Google_Rpc_Status(serializedBytes: Array(data))
                throw ExportError(message: "HTTP \(http.statusCode)" + (status.map { ": \($0.message)" } ?? ""))
            }
        }
    }

    /// Why an export failed.
    public struct ExportError: Error, CustomStringConvertible {
        /// What happened.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    private func send(_ batch: [Span]) async {
        do {
            try await export(batch)
            state.withLock { $0.exported += batch.count }
        } catch {
            state.withLock { $0.dropped += batch.count; $0.lastError = "OTLP export to \(endpoint.absoluteString) failed: \(error)" }
        }
    }
}

/// Runs async closures one at a time, in call order.
private actor SendQueue {
    private var tail: Task<Void, Never>?

    func run(_ body: @escaping @Sendable () async -> Void) async {
        let previous = tail
        let task = Task {
            await previous?.value
            await body()
        }
        tail = task
        await task.value
    }
}
