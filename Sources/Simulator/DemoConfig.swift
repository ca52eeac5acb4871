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
    /// Design faults the demo injects into its records (see `DemoFault`); all by default, none with `[]`.
    /// Only the log demo (embedded store, Kafka) injects them; the RabbitMQ demo ignores this set.
    public var faults: Set<DemoFault>

    /// Creates a configuration.
    public init(rate: Double = 20, seed: UInt64 = 42, duration: Double? = nil, poisonRate: Double = 0.01,
                faults: Set<DemoFault> = DemoFault.all) {
        self.rate = rate
        self.seed = seed
        self.duration = duration
        self.poisonRate = poisonRate
        self.faults = faults
    }
}

/// A design fault of event-driven systems that the demo injects, so that an analysis of the records
/// has something real to find. Each one is deterministic for a seed and leaves the saga's outcomes as
/// they are: the consumers cope with it as a well-built consumer would.
public enum DemoFault: String, CaseIterable, Sendable, Hashable {
    /// A producer without idempotence that retries: now and then payment-service writes the same
    /// PaymentAuthorized record (same key, headers, `event-id` and value) twice to `payments`, at two
    /// offsets of one partition. inventory-service is an idempotent consumer and skips the second.
    case duplicates
    /// A command dressed as an event: order-service also publishes imperative event types
    /// (`ReserveInventory`, `SendConfirmation`) on `orders`, which no consumer knows and all ignore.
    case commandEvents = "command-events"
    /// Two live versions of one event: a share of InventoryReserved records is schema-version 2, with
    /// `warehouse` renamed to `warehouseCode`; shipping-service reads both.
    case schemaDrift = "schema-drift"
    /// A fat event now and then: an OrderPlaced whose value is over 100 kB (a long packing list in
    /// `items`), still valid and processed as usual.
    case fatEvents = "fat-events"

    /// Every fault: the default.
    public static let all: Set<DemoFault> = Set(allCases)

    /// The names `parseList` accepts besides `all` and `none`, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// Parses a fault list as `evtop demo --faults` takes it: `all`, `none`, or comma-separated names
    /// (spaces around names are allowed); an unknown or empty name is an error that names the valid ones.
    public static func parseList(_ text: String) -> Result<Set<DemoFault>, DemoFaultListError> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "all": return .success(all)
        case "none": return .success([])
        default: break
        }
        var faults: Set<DemoFault> = []
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let fault = DemoFault(rawValue: name.lowercased()) else { return .failure(DemoFaultListError(name: name)) }
            faults.insert(fault)
        }
        return .success(faults)
    }
}

/// A fault list named a fault the demo does not know.
public struct DemoFaultListError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name as given (empty for an empty list entry).
    public var name: String

    /// Creates the error for `name`.
    public init(name: String) {
        self.name = name
    }

    /// A one-line explanation naming the valid values.
    public var description: String {
        let what = name.isEmpty ? "an empty fault name" : "unknown fault \"\(name)\""
        return "\(what): use all, none, or a comma-separated list of \(DemoFault.names.joined(separator: ", "))"
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
    /// What each fault injected: duplicated records, command-named events, schema-version 2 records,
    /// fat events (a fault that injected nothing has no entry).
    public var faultsInjected: [DemoFault: Int] = [:]

    /// All injected fault records, summed.
    public var faultsInjectedTotal: Int { faultsInjected.values.reduce(0, +) }

    /// `faultsInjected` as one line, in `DemoFault` order, e.g. `duplicates 2, schema-drift 31`; empty when none.
    public var faultsSummary: String {
        DemoFault.allCases.compactMap { fault in faultsInjected[fault].map { "\(fault.rawValue) \($0)" } }
            .joined(separator: ", ")
    }

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
    /// Fault `duplicates`: the `duplicateFirst`-th PaymentAuthorized is written twice, then every
    /// `duplicateEvery`-th (0.5%). A counter, not a coin, so that one shows within seconds even at low rates.
    var duplicateFirst = 10
    var duplicateEvery = 200
    /// Fault `command-events`: after the `commandFirst`-th placed order, then every `commandEvery`-th,
    /// order-service also publishes a command-named event (0.4/s at 20 orders/s), never two within
    /// `commandMinGapMillis`.
    var commandFirst = 5
    var commandEvery = 50
    var commandMinGapMillis: Int64 = 1_000
    /// Fault `schema-drift`: share of InventoryReserved records written as schema-version 2.
    var schemaDriftShare = 0.2
    /// Fault `fat-events`: the first fat OrderPlaced is due this many seconds after the first order,
    /// later ones 20–30 s apart; each value is at least `fatEventBytes` long.
    var fatFirstAfterSeconds = 8.0
    var fatPeriodSeconds = 20.0...30.0
    var fatEventBytes = 160_000

    static let standard = DemoTuning()
}
