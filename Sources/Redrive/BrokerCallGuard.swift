import EventModel
import Foundation
import Synchronization

/// Raised inside a job when the operator cancelled while a broker call was still blocked: the job
/// stops there, and whatever that call may have written stays "in doubt" in the journal (an intent),
/// which the next start resolves by looking for it.
struct StoppedWhileWaiting: Error {}

/// Keeps a job's loop in the operator's hands while a broker call blocks (every broker down: a
/// librdkafka query can wait out its timeout again and again). The call runs in a task of its own;
/// the job waits for it in slices, and between slices it can stop at once on cancel, beat its
/// heartbeat and say "waiting for the broker since …". A call left behind by a cancel finishes (or
/// times out) on its own; its result is dropped.
final class BrokerCallGuard: Sendable {
    /// The guard of the job running in this task (nil outside a job: calls run directly).
    @TaskLocal static var current: BrokerCallGuard?

    /// How long a call may take before the job says it is waiting.
    static let quietSeconds = 2.0
    /// How often a waiting job checks for cancel and beats its heartbeat.
    static let slice: DispatchTimeInterval = .milliseconds(200)

    private let isCancelled: @Sendable () -> Bool
    private let waiting: @Sendable (_ sinceEpochSeconds: Double) -> Void
    private let now: @Sendable () -> Double

    /// - Parameters:
    ///   - isCancelled: the operator's cancel.
    ///   - waiting: called every slice once a call has taken longer than ``quietSeconds``, with when it began.
    init(isCancelled: @escaping @Sendable () -> Bool, now: @escaping @Sendable () -> Double,
         waiting: @escaping @Sendable (Double) -> Void) {
        self.isCancelled = isCancelled
        self.now = now
        self.waiting = waiting
    }

    /// Runs `call` through the job's guard, if any.
    static func guarded<T: Sendable>(_ call: @escaping @Sendable () async throws -> T) async throws -> T {
        guard let current else { return try await call() }
        return try await current.run(call)
    }

    private func run<T: Sendable>(_ call: @escaping @Sendable () async throws -> T) async throws -> T {
        if isCancelled() { throw StoppedWhileWaiting() }
        let outcome = Outcome<T>()
        Task {
            do { outcome.settle(.success(try await call())) } catch { outcome.settle(.failure(error)) }
        }
        let began = now()
        while true {
            if let result = await outcome.wait(upTo: Self.slice) { return try result.get() }
            if isCancelled() { throw StoppedWhileWaiting() }
            if now() - began >= Self.quietSeconds { waiting(began) }
        }
    }
}

/// A call's result, waited for in slices.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<Result<T, any Error>?, Never>?
    }
    private let state = Mutex(State())

    func settle(_ result: Result<T, any Error>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<T, any Error>?, Never>? in
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: result)
    }

    /// The result if it arrives within `limit`, else nil.
    func wait(upTo limit: DispatchTimeInterval) async -> Result<T, any Error>? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Result<T, any Error>? in
                if let result = s.result { return result }
                s.waiter = continuation
                return nil
            }
            if let ready { return continuation.resume(returning: ready) }
            DispatchQueue.global().asyncAfter(deadline: .now() + limit) { [self] in
                let timedOut = state.withLock { s -> CheckedContinuation<Result<T, any Error>?, Never>? in
                    defer { s.waiter = nil }
                    return s.waiter
                }
                timedOut?.resume(returning: nil)
            }
        }
    }
}

/// The engine's broker, every call through the running job's ``BrokerCallGuard``.
struct GuardedReader: LogReader {
    let base: any LogReader
    var sourceDescription: String { base.sourceDescription }
    var positionsHoldRecords: Bool { base.positionsHoldRecords }
    func snapshot() async throws -> BrokerSnapshot { try await BrokerCallGuard.guarded { try await base.snapshot() } }
    func watermarks(topic: String) async throws -> TopicInfo {
        try await BrokerCallGuard.guarded { try await base.watermarks(topic: topic) }
    }
    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws
        -> (records: [Record], next: LogPosition) {
        try await BrokerCallGuard.guarded { try await base.read(topic: topic, partition: partition, from: position, maxRecords: maxRecords) }
    }
    func identity() async -> SourceIdentity? { await base.identity() }
}

/// The engine's writer, every produce through the running job's ``BrokerCallGuard``.
struct GuardedWriter: LogWriter {
    let base: any LogWriter
    var producesIdempotently: Bool { base.producesIdempotently }
    func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] {
        try await BrokerCallGuard.guarded { try await base.produce(records) }
    }
}
