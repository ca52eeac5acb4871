import Foundation

/// One correlation ID as the span store summarises it: what the sagas list needs to place a saga known
/// from spans (with or without records) by its newest activity.
public struct SpanCorrelationSummary: Sendable, Hashable, Codable {
    /// The correlation ID (a span's `messaging.message.conversation_id`).
    public var correlationID: String
    /// Start of its newest span, ns since the Unix epoch.
    public var lastStartUnixNano: UInt64
    /// Spans stored under it.
    public var spans: Int

    /// Creates a summary.
    public init(correlationID: String, lastStartUnixNano: UInt64, spans: Int) {
        self.correlationID = correlationID
        self.lastStartUnixNano = lastStartUnixNano
        self.spans = spans
    }
}

/// A trace store that can list the correlation IDs its spans carry, newest first: how a saga known only
/// from spans reaches the sagas list. A capability of its own, so stores that cannot answer it cheaply
/// (the in-memory store of tests and demos) are not made to pretend.
public protocol SpanCorrelationListing: Sendable {
    /// Correlation IDs by their newest span's start, newest first, at most `limit`; bounded by `limit`
    /// however many spans are stored.
    func recentSpanCorrelations(limit: Int) async throws -> [SpanCorrelationSummary]
}
