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
    /// A connection that sends nothing for this long between requests is closed, so idle clients cannot
    /// hold every slot (exporters reconnect for their next batch).
    public var idleTimeout: TimeAmount
    /// Connections one client address may hold at once (capped by ``maxConnections``): one machine cannot
    /// take every slot, so other clients are still served. More from that address get 503 + Retry-After.
    public var maxConnectionsPerAddress: Int
    /// A request's line and headers must all arrive within this time of its first byte (a client sending a
    /// byte a second, which resets ``idleTimeout`` each time, is cut here).
    public var headerTimeout: TimeAmount
    /// After ``bodyGrace`` from the end of the headers, the body must have arrived at ``minBodyBytesPerSecond``
    /// on average, or the connection is closed.
    public var bodyGrace: TimeAmount
    /// The slowest body accepted once ``bodyGrace`` has passed (bytes per second, averaged over the body).
    public var minBodyBytesPerSecond: Int
    /// Request bytes held in memory across all connections (bodies as declared or received, and gzip bodies
    /// once inflated). A request that would go beyond it gets 503 + Retry-After instead of being buffered.
    public var maxBufferedBytes: Int
    /// Spans a request may be answered for before they are committed: queued for the writer, which stores
    /// them with the spans of the requests that follow in one transaction. Beyond it (and while the store is
    /// failing) a request is answered once its own spans are committed. 0 answers every request after its
    /// commit. These are what a crash of evtop can lose after a 200; ``OTLPReceiver/stop()`` writes them first.
    public var writeBehindSpans: Int

    /// Creates limits; the defaults suit a developer machine.
    public init(maxBodyBytes: Int = 16 << 20, maxPendingSpans: Int = 100_000, retryAfterSeconds: Int = 1,
                retentionAge: TimeInterval? = 24 * 3600, retentionMaxSpans: Int? = 2_000_000,
                retentionInterval: TimeInterval = 10, maxConnections: Int = 256, idleTimeout: TimeAmount = .seconds(60),
                maxConnectionsPerAddress: Int = 64, headerTimeout: TimeAmount = .seconds(10),
                bodyGrace: TimeAmount = .seconds(10), minBodyBytesPerSecond: Int = 64 * 1024,
                maxBufferedBytes: Int = 64 << 20, writeBehindSpans: Int = 20_000) {
        self.maxConnections = max(1, maxConnections)
        self.idleTimeout = idleTimeout
        self.maxConnectionsPerAddress = max(1, maxConnectionsPerAddress)
        self.headerTimeout = headerTimeout
        self.bodyGrace = bodyGrace
        self.minBodyBytesPerSecond = max(0, minBodyBytesPerSecond)
        self.maxBufferedBytes = max(1, maxBufferedBytes)
        self.writeBehindSpans = max(0, writeBehindSpans)
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
    /// Connections refused (503 + Retry-After, then closed) because ``OTLPReceiverLimits/maxConnections``
    /// were open, or their address held its ``OTLPReceiverLimits/maxConnectionsPerAddress``.
    public var refusedConnections = 0
    /// Connections closed because a request's headers or body came too slowly.
    public var timedOut = 0
    /// Request bytes held in memory right now (see ``OTLPReceiverLimits/maxBufferedBytes``).
    public var bufferedBytes = 0
    /// Requests refused with 503 because ``OTLPReceiverLimits/maxBufferedBytes`` were held.
    public var bufferRefusals = 0
    /// Spans accepted and waiting for the store right now (queued, or in the transaction being written).
    public var pendingSpans = 0
    /// Spans answered 200 before their commit whose commit then failed (the store broke): lost, and said so.
    public var spansLost = 0
    /// The last failure worth telling an operator, if any.
    public var lastError: String?

    /// All zero.
    public init() {}
}

