import Foundation
import Logging
import CRdKafka
import EventModel

/// librdkafka's own log lines and errors go to evtop's log file, never to the terminal.
let kafkaLogger = Logger(label: "evtop.kafka")
/// `EVTOP_KAFKA_DEBUG=1` with `-X debug=...` prints librdkafka's debug lines on stdout (for test runs only).
let debugToStdout = ProcessInfo.processInfo.environment["EVTOP_KAFKA_DEBUG"] != nil

/// A small lock-protected box (the project builds for platforms without `Mutex`).
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `lock`.
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value.
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// What the error callback learned about the cluster, read by requests that fail.
final class ConnectionHealth: Sendable {
    private let state = Locked<(allDown: Bool, lastError: String?)>((false, nil))

    /// True once librdkafka said every broker is down, until a request succeeds again.
    var allBrokersDown: Bool { state.withLock { $0.allDown } }
    /// The last transport error librdkafka reported.
    var lastError: String? { state.withLock { $0.lastError } }

    func record(error: rd_kafka_resp_err_t, reason: String) {
        state.withLock { s in
            if error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN { s.allDown = true } else { s.lastError = reason }
        }
    }

    func markReachable() { state.withLock { $0.allDown = false } }
}

/// Builds a librdkafka configuration from settings plus evtop's own properties.
enum KafkaConf {
    /// A conf with bootstrap servers, the user's properties (they win over `defaults` except
    /// `overrides`), evtop's log and error callbacks, and `opaque` for the callbacks.
    static func make(_ settings: KafkaSettings, defaults: [String: String], overrides: [String: String] = [:]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError.client("cannot allocate a librdkafka configuration") }
        var all = defaults
        all["bootstrap.servers"] = settings.bootstrap.joined(separator: ",")
        for (k, v) in settings.properties { all[k] = v }
        for (k, v) in overrides { all[k] = v }
        // librdkafka's log lines and errors may quote a value (`… set to \`…\``): every later text masks them.
        Secrets.remember(all.filter { KafkaSecrets.isSecret($0.key) }.map(\.value))
        for key in all.keys.sorted() {
            guard let value = all[key] else { continue }
            var errstr = [CChar](repeating: 0, count: 512)
            let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                throw KafkaError.configuration(refusal(key: key, value: value, known: result != RD_KAFKA_CONF_UNKNOWN,
                                                       librdkafka: cText(errstr), all: all))
            }
        }
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, buf in
            let fac = facility.map { String(cString: $0) } ?? "-"
            let text = buf.map { String(cString: $0) } ?? ""
            let line: Logger.Message = "\(fac): \(text)"
            switch level {
            case ...3: kafkaLogger.error(line)
            case 4: kafkaLogger.warning(line)
            case 5...6: kafkaLogger.info(line)
            default: kafkaLogger.debug(line); if debugToStdout { print("RDK \(line)") }
            }
        }
        return conf
    }

    /// Why librdkafka refused `key=value`, without a secret: the value is shown only for a property
    /// librdkafka knows whose name is no secret's (an unknown name may be a mistyped secret one), and
    /// librdkafka's own text, which may quote the value, is scrubbed the same way.
    static func refusal(key: String, value: String, known: Bool, librdkafka: String, all: [String: String]) -> String {
        let shown = Secrets.shown(key, value: value, known: known)
        let hidden = all.filter { KafkaSecrets.isSecret($0.key) }.map(\.value) + (shown == value ? [] : [value])
        let why = Secrets.scrub(librdkafka, values: hidden)
        guard known else {
            return "unknown property '\(key)' (value not shown: a mistyped name may hold a secret); check its spelling against librdkafka's CONFIGURATION.md"
        }
        return shown == value ? "property '\(key)=\(value)' was refused: \(why)" : "property '\(key)' (value not shown) was refused: \(why)"
    }
}

/// Errors of the Kafka client, converted to `BrokerError` at the `LogReader` edge.
enum KafkaError: Error, CustomStringConvertible {
    case configuration(String)
    case client(String)

    var description: String {
        switch self {
        case .configuration(let why): return "librdkafka configuration: \(why)"
        case .client(let why): return why
        }
    }
}

/// A librdkafka client handle with a thread serving its callbacks (delivery reports, errors).
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe (every rd_kafka_* call on an `rd_kafka_t`
/// may come from any thread); the Swift state here is immutable after init or behind locks.
final class KafkaHandle: @unchecked Sendable {
    /// The raw handle; valid until deinit.
    let rk: OpaquePointer
    /// Connection health reported by the error callback.
    let health: ConnectionHealth
    private let context: Unmanaged<CallbackContext>
    private let stop = Locked(false)
    private let stopped = DispatchSemaphore(value: 0)
    private let polls: Bool

    /// What callbacks reach through librdkafka's opaque pointer.
    final class CallbackContext: Sendable {
        let health: ConnectionHealth
        init(health: ConnectionHealth) { self.health = health }
    }

    /// Creates a producer or consumer handle; `pollThread` serves callbacks with rd_kafka_poll.
    init(type: rd_kafka_type_t, conf: OpaquePointer, pollThread: Bool,
         deliveryReport: (@convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void)? = nil) throws {
        let health = ConnectionHealth()
        let context = Unmanaged.passRetained(CallbackContext(health: health))
        rd_kafka_conf_set_opaque(conf, context.toOpaque())
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            let text = reason.map { String(cString: $0) } ?? ""
            kafkaLogger.warning("librdkafka error \(String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(err)))): \(text)")
            guard let opaque else { return }
            Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue().health
                .record(error: rd_kafka_resp_err_t(err), reason: text)
        }
        if let deliveryReport { rd_kafka_conf_set_dr_msg_cb(conf, deliveryReport) }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            context.release()
            throw KafkaError.client("cannot create a Kafka client: \(cText(errstr))")
        }
        self.rk = rk
        self.health = health
        self.context = context
        self.polls = pollThread
        if pollThread {
            let handle = RawHandle(rk: rk)
            let stop = self.stop
            let stopped = self.stopped
            let thread = Thread {
                while !stop.withLock({ $0 }) { rd_kafka_poll(handle.rk, 100) }
                stopped.signal()
            }
            thread.name = "evtop-kafka-poll"
            thread.start()
        }
    }

    deinit {
        if polls {
            stop.withLock { $0 = true }
            stopped.wait()
        }
        rd_kafka_destroy(rk)
        context.release()
    }
}

/// A handle pointer handed to a thread. `@unchecked Sendable`: librdkafka handles are thread-safe.
struct RawHandle: @unchecked Sendable {
    let rk: OpaquePointer
}

/// Runs blocking librdkafka calls off Swift's cooperative pool.
enum Blocking {
    private static let queue = DispatchQueue(label: "evtop.kafka.io", attributes: .concurrent)

    /// Runs `body` on evtop's Kafka I/O queue (or `queue`) and returns its result.
    static func run<T: Sendable>(on queue: DispatchQueue? = nil, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            (queue ?? Self.queue).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}

extension rd_kafka_resp_err_t {
    /// librdkafka's description of the error.
    var text: String { String(cString: rd_kafka_err2str(self)) }
    /// librdkafka's name of the error (e.g. `_TRANSPORT`).
    var name: String { String(cString: rd_kafka_err2name(self)) }
}

/// The text of a NUL-terminated C buffer (librdkafka's errstr), without trusting it to be UTF-8.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
