import Foundation

// Redrive on a broker whose dead letters sit in a queue (RabbitMQ): there is no log to search
// afterwards, so a letter is taken from the DLQ without acknowledging it, published to its target
// with publisher confirms, and acknowledged on the DLQ only once the publish is confirmed. The
// redrive engine drives the protocol and keeps the journal; a source offers these primitives.

/// A source whose dead-letter queues are consumed destructively, and can be redriven through a
/// ``QueueMoveSession``.
public protocol QueueMover: Sendable {
    /// Opens a session on `queue`: messages it takes stay unacknowledged (held) until acknowledged,
    /// and go back to the queue, in their places, when the session closes or the process dies.
    func openMoveSession(queue: String) async throws -> any QueueMoveSession
}

/// Where a queue message is published: an exchange and a routing key (the default exchange `""` with a
/// queue's name delivers to that queue).
public struct QueueTarget: Sendable, Hashable, CustomStringConvertible {
    /// The exchange ("" is the default exchange).
    public var exchange: String
    /// The routing key.
    public var routingKey: String

    /// Creates a target.
    public init(exchange: String, routingKey: String) {
        self.exchange = exchange
        self.routingKey = routingKey
    }

    /// A queue, through the default exchange.
    public static func queue(_ name: String) -> QueueTarget { QueueTarget(exchange: "", routingKey: name) }

    /// `queue NAME` for the default exchange, else `exchange NAME, key KEY`.
    public var description: String {
        exchange.isEmpty ? "queue \(routingKey)" : "exchange \(exchange), key \(routingKey)"
    }
}

/// One message taken from a queue and held unacknowledged.
public struct TakenMessage: Sendable {
    /// The session's handle for it (the delivery tag).
    public var tag: UInt64
    /// The message as a record (position = how many messages this session took before it).
    public var record: Record

    /// Creates a taken message.
    public init(tag: UInt64, record: Record) {
        self.tag = tag
        self.record = record
    }
}

/// A publish of a taken message, with its headers changed.
public struct QueuePublish: Sendable {
    /// The taken message's tag.
    public var tag: UInt64
    /// Where it goes.
    public var target: QueueTarget
    /// Header names to leave out (the dead-letter headers).
    public var removing: Set<String>
    /// Headers to add (evtop's redrive headers, as text).
    public var adding: [RecordHeader]

    /// Creates a publish.
    public init(tag: UInt64, target: QueueTarget, removing: Set<String>, adding: [RecordHeader]) {
        self.tag = tag
        self.target = target
        self.removing = removing
        self.adding = adding
    }
}

/// What the broker answered for one publish.
public enum QueuePublishOutcome: Sendable, Hashable {
    /// Confirmed: the broker has routed it to at least one queue and taken responsibility for it.
    case confirmed
    /// Refused for good (unroutable, exchange missing, negatively confirmed), with the broker's reason.
    case refused(String)
}

/// A redrive session on one queue. Blocking work happens off the caller's thread; one caller at a time.
public protocol QueueMoveSession: Sendable {
    /// Takes the queue's next message without acknowledging it; nil when no message is left to take.
    func take() async throws -> TakenMessage?
    /// Keeps a taken message unacknowledged without keeping its content in memory (it is not moved;
    /// it goes back to its place when the session closes).
    func release(_ tag: UInt64) async
    /// Publishes taken messages and waits for the broker's confirms; one outcome per publish, in order.
    /// Throws `BrokerError.unavailable` when the broker stopped answering: whether those publishes
    /// landed is then unknown (in doubt).
    func publish(_ publishes: [QueuePublish]) async throws -> [QueuePublishOutcome]
    /// Acknowledges taken messages on the queue (they are gone from it once the broker processes this).
    func acknowledge(_ tags: [UInt64]) async throws
    /// Returns every held message to its place and ends the session.
    func close() async
}

/// How a queue letter is recognised again: a queue has no stable positions, so the dashboard records this
/// for each letter it shows, and the redrive engine matches taken messages against it.
public enum QueueFingerprint {
    /// A letter's identity while it waits in a queue: its content (key, value, headers and their order,
    /// timestamp), less what a redelivery changes. Two letters identical in all of that are interchangeable:
    /// the job moves as many of them as it selected.
    public static func of(_ record: Record) -> String {
        var a = Hash64(seed: 0xCBF2_9CE4_8422_2325)
        var b = Hash64(seed: 0x8422_2325_CBF2_9CE4 ^ 0x9E37_79B9_7F4A_7C15)
        func feed(_ bytes: [UInt8]) {
            a.add(length: bytes.count); b.add(length: bytes.count)
            a.add(bytes); b.add(bytes)
        }
        feed(record.key ?? [])
        feed(record.value ?? [])
        for h in record.headers where h.name != "amqp.redelivered" {
            feed(Array(h.name.utf8))
            feed(h.value ?? [])
        }
        feed(Array(String(record.timestampMillis).utf8))
        return String(format: "%016llx%016llx", a.finish(), b.finish())
    }

    /// FNV-1a over bytes, finished with a 64-bit mix; two with different seeds make a 128-bit fingerprint.
    struct Hash64 {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func add(_ bytes: [UInt8]) {
            for byte in bytes { add(byte: byte) }
        }
        mutating func add(byte: UInt8) {
            state = (state ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        mutating func add(length: Int) {
            var n = UInt64(truncatingIfNeeded: length)
            for _ in 0..<8 { add(byte: UInt8(truncatingIfNeeded: n)); n >>= 8 }
        }
        func finish() -> UInt64 {
            var z = state &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
