import Foundation
import Synchronization
import EventModel

extension RabbitMQLog: EventTap {
    /// A tap on this vhost: an exclusive queue of evtop's own bound to the exchanges, consumed on a thread
    /// of its own. The service queues are never read.
    public func startTap(exchanges: [String]?, deliver: @escaping @Sendable ([Record]) async throws -> Void) -> any TapRun {
        let tap = RabbitMQTap(settings: settings, properties: properties, api: api, named: exchanges, deliver: deliver)
        tap.start()
        return tap
    }
}

/// A running tap. Every librabbitmq call runs on the tap's own thread (they block; the cooperative pool
/// must never wait on a socket); the exchange list is refreshed by a task through the management API and
/// handed to the thread, which binds what is new. Batches are handed to the sink one at a time and
/// acknowledged once it has written them.
final class RabbitMQTap: TapRun, Sendable {
    /// Every tap queue's name starts so: evtop's own copies, hidden from the queues and lag views.
    static let queuePrefix = "evtop.tap."
    /// Messages the tap queue holds on the server at most; beyond that the oldest are dropped.
    static let maxQueueLength = 100_000
    /// Messages delivered and not yet acknowledged at most: bounds the tap's memory.
    static let prefetch: UInt16 = 1_000
    /// Records per batch handed to the sink at most.
    static let batchSize = 500
    /// How long a consume waits for a message before the thread looks at its stop flag (ms).
    static let pollMillis = 200
    /// How often the exchanges and their bindings are listed again (new exchanges get tapped).
    static let refreshInterval: Duration = .seconds(15)
    /// Longest wait between reconnections (s).
    static let maxBackoff = 30.0

    private let settings: RabbitMQSettings
    private let properties: [String: String]
    private let api: ManagementAPI
    private let named: [String]?
    private let deliver: @Sendable ([Record]) async throws -> Void
    /// The name the tap queue is declared with: `evtop.tap.HOST.PID` (then `.2`, `.3`… after a reconnection,
    /// in case the server has not yet noticed the old connection is gone).
    private let baseName: String

    private let stopped = Mutex(false)
    private let finished = Mutex(false)
    private let shared = Mutex(TapFigures())
    /// The bindings wanted now (nil until the first listing), or why they could not be listed.
    private let plan = Mutex<(result: TapPlan.Result?, failure: String?, version: Int)>((nil, nil, 0))
    /// The sink's progress: (connection generation, last delivery tag written), and a failure to write.
    private let written = Mutex<(generation: Int, tag: UInt64, inFlight: Bool, failure: String?)>((0, 0, false, nil))
    private let refresher = Mutex<Task<Void, Never>?>(nil)

    init(settings: RabbitMQSettings, properties: [String: String], api: ManagementAPI, named: [String]?,
         deliver: @escaping @Sendable ([Record]) async throws -> Void) {
        self.settings = settings
        self.properties = properties
        self.api = api
        self.named = named
        self.deliver = deliver
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        baseName = Self.queuePrefix + "\(host).\(getpid())"
    }

    var figures: TapFigures { shared.withLock { $0 } }

    func start() {
        refresher.withLock { task in
            task = Task.detached { [self] in
                while !Task.isCancelled {
                    await refreshPlan()
                    try? await Task.sleep(for: Self.refreshInterval)
                }
            }
        }
        let thread = Thread { [self] in
            run()
            finished.withLock { $0 = true }
        }
        thread.name = "evtop.tap"
        thread.start()
    }

