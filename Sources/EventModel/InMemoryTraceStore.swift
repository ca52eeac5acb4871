import Foundation

/// A `TraceStore` in memory (tests, demos without a store): spans keyed by trace and span id,
/// correlated by the given rules at insert, as the embedded store does.
public actor InMemoryTraceStore: TraceStore {
    private var spansByKey: [String: Span] = [:]
    private let rules: CorrelationRules

    /// Creates an empty store that correlates spans with `rules`.
    public init(rules: CorrelationRules = .default) {
        self.rules = rules
    }

    /// Stores spans, replacing any with the same trace and span id.
    @discardableResult
    public func insertSpans(_ spans: [Span]) async throws -> Int {
        for s in spans { spansByKey[s.traceID + "/" + s.spanID] = s }
        return spans.count
    }

    /// Spans whose correlation ID is `id` (directly or through a link to a correlated span), by start time.
    public func spans(correlationID id: String, limit: Int) async throws -> [Span] {
        let all = spansByKey
        let rules = self.rules
        let matching = all.values.filter { span in
            rules.correlationID(of: span) { link in
                all[link.traceID + "/" + link.spanID].flatMap { rules.correlationID(of: $0) }
            } == id
        }
        return Array(matching.sorted { ($0.startUnixNano, $0.spanID) < ($1.startUnixNano, $1.spanID) }.prefix(max(0, limit)))
    }

    /// All spans of one trace, by start time.
    public func spans(traceID: String) async throws -> [Span] {
        spansByKey.values.filter { $0.traceID == traceID }.sorted { ($0.startUnixNano, $0.spanID) < ($1.startUnixNano, $1.spanID) }
    }
}
