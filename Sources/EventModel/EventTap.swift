import Foundation

/// What a running tap has done, for the views and `evtop collect`. A figure not known is nil, never 0.
public struct TapFigures: Sendable, Hashable {
    /// True while connected and consuming.
    public var consuming: Bool
    /// Records delivered to the sink since the tap started.
    public var recordsTapped: Int64
    /// Exchanges bound to the tap queue now (nil before the first binding).
    public var exchangesTapped: Int?
    /// Exchanges named for the tap that could not be tapped (missing, or of a type evtop does not bind).
    public var exchangesSkipped: [String]
    /// Messages the server dropped from the head of the tap queue when it was full (nil: unknown).
    public var droppedOnServer: Int64?
    /// True when the tap queue was last seen at its length limit: the server is dropping the oldest copies.
    public var queueFull = false
    /// The tap queue's name while it exists.
    public var queue: String?
    /// The last failure, while it lasts (the tap is reconnecting); nil when fine.
    public var problem: String?
    /// Times the tap connected again after losing the broker.
    public var reconnects: Int
    /// True once stopped (the tap queue is gone).
    public var stopped = false

    /// Figures of a tap that has not started consuming yet.
    public init(consuming: Bool = false, recordsTapped: Int64 = 0, exchangesTapped: Int? = nil, exchangesSkipped: [String] = [],
                droppedOnServer: Int64? = nil, queue: String? = nil, problem: String? = nil, reconnects: Int = 0) {
        self.consuming = consuming
        self.recordsTapped = recordsTapped
        self.exchangesTapped = exchangesTapped
        self.exchangesSkipped = exchangesSkipped
        self.droppedOnServer = droppedOnServer
        self.queue = queue
        self.problem = problem
        self.reconnects = reconnects
    }
}

/// A source whose messages are consumed destructively (RabbitMQ queues) and so cannot be re-read for sagas:
/// it offers a tap instead, a queue of evtop's own bound to the exchanges, that receives a copy of each
/// message as it is published. The service queues are never touched.
public protocol EventTap: Sendable {
    /// Starts tapping `exchanges` (nil: every exchange the source can tap) and hands the copies to `deliver`
    /// in batches, as records (topic: the exchange the message was published to). A batch is acknowledged
    /// to the broker only after `deliver` returns; a throw stops the tap's consuming until it reconnects.
    /// The tap connects, reconnects with backoff when the broker goes away, and reports in ``TapRun/figures``.
    func startTap(exchanges: [String]?, deliver: @escaping @Sendable ([Record]) async throws -> Void) -> any TapRun
}

/// A running tap.
public protocol TapRun: Sendable {
    /// What it has done so far.
    var figures: TapFigures { get }
    /// Stops consuming and closes the connection (the server then deletes the tap queue); returns within about a second.
    func stop() async
}
