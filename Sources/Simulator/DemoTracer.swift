import EventModel

/// The spans of the demo's services, collected per step and handed to the sink at its end
/// (see `DemoSpans` for what each span holds). Off, it makes nothing.
struct DemoTracer: Sendable {
    let seed: UInt64
    /// Where spans go; nil: none are made.
    var sink: DemoSpanSink?
    /// The spans' `messaging.system`: `kafka` for the log driver, `rabbitmq` for the queue driver.
    var system = "kafka"
    private var stepSpans: [Span] = []
    private var spanCounter: UInt64 = 0

    init(seed: UInt64) {
        self.seed = seed
    }

    /// PRODUCER spans of records `service` publishes on its own (not while processing a record).
    mutating func published(_ records: [OutgoingRecord], by service: String) {
        guard sink != nil else { return }
        for record in records {
            if let span = DemoSpans.producer(record, service: service, parent: nil, seed: seed, system: system) { stepSpans.append(span) }
        }
    }

    /// A CONSUMER span for one processing attempt, and PRODUCER spans (its children) for what it publishes.
    mutating func processed(_ record: Record, by group: String, outcome: DemoOutcome, now: Int64) {
        guard sink != nil else { return }
        let failure: (type: String, message: String, stack: String)?
        switch outcome {
        case .ignored: return
        case .handled: failure = nil
        case .failed(let f): failure = (f.causeClass, f.message, f.stackTrace(service: group))
        }
        spanCounter &+= 1
        let spanID = Mix.hex(Mix.mix64(spanCounter &+ Mix.mix64(seed ^ 0xC0_45_0E_11)) | 1, width: 16)
        guard let consumer = DemoSpans.consumer(record, service: group, spanID: spanID, atMillis: now,
                                                failure: failure, seed: seed, system: system) else { return }
        stepSpans.append(consumer)
        if case .handled(let produced) = outcome {
            for (i, out) in produced.enumerated() {
                // A record written twice by a producer's own retry (the `duplicates` fault) was one send: one span.
                if i > 0, produced[i - 1] == out { continue }
                if let span = DemoSpans.producer(out, service: group, parent: spanID, seed: seed, system: system) { stepSpans.append(span) }
            }
        }
    }

    /// Hands the step's spans to the sink.
    mutating func flush() {
        if let sink, !stepSpans.isEmpty { sink(stepSpans) }
        stepSpans.removeAll(keepingCapacity: true)
    }

    /// Drops the step's spans (the step failed and will be redone).
    mutating func discard() {
        stepSpans.removeAll(keepingCapacity: true)
    }
}
