import EventModel
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Limits and housekeeping of an ``OTLPReceiver``.
public struct OTLPReceiverLimits: Sendable {
    /// Largest request body accepted, before and after gzip inflation (bytes).
    public var maxBodyBytes: Int
    /// Spans accepted but not yet stored, across all requests; beyond it requests get 503 + Retry-After.
    public var maxPendingSpans: Int
    /// The Retry-After value sent with 503 (seconds).
    public var retryAfterSeconds: Int
    /// Spans older than this (by start time) are pruned; nil keeps them regardless of age.
    public var retentionAge: TimeInterval?
    /// At most this many spans are kept; nil for no size bound.
    public var retentionMaxSpans: Int?
    /// How often retention runs (seconds).
    public var retentionInterval: TimeInterval
    /// Connections served at once; one more is closed as soon as it is accepted (file descriptors
    /// and memory stay bounded whatever a client does; SDK exporters use one or a few). At least 1.
    public var maxConnections: Int
    /// A connection that sends nothing for this long is closed, so idle or stuck clients cannot hold
    /// every slot (exporters reconnect for their next batch).
    public var idleTimeout: TimeAmount

    /// Creates limits; the defaults suit a developer machine.
    public init(maxBodyBytes: Int = 16 << 20, maxPendingSpans: Int = 100_000, retryAfterSeconds: Int = 1,
                retentionAge: TimeInterval? = 24 * 3600, retentionMaxSpans: Int? = 2_000_000,
                retentionInterval: TimeInterval = 60, maxConnections: Int = 256, idleTimeout: TimeAmount = .seconds(60)) {
        self.maxConnections = max(1, maxConnections)
        self.idleTimeout = idleTimeout
        self.maxBodyBytes = maxBodyBytes
        self.maxPendingSpans = maxPendingSpans
        self.retryAfterSeconds = retryAfterSeconds
        self.retentionAge = retentionAge
        self.retentionMaxSpans = retentionMaxSpans
        self.retentionInterval = retentionInterval
    }
}

/// Counters of a running receiver.
public struct OTLPReceiverStats: Sendable, Equatable {
    /// Export requests answered (any status).
    public var requests = 0
    /// Spans stored.
    public var spansStored = 0
    /// Spans refused as invalid (partial success).
    public var spansRejected = 0
    /// Requests refused with 503 because the store fell behind.
    public var throttled = 0
    /// Connections open right now.
    public var openConnections = 0
    /// Connections closed at once because ``OTLPReceiverLimits/maxConnections`` were open.
    public var refusedConnections = 0
    /// Spans accepted and waiting for the store right now.
    public var pendingSpans = 0
    /// The last failure worth telling an operator, if any.
    public var lastError: String?

    /// All zero.
    public init() {}
}

/// An OTLP/HTTP trace receiver (POST /v1/traces, protobuf or JSON, optionally gzip) writing into a ``TraceStore``.
///
/// Requests are answered after their spans are stored, so a 200 means the spans are in the store. Spans
/// waiting for the store are bounded by ``OTLPReceiverLimits/maxPendingSpans``: beyond it the receiver
/// answers 503 with Retry-After, as the OTLP specification asks of a server that falls behind.
public final class OTLPReceiver: Sendable {
    /// The path OTLP/HTTP exporters post traces to.
    public static let tracesPath = "/v1/traces"
    /// The port OTLP/HTTP uses by default.
    public static let defaultPort = 4318

    /// Host to bind.
    public let host: String
    /// Port asked for (0: any free port; ``start()`` returns the bound one).
    public let port: Int
    /// Where spans go.
    public let store: any SpanStore
    /// Limits.
    public let limits: OTLPReceiverLimits
    private let log: @Sendable (String) -> Void

    private struct State {
        var boundPort: Int?
        var group: MultiThreadedEventLoopGroup?
        var serverChannel: Channel?
        var serverTask: Task<Void, Never>?
        var retentionTask: Task<Void, Never>?
        var stats = OTLPReceiverStats()
        /// Whether the last connection was refused (the cap reached): logged once per episode.
        var saturated = false
    }
    private let state = Mutex(State())
    private let writer: IngestWriter

