/// Decides which topics are dead-letter queues, by configurable glob patterns.
public struct DeadLetterTopics: Sendable, Hashable {
    /// The patterns evtop uses when none are configured.
    public static let defaultPatterns = ["*.DLT", "*.DLQ", "*-dlt", "*-dlq", "dlq.*", "*.dead-letter"]

    /// Glob patterns: `*` matches any run of characters, matched case-sensitively.
    public var patterns: [String]

    /// Creates a matcher.
    public init(patterns: [String] = DeadLetterTopics.defaultPatterns) {
        self.patterns = patterns
    }

    /// True when `topic` matches any pattern.
    public func isDeadLetterTopic(_ topic: String) -> Bool {
        patterns.contains { Glob.matches(pattern: $0, text: topic) }
    }
}

/// Minimal glob matching (`*` and `?`), iterative with backtracking: no regex compile per call.
public enum Glob {
    /// True when `text` matches `pattern`.
    public static func matches(pattern: String, text: String) -> Bool {
        let p = Array(pattern.unicodeScalars), t = Array(text.unicodeScalars)
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
