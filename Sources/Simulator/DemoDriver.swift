import Foundation
import EventModel

/// A demo system the app runs: the log driver (`DemoSystem`, on a log with consumer groups) or the queue
/// driver (`QueueDemoSystem`, on exchanges and queues). Both run the same services with the same rules,
/// traffic and episodes; they differ in how messages travel.
public protocol DemoDriver: Actor {
    /// The configuration the system was created with.
    nonisolated var config: DemoConfig { get }
    /// Counters of what the demo has done so far.
    var stats: DemoStats { get }
    /// True once `setUp()` has run.
    var isSetUp: Bool { get }
    /// Creates what the demo needs on the source (topics, or exchanges and queues) and attaches its consumers.
    func setUp() async throws
    /// Does all the work due between the previous call and `now`, in 100 ms steps. The first call only
    /// fixes the origin of simulated time; after a long pause the older part is skipped.
    func advance(to now: Date) async throws
    /// Sends the services' OpenTelemetry spans to `sink`, once per step.
    func setSpanSink(_ sink: DemoSpanSink?)
    /// Lets go of what the system holds on the source when a run ends (the queue driver's consumers, whose
    /// unacknowledged messages go back to their queues). The default does nothing.
    func finish() async
}

extension DemoDriver {
    /// Runs in real time: `advance(to: Date())` every `tick` until `deadline`, until
    /// `config.duration` has elapsed, or until the task is cancelled (then it returns normally).
    /// Calls `setUp()` first when it has not run.
    public func run(until deadline: Date? = nil, tick: Duration = .milliseconds(100)) async throws {
        if !isSetUp { try await setUp() }
        do {
            try await runSteps(until: deadline, tick: tick)
        } catch {
            await finish()
            throw error
        }
        await finish()
    }

    /// Nothing to let go of.
    public func finish() async {}

    private func runSteps(until deadline: Date?, tick: Duration) async throws {
        let start = Date()
        var end = deadline
        if let duration = config.duration {
            let byDuration = start.addingTimeInterval(duration)
            end = min(end ?? byDuration, byDuration)
        }
        try await advance(to: start)
        while !Task.isCancelled {
            let now = Date()
            if let end, now >= end {
                try await advance(to: end)
                return
            }
            try await advance(to: now)
            do { try await Task.sleep(for: tick) } catch { return }
        }
    }
}

/// Simulated time of a driver: the origin (the first `advance`) and how far the steps have come.
struct DemoClock: Sendable {
    private(set) var originMillis: Int64?
    private(set) var lastMillis: Int64 = 0

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// The origin and where to resume to reach `nowMillis` (bounded by the schedule's catch-up), or nil
    /// when there is nothing to do: the first call fixes the origin, a time not after the last does nothing.
    mutating func begin(at nowMillis: Int64, schedule: DemoSchedule, stats: inout DemoStats) -> Int64? {
        guard let origin = originMillis else {
            originMillis = nowMillis
            lastMillis = nowMillis
            return nil
        }
        guard nowMillis > lastMillis else { return nil }
        let (resumeAt, skipped) = schedule.catchUp(last: lastMillis, now: nowMillis)
        stats.skippedSeconds += Double(skipped) / 1000
        lastMillis = resumeAt
        return origin
    }

    /// A step up to `millis` is done.
    mutating func stepped(to millis: Int64, stats: inout DemoStats) {
        lastMillis = millis
        if let origin = originMillis { stats.simulatedSeconds = Double(millis - origin) / 1000 }
    }
}

extension DemoStats {
    /// Counts records published by the services (not dead letters) per event type.
    mutating func countPublished(_ records: [OutgoingRecord]) {
        eventsProduced += records.count
        for record in records {
            if let type = record.headers.last(where: { $0.name == DemoHeaders.eventType })?.utf8Value {
                eventsByType[type, default: 0] += 1
            }
        }
    }
}
