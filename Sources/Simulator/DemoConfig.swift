import Foundation

/// What `evtop demo` was asked to simulate.
public struct DemoConfig: Sendable, Hashable {
    /// Mean rate of new orders per second (traffic swings around it in bursts and lulls).
    public var rate: Double
    /// Random seed: the same seed and the same simulated times give the same records.
    public var seed: UInt64
    /// How long `DemoSystem.run` runs, in seconds; nil runs until cancelled.
    public var duration: Double?
    /// Fraction of produced messages that are poison (fail processing and end on a DLT).
    public var poisonRate: Double

    /// Creates a configuration.
    public init(rate: Double = 20, seed: UInt64 = 42, duration: Double? = nil, poisonRate: Double = 0.01) {
        self.rate = rate
        self.seed = seed
        self.duration = duration
        self.poisonRate = poisonRate
    }
}

/// Counters describing what the demo has done so far.
public struct DemoStats: Sendable, Hashable {
    /// OrderPlaced events produced (including poison ones).
    public var ordersPlaced = 0
    /// Orders whose OrderShipped reached the order service.
    public var ordersCompleted = 0
    /// OrderCancelled events produced.
    public var ordersCancelled = 0
    /// Records produced to every topic, dead letters included.
    public var eventsProduced = 0
    /// Records consumed (processed, ignored or dead-lettered) by all groups.
    public var eventsConsumed = 0
    /// Poison messages produced.
    public var poisonProduced = 0
    /// Failed processing attempts that were retried.
    public var retries = 0
    /// Records produced to a dead-letter topic.
    public var deadLettered = 0
    /// Records produced per `event-type` header value (dead letters not included).
    public var eventsByType: [String: Int] = [:]
    /// Simulated seconds skipped because `advance` was called after a long pause.
    public var skippedSeconds: Double = 0
    /// Simulated seconds since the first `advance`.
    public var simulatedSeconds: Double = 0

    /// Creates zeroed counters.
    public init() {}
}

/// Errors of the demo driver itself (broker errors pass through unchanged).
public enum DemoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `advance` or `run` was called before `setUp`.
    case notSetUp
    /// `advance` was re-entered while a previous call was still running.
    case concurrentAdvance

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .notSetUp: return "demo: setUp() must run before advance()"
        case .concurrentAdvance: return "demo: advance() called while another advance() is running"
        }
    }
}

/// Timings and shapes of the simulation; tests shorten them.
struct DemoTuning: Sendable {
    /// Simulation step, milliseconds; each step produces once per topic.
    var stepMillis: Int64 = 100
    /// Longest stretch of simulated time caught up in one `advance`; older time is skipped.
    var maxCatchUpMillis: Int64 = 5_000
    /// Traffic wave: rate × (1 + amplitude × sin(2π t / period)).
    var waveAmplitude = 0.7
    var wavePeriodSeconds = 60.0
    /// Bursts and lulls: each slot is a burst (×2–3) or a lull (×0.3) with these probabilities.
    var burstSlotSeconds = 10.0
    var burstProbability = 0.15
    var lullProbability = 0.10
    /// The slow consumer (`shipping-service`): records per second = factor × config rate. Its
    /// downstream (a carrier API) turns slow for a phase of each period: then the factor drops to
    /// `slowPhaseFactor`, below the quietest traffic, so its lag grows at every sample (WARN) and
    /// recovers afterwards at `slowCapacityFactor`.
    var slowCapacityFactor = 1.6
    var slowPhaseFactor = 0.25
    var slowPhaseStartSeconds = 5.0
    var slowPhaseDurationSeconds = 30.0
    var slowPhasePeriodSeconds = 120.0
    /// Records per second any other group can process.
    var fastCapacityPerSecond = 5_000.0
    /// Most records fetched in one call.
    var fetchMax = 500
    /// The stalling group (`inventory-service`): first stall, period and length, seconds.
    var stallFirstAtSeconds = 30.0
    var stallPeriodSeconds = 90.0
    var stallDurationSeconds = 25.0
    /// Retries of a failing record before it is dead-lettered, and the back-off between attempts.
    var maxRetries = 3
    var retryBackoffMillis: Int64 = 500
    /// Heartbeat interval per member, milliseconds.
    var heartbeatMillis: Int64 = 1_000
    /// Saga outcome probabilities.
    var declineRate = 0.08
    var outOfStockRate = 0.06
    var shipmentFailureRate = 0.02

    static let standard = DemoTuning()
}