    /// Creates a receiver; nothing listens until ``start()``. `log` receives operator-facing messages.
    public init(host: String = "127.0.0.1", port: Int = OTLPReceiver.defaultPort, store: any SpanStore,
                limits: OTLPReceiverLimits = OTLPReceiverLimits(), log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.store = store
        self.limits = limits
        self.log = log
        self.writer = IngestWriter(store: store)
    }

    /// Why ``start()`` could not listen, in a few words (e.g. "address already in use").
    public struct ListenError: Error, CustomStringConvertible {
        /// The reason.
        public var description: String
    }

    /// The port listened on while running.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Counters so far.
    public var stats: OTLPReceiverStats { state.withLock { $0.stats } }

    /// Binds and starts serving; returns the bound port. Throws when the address cannot be bound (e.g. in use).
    @discardableResult
    public func start() async throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // Export bodies are large (a 512-span batch is ~150 KB): read them in big chunks.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                    minimum: 4 * 1024, initial: 64 * 1024, maximum: 1024 * 1024))
                .bind(host: host, port: port) { [limits] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: limits.idleTimeout), CloseWhenIdle(),
                        ])
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(backPressureStrategy: .init(lowWatermark: 16, highWatermark: 64)))
                    }
                }
        } catch {
            try? await group.shutdownGracefully()
            if let io = error as? IOError {
                throw ListenError(description: String(cString: strerror(io.errnoCode)).lowercased())
            }
            throw ListenError(description: "\(error)")
        }
        let bound = server.channel.localAddress?.port ?? port
        let serverTask = Task {
            await withDiscardingTaskGroup { connections in
                do {
                    try await server.executeThenClose { inbound in
                        for try await connection in inbound {
                            let cap = max(1, self.limits.maxConnections)
                            let (admitted, saturatedNow) = self.state.withLock { s -> (Bool, Bool) in
                                guard s.stats.openConnections < cap else {
                                    s.stats.refusedConnections += 1
                                    defer { s.saturated = true }
                                    return (false, !s.saturated)
                                }
                                s.stats.openConnections += 1
                                s.saturated = false
                                return (true, false)
                            }
                            guard admitted else {
                                if saturatedNow {
                                    self.log("OTLP receiver: \(cap) connections open, closing new ones until some end")
                                }
                                // Closed through the async wrapper (its writer must be finished), reading nothing.
                                connections.addTask { try? await connection.executeThenClose { _, _ in } }
                                continue
                            }
                            connections.addTask {
                                await self.serve(connection)
                                self.state.withLock { $0.stats.openConnections -= 1 }
                            }
                        }
                    }
                } catch {
                    if !Task.isCancelled { self.log("OTLP receiver stopped accepting: \(error)") }
                }
                connections.cancelAll()
            }
        }
        let retentionTask = startRetention()
        state.withLock {
            $0.boundPort = bound
            $0.group = group
            $0.serverChannel = server.channel
            $0.serverTask = serverTask
            $0.retentionTask = retentionTask
        }
        return bound
    }

    /// Stops listening, ends open connections and waits until the server has wound down.
    public func stop() async {
        let (group, channel, serverTask, retentionTask) = state.withLock { s in
            defer { s.boundPort = nil; s.group = nil; s.serverChannel = nil; s.serverTask = nil; s.retentionTask = nil }
            return (s.group, s.serverChannel, s.serverTask, s.retentionTask)
        }
        retentionTask?.cancel()
        try? await channel?.close()
        serverTask?.cancel()
        await serverTask?.value
        await retentionTask?.value
        try? await group?.shutdownGracefully()
    }

    // MARK: - Retention

    private func startRetention() -> Task<Void, Never>? {
        let retention = store
        guard limits.retentionAge != nil || limits.retentionMaxSpans != nil else { return nil }
        let limits = self.limits
        return Task {
            while !Task.isCancelled {
                let cutoff: UInt64
                if let age = limits.retentionAge {
                    let seconds = max(0, Date().timeIntervalSince1970 - age)
                    cutoff = UInt64(seconds * 1_000_000_000)
                } else {
                    cutoff = 0
                }
                do {
                    try await retention.pruneSpans(olderThanUnixNano: cutoff, maxSpans: limits.retentionMaxSpans ?? Int.max)
                } catch {
                    self.log("span retention failed: \(error)")
                }
                try? await Task.sleep(nanoseconds: UInt64(max(0.05, limits.retentionInterval) * 1_000_000_000))
            }
        }
    }

    // MARK: - HTTP

    /// One HTTP response.
    struct Reply {
        var status: HTTPResponseStatus
        var contentType: String
        var body: [UInt8]
        var headers: [(String, String)] = []
        var close = false
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body = ByteBuffer()
                var refusal: Reply?
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body.clear()
                        refusal = precheck(h)
                        if let r = refusal, r.close {
                            try await write(r, version: h.version, keepAlive: false, to: outbound)
                            return
                        }
                        // curl (and URLSession on Linux) wait a second for this before sending a large body.
                        if refusal == nil, h.headers.first(name: "Expect")?.lowercased() == "100-continue" {
                            try await outbound.write(.head(HTTPResponseHead(version: h.version, status: .continue)))
                        }
                    case .body(var chunk):
                        guard refusal == nil else { continue }
                        if body.readableBytes + chunk.readableBytes > limits.maxBodyBytes {
                            let r = tooLarge(head.flatMap { encoding(of: $0) } ?? .json)
                            try await write(r, version: head?.version ?? .http1_1, keepAlive: false, to: outbound)
                            return
                        }
                        body.writeBuffer(&chunk)
                    case .end:
                        guard let h = head else { continue }
                        head = nil
                        let reply: Reply
                        if let refusal {
                            reply = refusal
                        } else {
                            reply = await handle(h, body: body.readBytes(length: body.readableBytes) ?? [])
                        }
                        body.clear()
                        state.withLock { $0.stats.requests += 1 }
                        let keepAlive = h.isKeepAlive && !reply.close
                        try await write(reply, version: h.version, keepAlive: keepAlive, to: outbound)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            // A client that goes away mid-request is not the receiver's problem.
        }
    }

    private func write(_ reply: Reply, version: HTTPVersion, keepAlive: Bool,
                       to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.count))
        for (name, value) in reply.headers { headers.add(name: name, value: value) }
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        try await outbound.write(contentsOf: [
            .head(HTTPResponseHead(version: version, status: reply.status, headers: headers)),
            .body(.byteBuffer(ByteBuffer(bytes: reply.body))),
            .end(nil),
        ])
    }

    private func encoding(of head: HTTPRequestHead) -> OTLPEncoding? {
        head.headers.first(name: "Content-Type").flatMap(OTLPEncoding.init(contentType:))
    }

    private func tooLarge(_ encoding: OTLPEncoding) -> Reply {
        errorReply(.payloadTooLarge, code: 8, "request body exceeds \(limits.maxBodyBytes) bytes", encoding: encoding,
                   close: true)
    }

    /// google.rpc code numbers: 3 INVALID_ARGUMENT, 5 NOT_FOUND, 8 RESOURCE_EXHAUSTED, 12 UNIMPLEMENTED,
    /// 13 INTERNAL, 14 UNAVAILABLE.
    private func errorReply(_ status: HTTPResponseStatus, code: Int32, _ message: String, encoding: OTLPEncoding,
                            headers: [(String, String)] = [], close: Bool = false) -> Reply {
        Reply(status: status, contentType: encoding.contentType,
              body: OTLPConversion.status(code: code, message: message, encoding: encoding), headers: headers, close: close)
    }

    /// What can be refused from the head alone: path, method, content type and encoding, declared length.
    private func precheck(_ head: HTTPRequestHead) -> Reply? {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard path == Self.tracesPath else {
            return errorReply(.notFound, code: 5, "no such path; OTLP traces go to POST \(Self.tracesPath)", encoding: .json)
        }
        guard head.method == .POST else {
            return errorReply(.methodNotAllowed, code: 12, "only POST is allowed on \(Self.tracesPath)", encoding: .json,
                              headers: [("Allow", "POST")])
        }
        guard let encoding = encoding(of: head) else {
            return errorReply(.unsupportedMediaType, code: 3,
                              "Content-Type must be application/x-protobuf or application/json", encoding: .json)
        }
        let contentEncoding = head.headers.first(name: "Content-Encoding")?.lowercased().trimmingCharacters(in: .whitespaces) ?? ""
        guard ["", "identity", "gzip"].contains(contentEncoding) else {
            return errorReply(.unsupportedMediaType, code: 3, "Content-Encoding must be gzip or none", encoding: encoding)
        }
        if let declared = head.headers.first(name: "Content-Length").flatMap(Int.init), declared > limits.maxBodyBytes {
            return tooLarge(encoding)
        }
        return nil
    }

    /// Decodes, stores and answers one complete request that passed ``precheck(_:)``.
    private func handle(_ head: HTTPRequestHead, body: [UInt8]) async -> Reply {
        let encoding = encoding(of: head) ?? .json
        var payload = body
        if head.headers.first(name: "Content-Encoding")?.lowercased().trimmingCharacters(in: .whitespaces) == "gzip" {
            do {
                payload = try Gzip.decompress(body, limit: limits.maxBodyBytes)
            } catch .tooLarge {
                return tooLarge(encoding)
            } catch {
                return errorReply(.badRequest, code: 3, "bad gzip body: \(error)", encoding: encoding)
            }
        }
        let batch: OTLPDecodedBatch
        do {
            batch = try OTLPConversion.decodeRequest(payload, encoding: encoding)
        } catch {
            return errorReply(.badRequest, code: 3, "\(error)", encoding: encoding)
        }
        let count = batch.spans.count
        if count > 0 {
            let admitted = state.withLock { s -> Bool in
                // One request larger than the whole queue still goes through when nothing else waits.
                guard s.stats.pendingSpans == 0 || s.stats.pendingSpans + count <= limits.maxPendingSpans else {
                    s.stats.throttled += 1
                    return false
                }
                s.stats.pendingSpans += count
                return true
            }
            guard admitted else {
                return errorReply(.serviceUnavailable, code: 14, "the span store is behind; retry later", encoding: encoding,
                                  headers: [("Retry-After", String(limits.retryAfterSeconds))])
            }
            do {
                try await writer.insert(batch.spans)
                state.withLock { $0.stats.pendingSpans -= count; $0.stats.spansStored += count }
            } catch {
                let message = "the span store failed: \(error)"
                state.withLock { $0.stats.pendingSpans -= count; $0.stats.lastError = message }
                log(message)
                if case BrokerError.unavailable = error {
                    return errorReply(.serviceUnavailable, code: 14, message, encoding: encoding,
                                      headers: [("Retry-After", String(limits.retryAfterSeconds))])
                }
                return errorReply(.internalServerError, code: 13, message, encoding: encoding)
            }
        }
        if batch.rejected > 0 {
            state.withLock { $0.stats.spansRejected += batch.rejected }
        }
        return Reply(status: .ok, contentType: encoding.contentType,
                     body: OTLPConversion.response(rejected: batch.rejected, message: batch.rejectionMessage, encoding: encoding))
    }
}

/// The one writer between requests and the store: spans of requests that arrive while a transaction is
/// running are stored together in the next one (group commit), and each request is answered once its
/// spans are committed.
actor IngestWriter {
    private let store: any TraceStore
    private var waiting: [(spans: [Span], done: CheckedContinuation<Void, any Error>)] = []
    private var draining = false

    init(store: any TraceStore) {
        self.store = store
    }

    /// Stores `spans` (with whatever else is waiting) and returns when they are committed.
    func insert(_ spans: [Span]) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            waiting.append((spans, done))
            if !draining {
                draining = true
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while !waiting.isEmpty {
            let jobs = waiting
            waiting.removeAll()
            do {
                try await store.insertSpans(jobs.flatMap(\.spans))
                for job in jobs { job.done.resume() }
            } catch {
                for job in jobs { job.done.resume(throwing: error) }
            }
        }
        draining = false
    }
}

/// Closes a connection when `IdleStateHandler` says it has been idle.
private final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
