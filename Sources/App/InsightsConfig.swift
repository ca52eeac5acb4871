import Foundation
import Yams
import EventModel

extension ConfigParser {
    /// A context's `insights:` section: thresholds, `disable: [rule, …]` and
    /// `suppress: [{rule: R, topic: GLOB}, …]` (docs/insights.md), with the file and line in every error.
    static func insightSettings(_ node: Node, _ file: String) throws -> InsightSettings {
        guard let map = node.mapping else { throw ConfigError(file: file, line: line(node), problem: "'insights' must be a mapping") }
        var s = InsightSettings()
        let rules = InsightRule.allCases.map(\.rawValue).joined(separator: ", ")
        func rule(_ n: Node) throws -> InsightRule {
            let id = try string(n, "rule", file)
            guard let r = InsightRule(id: id) else { throw ConfigError(file: file, line: line(n), problem: "unknown insights rule '\(id)' (rules: \(rules))") }
            return r
        }
        func number(_ n: Node, _ key: String, atLeast low: Double, atMost high: Double = .infinity) throws -> Double {
            let text = try string(n, key, file)
            guard let v = Double(text), v.isFinite, v >= low, v <= high else {
                // Plain digits: the message must not depend on the locale.
                func plain(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
                let range = high.isInfinite ? "a number ≥ \(plain(low))" : "a number from \(plain(low)) to \(plain(high))"
                throw ConfigError(file: file, line: line(n), problem: "'\(key)' must be \(range), not '\(text)'")
            }
            return v
        }
        for (k, v) in map {
            guard let key = k.string else { continue }
            switch key {
            case "fat-event-bytes": s.fatEventBytes = Int(try number(v, key, atLeast: 1, atMost: 1e12))
            case "hot-partition-factor": s.hotPartitionFactor = try number(v, key, atLeast: 1)
            case "hot-partition-min-rate": s.hotPartitionMinRate = try number(v, key, atLeast: 0)
            case "retention-risk-seconds": s.retentionRiskSeconds = try number(v, key, atLeast: 0)
            case "abandoned-after-seconds": s.abandonedAfterSeconds = try number(v, key, atLeast: 0)
            case "stagnant-dlq-seconds": s.stagnantDLQSeconds = try number(v, key, atLeast: 0)
            case "failing-saga-share": s.failingSagaShare = try number(v, key, atLeast: 0, atMost: 1)
            case "missing-identity-share": s.missingIdentityShare = try number(v, key, atLeast: 0, atMost: 1)
            case "minimum-sample": s.minimumSample = Int(try number(v, key, atLeast: 1, atMost: 1e9))
            case "disable":
                guard let seq = v.sequence else { throw ConfigError(file: file, line: line(v), problem: "'disable' must be a list of rules (\(rules))") }
                s.disabled = Set(try seq.map(rule))
            case "suppress":
                guard let seq = v.sequence else { throw ConfigError(file: file, line: line(v), problem: "'suppress' must be a list of {rule: R, topic: GLOB}") }
                for item in seq {
                    guard let m = item.mapping else { throw ConfigError(file: file, line: line(item), problem: "each 'suppress' entry is a mapping: {rule: R, topic: GLOB}") }
                    var suppression = InsightSuppression(rule: nil, pattern: nil)
                    for (ik, iv) in m {
                        switch ik.string ?? "" {
                        case "rule": suppression.rule = try rule(iv)
                        case "topic", "subject", "where": suppression.pattern = try string(iv, "topic", file)
                        default: throw ConfigError(file: file, line: line(ik), problem: "unknown key '\(ik.string ?? "?")' in a suppression (expected rule, topic)")
                        }
                    }
                    guard suppression.rule != nil || suppression.pattern != nil else {
                        throw ConfigError(file: file, line: line(item), problem: "a suppression needs a rule, a topic, or both")
                    }
                    s.suppressions.append(suppression)
                }
            default:
                throw ConfigError(file: file, line: line(k), problem: "unknown key '\(key)' in insights (expected fat-event-bytes, hot-partition-factor, hot-partition-min-rate, retention-risk-seconds, abandoned-after-seconds, stagnant-dlq-seconds, failing-saga-share, missing-identity-share, minimum-sample, disable, suppress)")
            }
        }
        return s
    }
}
