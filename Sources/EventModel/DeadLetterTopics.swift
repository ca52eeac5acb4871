/// Decides which topics are dead-letter queues: by configurable glob patterns, and by the
/// headers their records carry (topics found by probing, see `DeadLetterParser.hasDeadLetterHeaders`).
public struct DeadLetterTopics: Sendable, Hashable {
    /// The patterns evtop uses when none are configured.
    public static let defaultPatterns = ["*.DLT", "*.DLQ", "*-dlt", "*-dlq", "dlq.*", "*.dead-letter"]

    /// Glob patterns: `*` matches any run of characters, matched case-sensitively.
    public var patterns: [String] {
        didSet { compiled = patterns.map { Array($0.unicodeScalars) } }
    }
    /// Patterns split into scalars once, not on every match (this runs per topic per tick).
    private var compiled: [[Unicode.Scalar]]
    /// Topics whose names match no pattern but whose records carry Spring or Connect dead-letter headers.
    public var detectedByHeaders: Set<String> = []
    /// Topics the broker's own configuration makes dead-letter queues (``BrokerSnapshot/deadLetterTopics``).
    public var declaredByBroker: Set<String> = []

    /// Creates a matcher.
    public init(patterns: [String] = DeadLetterTopics.defaultPatterns) {
        self.patterns = patterns
        self.compiled = patterns.map { Array($0.unicodeScalars) }
    }

    /// True when `topic` matches any pattern, was found by its headers or is one by the broker's configuration.
    public func isDeadLetterTopic(_ topic: String) -> Bool {
        matchesPattern(topic) || detectedByHeaders.contains(topic) || declaredByBroker.contains(topic)
    }

    /// True when `topic` matches any pattern.
    public func matchesPattern(_ topic: String) -> Bool {
        let text = Array(topic.unicodeScalars)
        return compiled.contains { Glob.matches(pattern: $0, text: text) }
    }
}

/// Minimal glob matching (`*` and `?`), iterative with backtracking: no regex compile per call.
public enum Glob {
    /// True when `text` matches `pattern`.
    public static func matches(pattern: String, text: String) -> Bool {
        matches(pattern: Array(pattern.unicodeScalars), text: Array(text.unicodeScalars))
    }

    /// True when `t` matches `p`, both as scalars.
    public static func matches(pattern p: [Unicode.Scalar], text t: [Unicode.Scalar]) -> Bool {
        var pi = 0, ti = 0
        var star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1; ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi; mark = ti; pi += 1
            } else if star >= 0 {
                pi = star + 1; mark += 1; ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
