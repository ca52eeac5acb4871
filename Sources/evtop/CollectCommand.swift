import Foundation
import ArgumentParser
import Logging
import EventModel
import EmbeddedStore
import OTLPReceiver

/// `evtop collect`: only the OTLP receiver, writing spans into a store; no dashboard.
struct CollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Receive OpenTelemetry traces (OTLP/HTTP) into a store, headless.",
        discussion: """
        Listens for OTLP/HTTP exports (POST /v1/traces, protobuf or JSON, gzip) and stores the spans in the \
        embedded store ($XDG_DATA_HOME/evtop/evtop.db unless --store is given), where the dashboard and \
        `evtop saga` find them. Stops on Ctrl-C or SIGTERM. Point an SDK at it with \
        OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318.
        """
    )

    @Option(name: .long, help: ArgumentHelp("Store file the spans go to (created when missing).", valueName: "path"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Address to listen on (port 0: any free port).", valueName: "host:port"))
    var otlp: String = "127.0.0.1:\(OTLPReceiver.defaultPort)"

    @OptionGroup var retention: SpanRetentionOptions

    func validate() throws {
        if try OTLPListen.parse(otlp) == .off { throw ValidationError("evtop collect needs an address; --otlp off leaves nothing to do") }
    }

    func run() async throws {
        FileLogHandler.bootstrap()
        let logger = Logger(label: "evtop.collect")
        let path = store.map(Paths.expand) ?? Paths.defaultStore
        try Paths.ensureParent(of: path)
        let log = try SQLiteLog(path: path, mode: .readWrite)
        guard case .on(let host, let port) = try OTLPListen.parse(otlp) else { return }

        // Signals are taken as events, so the receiver stops and the store closes normally.
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let receiver = OTLPReceiver(host: host, port: port, store: log, limits: try retention.limits(), log: { logger.warning("\($0)") })
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
                if s.spansStored != last.spansStored || s.spansRejected != last.spansRejected || s.throttled != last.throttled {
                    say("spans stored \(s.spansStored)  rejected \(s.spansRejected)  throttled requests \(s.throttled)")
                }
                last = s
            }
        }
        let signal = await signals.next()
        progress.cancel()
        await receiver.stop()
        let s = receiver.stats
        say("evtop collect: stopped by \(signal == SIGINT ? "SIGINT" : "SIGTERM"); \(s.spansStored) spans stored, \(s.spansRejected) rejected")
    }
}

/// Turns termination signals into an awaitable event (the default action is suppressed while it lives).
final class SignalWaiter {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init(_ signals: [Int32]) {
        var continuation: AsyncStream<Int32>.Continuation?
        stream = AsyncStream { continuation = $0 }
        sources = signals.map { sig in
            Foundation.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [continuation] in continuation?.yield(sig) }
            source.resume()
            return source
        }
    }

    /// Waits for the first signal.
    func next() async -> Int32 {
        for await sig in stream { return sig }
        return SIGTERM
    }

    deinit { sources.forEach { $0.cancel() } }
}

/// One line on stdout, written at once (stdout may be a pipe, which would buffer `print`).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