/// An OTLP/HTTP trace receiver (POST /v1/traces, protobuf or JSON, optionally gzip) writing into a ``TraceStore``.
///
/// A request is answered once its spans are queued for the store's one writer, up to
/// ``OTLPReceiverLimits/writeBehindSpans`` ahead of it (so one client's next request decodes while the last
/// one commits, and many requests share a transaction); beyond that, or while the store is failing, once
/// they are committed. Spans waiting for the store are bounded by ``OTLPReceiverLimits/maxPendingSpans``: beyond it the receiver
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
        /// Connections open per client address.
        var perAddress: [String: Int] = [:]
        /// Refused connections still being answered (each holds a descriptor for up to 2 s).
        var answering = 0
        /// When a refused connection was last logged (at most one line per 10 s).
        var lastRefusalLog: ContinuousClock.Instant?
        /// Most bytes buffered since memory was last given back to the system.
        var bufferedPeak = 0
        /// Body bytes read and dropped (refused requests) since memory was last given back.
        var drainedSinceTrim = 0
        /// Whether a ``OTLPReceiver/trimSoon()`` is waiting to run.
        var trimScheduled = false
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
        self.writer = IngestWriter(store: store, writeBehindSpans: limits.writeBehindSpans, log: log)
    }

    /// Why ``start()`` could not listen, in a few words (e.g. "address already in use").
    public struct ListenError: Error, CustomStringConvertible {
        /// The reason.
        public var description: String
    }

    /// The port listened on while running.
    public var boundPort: Int? { state.withLock { $0.boundPort } }

    /// Counters so far.
    public var stats: OTLPReceiverStats {
        var stats = state.withLock { $0.stats }
        let spans = writer.counters
        stats.pendingSpans = spans.pending
        stats.spansStored = spans.stored
        stats.spansLost = spans.lost
        stats.lastError = spans.lastError
        return stats
    }

    /// Binds and starts serving; returns the bound port. Throws when the address cannot be bound (e.g. in use).
    @discardableResult
    public func start() async throws -> Int {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server: NIOAsyncChannel<Accepted, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                // Export bodies are large (a 512-span batch is ~150 KB): read them in big chunks, but not so big
                // that what a connection has read ahead (at most 8 reads, see below) weighs much.
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(
                    minimum: 4 * 1024, initial: 64 * 1024, maximum: 256 * 1024))
                .bind(host: host, port: port) { [limits] channel in
                    channel.eventLoop.makeCompletedFuture { () throws -> Accepted in
                        // Admitted or not is decided here, on the connection's event loop, before anything is read.
                        let address = channel.remoteAddress?.ipAddress ?? "unknown"
                        switch self.admit(address) {
                        case .answer(let response):
                            try channel.pipeline.syncOperations.addHandler(RefuseConnection(response: response) {
                                self.state.withLock { $0.answering -= 1 }
                            })
                            return .refused
                        case .drop:
                            channel.close(promise: nil)
                            return .refused
                        case .admit:
                            break
                        }
                        let clock = RequestClock(limits: limits)
                        try channel.pipeline.syncOperations.addHandlers([
                            IdleStateHandler(readTimeout: limits.idleTimeout), CloseWhenIdle(),
                            RequestDeadline(clock: clock) { self.state.withLock { $0.stats.timedOut += 1 } },
                        ])
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                        try channel.pipeline.syncOperations.addHandler(RequestProgress(clock: clock))
                        return .serve(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 8))),
                            address: address)
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
                        for try await accepted in inbound {
                            // Refused connections answer and close themselves (``RefuseConnection``).
                            guard case .serve(let connection, let address) = accepted else { continue }
                            connections.addTask {
                                await self.serve(connection)
                                self.state.withLock { s in
                                    s.stats.openConnections -= 1
                                    let left = s.perAddress[address, default: 1] - 1
                                    s.perAddress[address] = left > 0 ? left : nil
                                }
                                self.trimSoon()
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
        // Spans already answered 200 are written before the receiver says it has stopped.
        await writer.flush()
        try? await group?.shutdownGracefully()
    }

    /// Returns once every span accepted so far is committed (or failed, and counted in
    /// ``OTLPReceiverStats/spansLost``).
    public func flush() async {
        await writer.flush()
    }

    // MARK: - Admission and the buffer budget

    /// What the event loop does with a connection just accepted.
    enum Accepted: Sendable {
        /// Served by ``serve(_:)``; `address` holds one of its address's slots until it ends.
        case serve(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, address: String)
        /// Answered 503 and closed, or closed at once, on the event loop.
        case refused
    }

    private enum Admission {
        case admit
        /// Refused: this HTTP response is written before closing.
        case answer([UInt8])
        /// Refused while too many refusals are being answered already: closed at once.
        case drop
    }

    /// Takes a slot for a connection from `address`, or says how to refuse it.
    private func admit(_ address: String) -> Admission {
        let cap = max(1, limits.maxConnections)
        let share = min(cap, max(1, limits.maxConnectionsPerAddress))
        let (admission, reason, logIt) = state.withLock { s -> (Int, String, Bool) in
            let mine = s.perAddress[address, default: 0]
            if s.stats.openConnections < cap && mine < share {
                s.stats.openConnections += 1
                s.perAddress[address] = mine + 1
                return (0, "", false)
            }
            s.stats.refusedConnections += 1
            let reason = s.stats.openConnections >= cap
                ? "all \(cap) connections of the receiver are in use"
                : "\(address) has \(share) connections open, its share of the receiver's \(cap)"
            let now = ContinuousClock.now
            let logIt = s.lastRefusalLog.map { now - $0 > .seconds(10) } ?? true
            if logIt { s.lastRefusalLog = now }
            // An answer holds a descriptor for up to 2 s: beyond as many answers in flight as slots, just close.
            guard s.answering < cap else { return (2, reason, logIt) }
            s.answering += 1
            return (1, reason, logIt)
        }
        if logIt { log("OTLP receiver: \(reason); answering 503 to new connections until some end") }
        switch admission {
        case 0: return .admit
        case 1: return .answer(Self.rawUnavailable("\(reason); retry later", retryAfter: limits.retryAfterSeconds))
        default: return .drop
        }
    }

    /// A complete 503 response (OTLP/JSON status body) for a connection whose request was never read.
    static func rawUnavailable(_ message: String, retryAfter: Int) -> [UInt8] {
        let body = OTLPConversion.status(code: 14, message: message, encoding: .json)
        let head = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            + "Retry-After: \(retryAfter)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// Takes `bytes` from the buffer budget; false when that would exceed it (one request still goes through
    /// when nothing else is buffered, so a budget below the body limit cannot refuse everything).
    private func reserve(_ bytes: Int) -> Bool {
        state.withLock { s in
            guard s.stats.bufferedBytes == 0 || s.stats.bufferedBytes + bytes <= limits.maxBufferedBytes else {
                s.stats.bufferRefusals += 1
                return false
            }
            s.stats.bufferedBytes += bytes
            s.bufferedPeak = max(s.bufferedPeak, s.stats.bufferedBytes)
            return true
        }
    }

    /// Returns `bytes` to the budget. When nothing is buffered any more after a burst of at least
    /// ``trimAfterBytes``, the freed heap is given back to the system (glibc keeps it otherwise).
    private func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        state.withLock { $0.stats.bufferedBytes -= bytes }
        trimSoon()
    }

    /// After a burst (``trimAfterBytes`` buffered at once, or 4 times as much read and dropped), gives freed
    /// heap back to the system a second after nothing is buffered any more: by then the connections of the
    /// burst have usually closed too, and glibc would otherwise keep their memory (measured: 169 MB kept
    /// after 40 connections holding 15 MB each closed, 110 MB after a trim).
    private func trimSoon() {
        let start = state.withLock { s -> Bool in
            guard !s.trimScheduled, s.stats.bufferedBytes == 0,
                  s.bufferedPeak >= Self.trimAfterBytes || s.drainedSinceTrim >= 4 * Self.trimAfterBytes else { return false }
            s.trimScheduled = true
            return true
        }
        guard start else { return }
        Task {
            try? await Task.sleep(for: .seconds(1))
            let now = self.state.withLock { s -> Bool in
                s.trimScheduled = false
                guard s.stats.bufferedBytes == 0 else { return false }
                s.bufferedPeak = 0
                s.drainedSinceTrim = 0
                return true
            }
            if now { HeapTrim.giveBack() } else { self.trimSoon() }
        }
    }

    /// The smallest burst after which freed memory is handed back to the system.
    static let trimAfterBytes = 4 << 20

    private func bufferFull(_ encoding: OTLPEncoding) -> Reply {
        errorReply(.serviceUnavailable, code: 14,
                   "the receiver's request buffer is full (\(limits.maxBufferedBytes) bytes held across connections); retry later",
                   encoding: encoding, headers: [("Retry-After", String(limits.retryAfterSeconds))])
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
                    let deleted = try await retention.pruneSpans(olderThanUnixNano: cutoff, maxSpans: limits.retentionMaxSpans ?? Int.max)
                    // Deleting at the cap walks random pages of the span indexes: SQLite's page cache grows through
                    // the pass and frees pages at each commit, and glibc keeps what it frees. A soak at 1,000
                    // orders/s saw the dashboard at 610 MB resident once at its cap, 495 MB of it free heap
                    // (malloc_info). Given back after each pass that deleted something.
                    if deleted > 0 { HeapTrim.giveBack() }
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
        // Budget bytes this connection's current request holds; given back however the connection ends.
        var reserved = 0
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var refusal: Reply?
                for try await part in inbound {
                    switch part {
                    case .head(let h):
                        head = h
                        body = []
                        refusal = precheck(h)
                        let expectsContinue = h.headers.first(name: "Expect")?.lowercased() == "100-continue"
                        if refusal == nil, let declared = h.headers.first(name: "Content-Length").flatMap(Int.init), declared > 0 {
                            // The declared body is reserved before any of it is read: a client that announces
                            // 16 MiB and sends it slowly holds its share of the budget from the start.
                            if reserve(declared) {
                                reserved += declared
                                body.reserveCapacity(declared)
                            } else {
                                let r = bufferFull(encoding(of: h) ?? .json)
                                // A client waiting for 100 Continue has sent no body: answer now.
                                if expectsContinue {
                                    try await write(r, version: h.version, keepAlive: false, to: outbound)
                                    return
                                }
                                refusal = r
                            }
                        }
                        if let r = refusal, r.close {
                            try await write(r, version: h.version, keepAlive: false, to: outbound)
                            return
                        }
                        // curl (and URLSession on Linux) wait a second for this before sending a large body.
                        if refusal == nil, expectsContinue {
                            try await outbound.write(.head(HTTPResponseHead(version: h.version, status: .continue)))
                        }
                    case .body(let chunk):
                        // A refused body is read and dropped (the answer comes at its end), never kept.
                        guard refusal == nil else {
                            let dropped = chunk.readableBytes
                            state.withLock { $0.drainedSinceTrim += dropped }
                            continue
                        }
                        let total = body.count + chunk.readableBytes
                        if total > limits.maxBodyBytes {
                            let r = tooLarge(head.flatMap { encoding(of: $0) } ?? .json)
                            try await write(r, version: head?.version ?? .http1_1, keepAlive: false, to: outbound)
                            return
                        }
                        // A body without Content-Length (chunked) is reserved as it arrives.
                        if total > reserved {
                            guard reserve(total - reserved) else {
                                refusal = bufferFull(head.flatMap { encoding(of: $0) } ?? .json)
                                body = []
                                release(reserved)
                                reserved = 0
                                continue
                            }
                            reserved = total
                        }
                        chunk.withUnsafeReadableBytes { body.append(contentsOf: $0) }
                    case .end:
                        guard let h = head else { continue }
                        head = nil
                        let reply: Reply
                        if let refusal {
                            reply = refusal
                        } else {
                            reply = await handle(h, body: body)
                        }
                        body = []
                        release(reserved)
                        reserved = 0
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
        release(reserved)
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
        // The inflated body counts against the buffer budget too, until the request is answered.
        var inflated = 0
        defer { release(inflated) }
        if head.headers.first(name: "Content-Encoding")?.lowercased().trimmingCharacters(in: .whitespaces) == "gzip" {
            do {
                payload = try Gzip.decompress(body, limit: limits.maxBodyBytes)
            } catch .tooLarge {
                return tooLarge(encoding)
            } catch {
                return errorReply(.badRequest, code: 3, "bad gzip body: \(error)", encoding: encoding)
            }
            guard reserve(payload.count) else { return bufferFull(encoding) }
            inflated = payload.count
        }
        // Protobuf is walked a span at a time: once to validate it (nothing is stored from a body a whole
        // decode would refuse) and count its spans, then again to convert and store it in pieces of
        // `decodeChunk`, so a request of 60,000 spans never has them all decoded at once. JSON is decoded
        // whole (swift-protobuf has no way to decode a JSON array piecewise); what that takes is reserved
        // from the buffer budget until the request is answered, so many large JSON requests at once get 503.
        let count: Int
        var decoded: OTLPDecodedBatch?
        var decodeReserve = 0
        defer { release(decodeReserve) }
        do {
            switch encoding {
            case .protobuf:
                count = try OTLPConversion.validateProtobuf(payload)
                // One piece decoded at a time: at most `decodeChunkBytes` of the body.
                let estimate = min(payload.count, Self.decodeChunkBytes) * Self.protobufDecodeFactor
                guard reserve(estimate) else { return bufferFull(encoding) }
                decodeReserve = estimate
            case .json:
                let estimate = payload.count.multipliedReportingOverflow(by: Self.jsonDecodeFactor).partialValue
                guard reserve(estimate) else { return bufferFull(encoding) }
                decodeReserve = estimate
                let batch = try OTLPConversion.decodeRequest(payload, encoding: .json)
                decoded = batch
                count = batch.spans.count
            }
        } catch {
            return errorReply(.badRequest, code: 3, "\(error)", encoding: encoding)
        }
        var rejected = decoded?.rejected ?? 0
        var rejectionMessage = decoded?.rejectionMessage ?? ""
        if count > 0 {
            // One request larger than the whole queue still goes through when nothing else waits.
            guard writer.admit(count, limit: limits.maxPendingSpans) else {
                state.withLock { $0.stats.throttled += 1 }
                return errorReply(.serviceUnavailable, code: 14, "the span store is behind; retry later", encoding: encoding,
                                  headers: [("Retry-After", String(limits.retryAfterSeconds))])
            }
            // The admitted count stays pending until the writer reports each piece handed to it (committed or
            // failed); what is never handed (rejected spans, a failure part way) is released here.
            var unhanded = count
            defer { writer.release(unhanded) }
            do {
                if let decoded {
                    unhanded = 0
                    try await writer.insert(decoded.spans, accounted: count)
                } else {
                    let writer = self.writer
                    (rejected, rejectionMessage) = try await OTLPConversion.decodeProtobuf(
                        payload, chunk: Self.decodeChunk, chunkBytes: Self.decodeChunkBytes) { spans in
                        let share = min(unhanded, spans.count)
                        unhanded -= share
                        try await writer.insert(spans, accounted: share)
                    }
                }
            } catch {
                let message = "the span store failed: \(error)"
                writer.note(message)
                log(message)
                if error is OTLPConversion.MalformedBody {
                    return errorReply(.badRequest, code: 3, "\(error)", encoding: encoding)
                }
                if case BrokerError.unavailable = error {
                    return errorReply(.serviceUnavailable, code: 14, message, encoding: encoding,
                                      headers: [("Retry-After", String(limits.retryAfterSeconds))])
                }
                return errorReply(.internalServerError, code: 13, message, encoding: encoding)
            }
        }
        if rejected > 0 {
            state.withLock { $0.stats.spansRejected += rejected }
        }
        return Reply(status: .ok, contentType: encoding.contentType,
                     body: OTLPConversion.response(rejected: rejected, message: rejectionMessage, encoding: encoding))
    }

    /// Spans of a protobuf request converted and stored at a time (each piece one write, grouped with
    /// other requests' by the writer): what bounds a request's decoded spans in memory.
    static let decodeChunk = 2_000

    /// Encoded bytes of the spans of one piece at most (a piece of large spans ends before `decodeChunk`).
    static let decodeChunkBytes = 256 << 10

    /// Bytes of memory a protobuf piece takes decoded and converted, per encoded byte, reserved from the
    /// buffer budget while the request decodes (measured: 60,000 spans of ~110 bytes, 6.6 MB, took ~100 MB
    /// decoded whole, ~15 times their size): at most 4 MiB for a request, so the 64 MiB budget bounds
    /// how many decode at once.
    static let protobufDecodeFactor = 16

    /// The same for a JSON body, decoded whole (measured: a 13.3 MB body of 45,000 spans took ~45 MB more
    /// than its body and the store's cache, ~3.5 times its size). 3, so that a lone 16 MiB body still fits
    /// the default 64 MiB budget beside its own bytes; several large JSON requests at once get 503.
    static let jsonDecodeFactor = 3
}

/// What the span writer has done so far, readable at any time (``OTLPReceiver/stats`` shows it).
struct IngestCounters: Sendable {
    /// Spans admitted and not yet reported committed or failed.
    var pending = 0
    /// Spans committed.
    var stored = 0
    /// Spans answered 200 before their commit whose commit failed.
    var lost = 0
    /// The last failure worth telling an operator.
    var lastError: String?
}

/// The one writer between requests and the store: spans of requests that arrive while a transaction is
/// running are stored together in the next one (group commit, up to ``maxBatchSpans`` a transaction).
///
/// A request's spans are acknowledged as soon as they are queued while the spans queued that way and not
/// yet committed stay within `writeBehindSpans`: the client sends its next request while this one commits,
/// and one transaction takes many requests, which is what keeps a single exporter's connection at broker
/// speed (each transaction rewrites the index pages its spans touch, so fewer, larger ones write far less).
/// Beyond the window, and after a failed commit until one succeeds, a request waits for its own commit and
/// hears of its failure. What waits here is bounded by the receiver's ``OTLPReceiverLimits/maxPendingSpans``
/// (requests beyond it get 503 before they are queued).
actor IngestWriter {
    /// Spans one transaction takes at most (whole requests: a larger request still goes alone). Large
    /// transactions amortise the commit and the index pages each one rewrites; this bound keeps one
    /// transaction's memory and the write lock's hold time small.
    static let maxBatchSpans = 20_000

    private struct Job {
        var spans: [Span]
        /// Admitted spans this job settles (see ``IngestWriter/admit(_:limit:)``).
        var accounted: Int
        /// Nil: acknowledged already (write-behind); else resumed once committed or failed.
        var done: CheckedContinuation<Void, any Error>?
    }

    private let store: any TraceStore
    private let writeBehindSpans: Int
    private let log: @Sendable (String) -> Void
    private var waiting: [Job] = []
    private var draining = false
    /// Spans acknowledged and not yet committed (queued or in the running transaction).
    private var acknowledged = 0
    /// The last commit failed: requests wait for their own commit until one succeeds.
    private var failing = false
    private var idle: [CheckedContinuation<Void, Never>] = []
    private let counts = Mutex(IngestCounters())

    init(store: any TraceStore, writeBehindSpans: Int, log: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.writeBehindSpans = writeBehindSpans
        self.log = log
    }

    /// The counters now.
    nonisolated var counters: IngestCounters { counts.withLock { $0 } }

    /// Counts `count` spans as pending if that stays within `limit` (or nothing is pending: one request
    /// larger than the whole queue still goes through); false when the store is too far behind.
    nonisolated func admit(_ count: Int, limit: Int) -> Bool {
        counts.withLock { c in
            guard c.pending == 0 || c.pending + count <= limit else { return false }
            c.pending += count
            return true
        }
    }

    /// Gives back admitted spans that were never handed to ``insert(_:accounted:)``.
    nonisolated func release(_ count: Int) {
        guard count > 0 else { return }
        counts.withLock { $0.pending -= count }
    }

    /// Records a failure to tell the operator.
    nonisolated func note(_ error: String) {
        counts.withLock { $0.lastError = error }
    }

    /// Queues `spans` (settling `accounted` admitted ones once written): returns at once while the
    /// write-behind window has room, else when they are committed (throwing if that failed).
    func insert(_ spans: [Span], accounted: Int) async throws {
        if !failing, acknowledged + spans.count <= writeBehindSpans {
            acknowledged += spans.count
            waiting.append(Job(spans: spans, accounted: accounted, done: nil))
            startDraining()
            return
        }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            waiting.append(Job(spans: spans, accounted: accounted, done: done))
            startDraining()
        }
    }

    /// Returns once everything queued so far is committed or has failed.
    func flush() async {
        guard draining || !waiting.isEmpty else { return }
        await withCheckedContinuation { idle.append($0) }
    }

    private func startDraining() {
        guard !draining else { return }
        draining = true
        Task { await self.drain() }
    }

    private func drain() async {
        while !waiting.isEmpty {
            var take = 0, spans = 0
            while take < waiting.count, take == 0 || spans + waiting[take].spans.count <= Self.maxBatchSpans {
                spans += waiting[take].spans.count
                take += 1
            }
            let jobs = Array(waiting.prefix(take))
            waiting.removeFirst(take)
            var batch: [Span] = []
            batch.reserveCapacity(spans)
            for job in jobs { batch.append(contentsOf: job.spans) }
            let accounted = jobs.reduce(0) { $0 + $1.accounted }
            let early = jobs.filter { $0.done == nil }.reduce(0) { $0 + $1.spans.count }
            do {
                try await store.insertSpans(batch)
                failing = false
                counts.withLock { $0.pending -= accounted; $0.stored += spans }
                for job in jobs { job.done?.resume() }
            } catch {
                failing = true
                if early > 0 {
                    let message = "the span store failed after \(early) spans were acknowledged; they are lost: \(error)"
                    counts.withLock { $0.lost += early; $0.lastError = message }
                    log(message)
                }
                counts.withLock { $0.pending -= accounted }
                for job in jobs { job.done?.resume(throwing: error) }
            }
            acknowledged -= early
        }
        draining = false
        let waiters = idle
        idle = []
        for waiter in waiters { waiter.resume() }
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

/// Where a request stands, for ``RequestDeadline``: the headers must arrive within
/// ``OTLPReceiverLimits/headerTimeout`` of the first byte, then the body at
/// ``OTLPReceiverLimits/minBodyBytesPerSecond`` after ``OTLPReceiverLimits/bodyGrace``. While the receiver
/// works on a request, and between requests, no deadline runs (the idle timeout does). Event-loop bound.
final class RequestClock {
    enum Phase {
        /// Between requests.
        case idle
        /// Bytes of a request line or headers came in at `since`; the head is not complete yet.
        case head(since: NIODeadline)
        /// The head was complete at `since`; `bytes` of body have come since.
        case body(since: NIODeadline, bytes: Int)
        /// The request is complete, or a response has begun.
        case answering(bytesWaiting: Bool)
    }

    var phase = Phase.idle
    let headerTimeout: TimeAmount
    let bodyGrace: TimeAmount
    let minBodyBytesPerSecond: Int

    init(limits: OTLPReceiverLimits) {
        headerTimeout = limits.headerTimeout
        bodyGrace = limits.bodyGrace
        minBodyBytesPerSecond = limits.minBodyBytesPerSecond
    }

    /// Raw bytes came in.
    func bytesArrived(_ now: NIODeadline) {
        switch phase {
        case .idle: phase = .head(since: now)
        // The next request began while this one is answered: its clock starts when the answer is sent.
        case .answering: phase = .answering(bytesWaiting: true)
        case .head, .body: break
        }
    }

    func headArrived(_ now: NIODeadline) { phase = .body(since: now, bytes: 0) }

    func bodyArrived(_ count: Int) {
        if case .body(let since, let bytes) = phase { phase = .body(since: since, bytes: bytes + count) }
    }

    func requestEnded() { phase = .answering(bytesWaiting: false) }

    func responseStarted() {
        if case .answering = phase { return }
        phase = .answering(bytesWaiting: false)
    }

    func responseEnded(_ now: NIODeadline) {
        if case .answering(true) = phase { phase = .head(since: now) } else { phase = .idle }
    }

    /// Whether the request in progress is past its deadline at `now`.
    func expired(_ now: NIODeadline) -> Bool {
        switch phase {
        case .idle, .answering:
            return false
        case .head(let since):
            return now - since > headerTimeout
        case .body(let since, let bytes):
            let late = now - since - bodyGrace
            guard late > .zero else { return false }
            let owed = Double(minBodyBytesPerSecond) * Double(late.nanoseconds) / 1e9
            return Double(bytes) < owed
        }
    }
}

/// First in the pipeline: starts a request's clock on its first raw byte, and every 250 ms closes the
/// connection (after a 408 where nothing was answered yet) when the request in progress is past its deadline.
final class RequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let clock: RequestClock
    private let onTimeout: @Sendable () -> Void
    private var timer: RepeatedTask?

    init(clock: RequestClock, onTimeout: @escaping @Sendable () -> Void) {
        self.clock = clock
        self.onTimeout = onTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(250), delay: .milliseconds(250)) { _ in
            bound.value.0.check(context: bound.value.1)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        clock.bytesArrived(.now())
        context.fireChannelRead(data)
    }

    private func check(context: ChannelHandlerContext) {
        guard clock.expired(.now()) else { return }
        timer?.cancel()
        timer = nil
        clock.phase = .answering(bytesWaiting: false)
        onTimeout()
        let body = "the request's headers or body came too slowly; closing\n"
        let response = "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n" + body
        // Written below the HTTP encoder: the server side has not begun an answer (the clock says so).
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// After the HTTP decoder: moves the ``RequestClock`` on as heads, bodies and answers pass.
final class RequestProgress: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let clock: RequestClock

    init(clock: RequestClock) {
        self.clock = clock
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: clock.headArrived(.now())
        case .body(let chunk): clock.bodyArrived(chunk.readableBytes)
        case .end: clock.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status != .continue: clock.responseStarted()
        case .end: clock.responseEnded(.now())
        default: break
        }
        context.write(data, promise: promise)
    }
}

/// The pipeline of a refused connection: writes its 503 at once, shuts its side, drops whatever the client
/// sends and closes when the client does or after 2 s (closing with unread data could reset the connection
/// before the client reads the answer).
final class RefuseConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: [UInt8]
    private let done: @Sendable () -> Void
    private var answered = false
    private var finished = false
    private var timer: Scheduled<Void>?

    init(response: [UInt8], done: @escaping @Sendable () -> Void) {
        self.response = response
        self.done = done
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context: context)
        context.fireChannelActive()
    }

    private func answer(context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(bytes: response))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        timer = context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        if !finished {
            finished = true
            done()
        }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        if !finished {
            finished = true
            done()
        }
    }
}

/// Gives freed heap memory back to the system after a burst (glibc's `malloc_trim`; found at run time, as
/// the Glibc module does not export it). Elsewhere a no-op.
enum HeapTrim {
    #if canImport(Glibc)
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Trim.self)
    }()
    #endif

    /// Returns free heap pages to the system.
    static func giveBack() {
        #if canImport(Glibc)
        _ = trim?(0)
        #endif
    }
}
