import EventModel
import Foundation
import GRDB

/// One letter of a queue redrive job as the journal keeps it.
public struct QueueJobItem: Sendable, Hashable {
    /// The redrive id the copy carries (`JOB/SEQ`).
    public var redriveID: String
    /// Selection order.
    public var seq: Int64
    /// The letter's content fingerprint (how it is recognised when taken from the DLQ).
    public var fingerprint: String
    /// queued → in flight (published, confirm not recorded: in doubt if the run stops here) → done, or failed.
    public var state: RedriveItemState
    /// For a done letter: whether its DLQ copy is known to be acknowledged.
    public var acknowledged: Bool
}

/// The journal's side of queue redrive (RabbitMQ): a letter has no position to search afterwards, so its
/// entry holds its fingerprint, and the DLQ copy is acknowledged only after the publish is confirmed.
/// Entries use partition -1: no position lookup of the DLQ view (browse ordinals) ever matches them.
extension RedriveJournal {
    /// The partition queue entries are filed under: never a readable one.
    static let queuePartition: Int32 = -1

    /// Records a queue job and its letters (redrive id, fingerprint) in selection order, in one transaction.
    public func createQueueJob(_ job: RedriveJobRecord, items: [(redriveID: String, fingerprint: String)], pid: Int32) throws {
        try file.write { db in
            try db.execute(sql: """
                INSERT INTO jobs(id, kind, source, source_topic, selection, target_override, rate, user, host,
                                 owner_pid, heartbeat_at, created_at, state, selected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)
                """, arguments: [job.id, job.kind, job.source, job.sourceTopic, job.selection, job.targetOverride,
                                 job.ratePerSecond, job.user, job.host, pid, job.createdAtMillis, job.createdAtMillis, items.count])
            let insert = try db.cachedStatement(sql: """
                INSERT INTO items(redrive_id, job_id, seq, src_topic, src_partition, src_offset, state, fingerprint, updated_at)
                VALUES (?, ?, ?, ?, \(Self.queuePartition), ?, 'queued', ?, ?)
                """)
            for (seq, item) in items.enumerated() {
                try insert.execute(arguments: [item.redriveID, job.id, seq, job.sourceTopic, seq, item.fingerprint, job.createdAtMillis])
            }
        }
    }

    /// Every letter of a queue job, in selection order.
    public func queueItems(_ jobID: String) throws -> [QueueJobItem] {
        try file.read { db in
            try Row.fetchAll(db, sql: """
                SELECT redrive_id, seq, fingerprint, state, dlq_acked FROM items WHERE job_id = ? ORDER BY seq
                """, arguments: [jobID]).map { row in
                func v<T: DatabaseValueConvertible>(_ index: Int) throws -> T { try row.value(at: index, of: path) }
                let state: String = try v(3)
                let acked: Int? = try v(4)
                return QueueJobItem(redriveID: try v(0), seq: try v(1), fingerprint: try v(2) as String? ?? "",
                                    state: RedriveItemState(rawValue: state) ?? .failed, acknowledged: acked == 1)
            }
        }
    }

    /// Before publishing: each letter moves to in flight with its target; one already in flight (its
    /// earlier publish unconfirmed) is marked as sent again after doubt. Returns the ids recorded.
    public func recordQueueIntents(_ intents: [(redriveID: String, target: String)], jobID: String, nowMillis: Int64) throws -> Set<String> {
        try file.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE items SET in_doubt = CASE WHEN state = 'intent' THEN 1 ELSE in_doubt END,
                    state = 'intent', target_topic = ?, updated_at = ?
                WHERE redrive_id = ? AND job_id = ? AND state IN ('queued', 'intent')
                """)
            var written: Set<String> = []
            for i in intents {
                try update.execute(arguments: [i.target, nowMillis, i.redriveID, jobID])
                if db.changesCount > 0 { written.insert(i.redriveID) }
            }
            return written
        }
    }

    /// After the confirms: done, the DLQ copy not yet known to be acknowledged.
    public func markQueueConfirmed(_ ids: [String], nowMillis: Int64) throws {
        try file.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE items SET state = 'done', dlq_acked = 0, updated_at = ? WHERE redrive_id = ? AND state = 'intent'
                """)
            for id in ids { try update.execute(arguments: [nowMillis, id]) }
        }
    }

    /// Acknowledgements sent before a later synchronous answer on the same channel were processed:
    /// every done letter of the job whose ack was sent (`ids`) is now known to be gone from the DLQ.
    public func markQueueAcknowledged(_ ids: [String], nowMillis: Int64) throws {
        guard !ids.isEmpty else { return }
        try file.write { db in
            let update = try db.cachedStatement(sql: "UPDATE items SET dlq_acked = 1, updated_at = ? WHERE redrive_id = ? AND state = 'done'")
            for id in ids { try update.execute(arguments: [nowMillis, id]) }
        }
    }

    /// At the end of a walk through the whole DLQ: letters never found. A queued one was taken by another
    /// consumer or expired (failed, never sent); one in flight was published once and is not sent again
    /// (failed, in doubt); a done one whose ack was unproven was acknowledged after all.
    public func resolveUnfound(_ jobID: String, nowMillis: Int64) throws {
        try file.write { db in
            try db.execute(sql: """
                UPDATE items SET state = 'failed', updated_at = ?,
                    detail = 'not in the DLQ any more: another consumer took it, or it expired; it was not sent'
                WHERE job_id = ? AND state = 'queued'
                """, arguments: [nowMillis, jobID])
            try db.execute(sql: """
                UPDATE items SET state = 'failed', in_doubt = 1, updated_at = ?,
                    detail = 'in doubt: published once without a confirm, and no longer in the DLQ, so not sent again'
                WHERE job_id = ? AND state = 'intent'
                """, arguments: [nowMillis, jobID])
            try db.execute(sql: "UPDATE items SET dlq_acked = 1, updated_at = ? WHERE job_id = ? AND state = 'done' AND dlq_acked = 0",
                           arguments: [nowMillis, jobID])
        }
    }

    /// Letters of a job that were in doubt at some point (sent again, or given up as in doubt).
    public func inDoubtCount(_ jobID: String) throws -> Int {
        try file.read { db in
            let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
            guard version >= 2 else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM items WHERE job_id = ? AND in_doubt = 1", arguments: [jobID]) ?? 0
        }
    }
}
