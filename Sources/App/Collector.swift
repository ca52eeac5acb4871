import Foundation
import Logging
import EventModel
import OTLPReceiver

/// `evtop collect`: only the OTLP receiver, writing spans into a store; no dashboard.
public enum Collector {
    /// Receives OTLP/HTTP on `otlp` into the store file `store` (default: the default store) until SIGINT or SIGTERM.
    /// Records in the store are kept within `records` meanwhile (whoever writes them).
    public static func run(store: String?, otlp: String, limits: SpanLimits, records: RecordRetentionPolicy = .standard) async throws {
        HeapPolicy.forLongRunning()
        let logger = Logger(label: "evtop.collect")
        let path = store.map(Paths.expand) ?? Paths.defaultStore
        let opened = try SourceRegistry.open(SourceRegistry.embeddedStore(path: path), settings: SourceSettings(readOnly: false, create: true))
        guard let spans = opened.spanStore else { throw OperatorError("\(opened.description) cannot keep spans") }
        guard case .on(let host, let port) = try OTLPListen.parse(otlp) else {
            throw UsageError("evtop collect needs an address; --otlp off leaves nothing to do")
        }

        // Signals are taken as events, so the receiver stops and the store closes normally.
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let receiver = OTLPReceiver(host: host, port: port, store: spans, limits: limits, log: { logger.warning("\($0)") })
        let bound: Int
        do {
            bound = try await receiver.start()
        } catch {
            throw OperatorError("cannot listen on \(OTLPListen.authority(host: host, port: port)): \(error)")
        }
        say("evtop collect: receiving OTLP/HTTP traces on http://\(OTLPListen.authority(host: host, port: bound))\(OTLPReceiver.tracesPath) into \(path)")
        logger.info("collect listening on \(host):\(bound) into \(path)")

        let progress = Task.detached {
            var last = OTLPReceiverStats()
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(10))
                if Task.isCancelled { break }
                let s = receiver.stats
                if s.spansStored != last.spansStored || s.spansRejected != last.spansRejected || s.throttled != last.throttled
                    || s.spansLost != last.spansLost {
                    say("spans stored \(s.spansStored)  rejected \(s.spansRejected)  throttled requests \(s.throttled)"
                        + (s.spansLost > 0 ? "  lost \(s.spansLost) (\(s.lastError ?? "the store failed"))" : ""))
                }
                last = s
            }
        }
        let retention = RecordRetentionRunner(opened.recordRetention, policy: records, logger: logger)
        let signal = await signals.next()
        progress.cancel()
        await receiver.stop()
        await retention.stop()
        await opened.close()
        let s = receiver.stats
        say("evtop collect: stopped by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); \(s.spansStored) spans stored, \(s.spansRejected) rejected"
            + (s.spansLost > 0 ? ", \(s.spansLost) lost after they were acknowledged (the store failed)" : ""))
    }
}

extension Collector {
    /// `evtop collect --broker amqp://…`: the sagas tap, headless. Records copies of what is published to the
    /// broker's exchanges into its tap store, and the spans received on `otlp` (unless `off`) into the same
    /// store, until SIGINT or SIGTERM; then stops the tap, and the server deletes the tap queue.
    public static func runTap(source: SourceSelection, otlp: String, limits: SpanLimits, records: RecordRetentionPolicy = .standard) async throws {
        HeapPolicy.forLongRunning()
        let logger = Logger(label: "evtop.collect")
        let resolved = try source.resolve()
        let opened = try resolved.open(readOnly: false)
        guard opened.tap != nil else {
            throw OperatorError("\(opened.description) is read again for sagas, not tapped: evtop collect --broker is for amqp:// brokers (use --store for spans into a store)")
        }
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let loader = await SagaLoader.make(opened, readOnly: false, assembler: try resolved.sagaAssembler(), tapRetention: records)
        guard let status = loader.tap, status.run != nil else {
            throw OperatorError("no tap: \(loader.note)")
        }
        var receiver: OTLPReceiver?
        if let spans = opened.spanStore, case .on = try OTLPListen.parse(otlp) {
            let (started, message) = await startOTLPReceiver(try OTLPListen.parse(otlp), store: spans, limits: limits, log: { logger.warning("\($0)") })
            receiver = started
            say("evtop collect: \(message)")
        }
        say("evtop collect: tapping \(opened.description) into its tap store; Ctrl-C stops (the tap queue goes with it)")
        let progress = Task.detached {
            var last = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                if Task.isCancelled { break }
                let line = status.note
                if line != last { say(line) }
                last = line
            }
        }
        let signal = await signals.next()
        progress.cancel()
        await loader.stopTap()
        await receiver?.stop()
        say("evtop collect: stopped by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); \(status.note)")
    }
}

/// Turns termination signals into an awaitable event (the default action is suppressed while it lives).
final class SignalWaiter: Sendable {
    private let stream: AsyncStream<Int32>

    init(_ signals: [Int32]) {
        var continuation: AsyncStream<Int32>.Continuation?
        stream = AsyncStream { continuation = $0 }
        let wanted = Set(signals)
        Interrupts.route { [continuation] sig in
            if wanted.contains(sig) { continuation?.yield(sig) } else { Interrupts.dieBy(sig) }
        }
    }

    /// Waits for the first signal.
    func next() async -> Int32 {
        for await sig in stream { return sig }
        return SIGTERM
    }

    deinit { Interrupts.route(to: nil) }
}

/// One line on stdout, written at once (stdout may be a pipe, which would buffer `print`).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
