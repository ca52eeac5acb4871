import Foundation
import Logging
import EventModel

/// How long and how many records a store's writer keeps (`--record-retention`, `--record-max`).
public enum RecordRetentionSetting {
    /// The policy for `--record-retention AGE|off` and `--record-max N|off`; throws a usage error otherwise.
    public static func policy(retention: String, max: String) throws -> RecordRetentionPolicy {
        var policy = RecordRetentionPolicy.off
        do {
            policy.maxAge = try SpanRetentionSetting.age(retention)
        } catch {
            throw UsageError("--record-retention takes an age such as 90s, 30m, 24h or 7d, or off; got '\(retention)'")
        }
        if max.lowercased() == "off" {
            policy.maxRecordsPerPartition = nil
        } else if let n = Int64(max.replacingOccurrences(of: "_", with: "")), n > 0 {
            policy.maxRecordsPerPartition = n
        } else {
            throw UsageError("--record-max takes a positive number of records (per partition) or off, got '\(max)'")
        }
        return policy
    }
}

/// Keeps a store's records within a retention policy while a writer runs: a pass at once, then one every
/// ``interval`` seconds, until stopped.
final class RecordRetentionRunner: Sendable {
    /// Seconds between passes.
    static let interval: TimeInterval = 10

    private let task: Task<Void, Never>?

    /// Starts passes over `target` (nothing when there is no target or the policy keeps everything).
    init(_ target: (any RecordRetention)?, policy: RecordRetentionPolicy, logger: Logger) {
        guard let target, policy.isOn else {
            task = nil
            final = nil
            return
        }
        final = {
            do { try await target.pruneRecords(policy, now: Date()) } catch { logger.warning("record retention failed: \(error)") }
        }
        task = Task.detached {
            while !Task.isCancelled {
                do {
                    let deleted = try await target.pruneRecords(policy, now: Date())
                    if deleted > 0 { logger.debug("record retention deleted \(deleted) records") }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("record retention failed: \(error)")
                }
                try? await Task.sleep(for: .seconds(Self.interval))
            }
        }
    }

    private let final: (@Sendable () async -> Void)?

    /// Stops the passes, waits for the one under way (a chunk in flight commits or rolls back whole), then
    /// makes a last one, so that a writer that ends leaves its store within the policy.
    func stop() async {
        task?.cancel()
        await task?.value
        await final?()
    }
}