    func stop() async {
        stopped.withLock { $0 = true }
        refresher.withLock { $0?.cancel() }
        // The thread sees the flag within one poll; a batch being written gets a moment to finish.
        for _ in 0..<60 where !finished.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(50)) }
        shared.withLock { $0.consuming = false; $0.queue = nil; $0.stopped = true }
    }

    private var isStopped: Bool { stopped.withLock { $0 } }

    // MARK: Exchanges

    /// Lists the exchanges and the services' bindings, and sets the bindings the tap wants.
    private func refreshPlan() async {
        do {
            async let exchanges = api.exchanges()
            async let bindings = api.bindings()
            let (e, b) = try await (exchanges, bindings)
            let result = TapPlan.bindings(exchanges: e, bindings: TapPlan.servicesBindings(b, tapQueue: shared.withLock { $0.queue }), named: named)
            plan.withLock { p in
                if p.result != result { p.version += 1 }
                p.result = result
                p.failure = nil
            }
        } catch {
            plan.withLock { $0.failure = "the tap lists exchanges through the management API: \(error)" }
        }
        // The server does not count what drop-head discards; a queue at its limit is discarding.
        if let queue = shared.withLock({ $0.queue }), let depth = try? await api.queue(named: queue).messages {
            shared.withLock { $0.queueFull = depth >= Int64(Self.maxQueueLength) }
        }
    }

    // MARK: The thread

    private func run() {
        var generation = 0
        var backoff = 1.0
        while !isStopped {
            generation += 1
            do {
                try session(generation: generation) { backoff = 1 }
            } catch {
                let text = "\(error)"
                shared.withLock { $0.consuming = false; $0.queue = nil; $0.problem = text + " (reconnecting)" }
            }
            guard !isStopped else { break }
            var waited = 0.0
            while waited < backoff && !isStopped { Thread.sleep(forTimeInterval: 0.1); waited += 0.1 }
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// One connection's life: declare, bind, consume until stopped or the broker goes away (throws).
    private func session(generation: Int, connected: () -> Void) throws {
        let connection = try AMQPConnection(settings: settings, properties: properties)
        let queue = try connection.declareTapQueue(name: generation == 1 ? baseName : "\(baseName).\(generation)", maxLength: Self.maxQueueLength)
        shared.withLock { $0.queue = queue }
        written.withLock { $0 = (generation, 0, false, nil) }
        // The first listing of the exchanges: wait for it (checking the stop flag).
        while plan.withLock({ $0.result == nil && $0.failure == nil }) && !isStopped { Thread.sleep(forTimeInterval: 0.05) }
        var bound: Set<TapBinding> = []
        var boundVersion = -1
        func bindNew() throws {
            let (result, failure, version) = plan.withLock { ($0.result, $0.failure, $0.version) }
            if result == nil, let failure { throw BrokerError.unavailable(failure) }
            guard let result, version != boundVersion else { return }
            // Only additions: an exchange deleted since takes its bindings with it.
            for b in result.bindings where !bound.contains(b) {
                try connection.bindTap(queue: queue, b)
                bound.insert(b)
            }
            boundVersion = version
            let exchanges = Set(bound.map(\.exchange)).count
            shared.withLock { $0.exchangesTapped = exchanges; $0.exchangesSkipped = result.skipped }
        }
        try bindNew()
        try connection.consumeTap(queue: queue, prefetch: Self.prefetch)
        shared.withLock { f in
            if generation > 1 { f.reconnects += 1 }
            f.consuming = true
            f.problem = nil
        }
        connected()

        var batch: [Record] = []
        var batchLastTag: UInt64 = 0
        var batchStarted = Date()
        var ackedTag: UInt64 = 0
        var stopDeadline: Date?
        while true {
            let stopping = isStopped
            let (writtenTag, inFlight, failure) = written.withLock { w in w.generation == generation ? (w.tag, w.inFlight, w.failure) : (0, false, nil) }
            if let failure { throw BrokerError.unavailable("the tap could not record: \(failure)") }
            if writtenTag > ackedTag {
                try connection.ackTap(upTo: writtenTag)
                ackedTag = writtenTag
            }
            if stopping {
                // Hand over what is gathered, wait for it to be written (a second at most), then leave:
                // closing the connection deletes the queue.
                if !batch.isEmpty && !inFlight { handOff(batch, lastTag: batchLastTag, generation: generation); batch = [] }
                if batch.isEmpty && !inFlight { return }
                // A write that hangs must not keep the thread and the connection: after 2 s the copies not
                // written are left to the exclusive queue, which goes with the connection.
                let deadline = stopDeadline ?? Date().addingTimeInterval(2)
                stopDeadline = deadline
                if Date() >= deadline { return }
                Thread.sleep(forTimeInterval: 0.02)
                continue
            }
            try bindNew()
            if let d = try connection.nextTapDelivery(timeoutMillis: Self.pollMillis) {
                if batch.isEmpty { batchStarted = Date() }
                batch.append(Self.record(d, arrival: Date()))
                batchLastTag = d.deliveryTag
            }
            if !batch.isEmpty, !inFlight, batch.count >= Self.batchSize || Date().timeIntervalSince(batchStarted) >= 0.2 {
                handOff(batch, lastTag: batchLastTag, generation: generation)
                batch = []
            }
        }
    }

    /// Gives a batch to the sink on a task; the thread acknowledges it once written.
    private func handOff(_ batch: [Record], lastTag: UInt64, generation: Int) {
        written.withLock { $0.inFlight = true }
        let deliver = self.deliver
        Task.detached { [self] in
            do {
                try await deliver(batch)
                shared.withLock { $0.recordsTapped += Int64(batch.count) }
                written.withLock { w in
                    guard w.generation == generation else { return }
                    w.tag = max(w.tag, lastTag)
                    w.inFlight = false
                }
            } catch {
                written.withLock { w in
                    guard w.generation == generation else { return }
                    w.failure = "\(error)"
                    w.inFlight = false
                }
            }
        }
    }

    /// A delivery as a record, mapped as browsing maps it, its topic the exchange it was published to.
    /// Its time: the `timestamp` property (whole seconds) refined by the arrival time when that falls within
    /// the same second (so events of one second keep their order); else (and for a dead letter, which
    /// keeps its first publication's timestamp) the arrival time.
    static func record(_ d: AMQPDelivery, arrival: Date) -> Record {
        var r = RabbitMQLog.record(d, topic: d.exchange, ordinal: 0)
        let arrived = Int64((arrival.timeIntervalSince1970 * 1000).rounded(.down))
        // A dead letter keeps the `timestamp` of its first publication; it was dead-lettered just now.
        let deadLettered = d.headers.contains { $0.0 == "x-death" }
        if let s = d.timestampSeconds, s < UInt64(Int64.max / 1000), !deadLettered {
            let stamped = Int64(s) * 1000
            r.timestampMillis = (stamped...stamped + 999).contains(arrived) ? arrived : stamped
        } else {
            r.timestampMillis = arrived
        }
        return r
    }
}
