import EventModel
import Foundation
import GRDB
import SQLiteSupport

/// Errors of the redrive journal, worded for an operator.
public enum JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file exists but is not a redrive journal (or is damaged).
    case notAJournal(String, String)
    /// The journal could not be opened or written.
    case unavailable(String, String)

    /// One line for stderr and the status line.
    public var description: String {
        switch self {
        case .notAJournal(let path, let why): return "'\(path)' is not a usable evtop redrive journal: \(why)"
        case .unavailable(let path, let why): return "cannot use redrive journal '\(path)': \(why)"
        }
    }

    /// How the journal reports a SQLite failure: a damaged file is not a journal; anything else (a full
    /// disk, a file that can only be read, a lock held too long) leaves the journal unavailable, saying why.
    static func translate(_ failure: SQLiteFailure) -> any Error {
        switch failure {
        case .corrupt(let path, let detail): return JournalError.notAJournal(path, detail)
        default: return JournalError.unavailable(failure.path, failure.reason)
        }
    }
}

/// Where a job is: the `state` of ``RedriveJobRecord`` and of the journal's `jobs` table.
public enum RedriveJobState: String, Sendable, Hashable, CaseIterable {
    /// Started and not finished (its owner may be gone: see `JobLock`).
    case running
    /// Every message reached a final state (done or failed).
    case completed
    /// Stopped by the operator; its queued messages were given back.
    case cancelled
}

/// One job as the audit trail keeps it.
public struct RedriveJobRecord: Sendable, Hashable, Codable {
    /// Job id (time-ordered).
    public var id: String
    /// `redrive` or `replay`.
    public var kind: String
    /// The broker, without secrets.
    public var source: String
    /// The DLQ (or, for a replay, source) topic.
    public var sourceTopic: String
    /// What was selected, as the operator asked ("3 marked", "filter /Timeout/", "offsets 10..<20").
    public var selection: String
    /// The target override, if any.
    public var targetOverride: String?
    /// Rate limit, messages per second.
    public var ratePerSecond: Double?
    /// Who ran it (login name).
    public var user: String
    /// Where it ran.
    public var host: String
    /// When it started, ms since the epoch.
    public var createdAtMillis: Int64
    /// When it ended, ms since the epoch.
    public var finishedAtMillis: Int64?
    /// `running`, `completed`, `cancelled` (a ``RedriveJobState`` raw value).
    public var state: String
    /// Messages selected.
    public var selected: Int
    /// Messages that landed in the target.
    public var moved: Int
    /// Selected messages another job had already redriven (or was redriving).
    public var skipped: Int
    /// Messages that could not be redriven.
    public var failed: Int
    /// Messages that were in doubt at some point: published when the run stopped before the broker confirmed
    /// them, then sent again (a possible duplicate) or given up (filled in by `dlq jobs` for queue jobs; nil for log jobs, whose intents are resolved by searching the target).
    public var inDoubt: Int?

    /// Creates a job record.
    public init(id: String, kind: String, source: String, sourceTopic: String, selection: String, targetOverride: String?,
                ratePerSecond: Double?, user: String, host: String, createdAtMillis: Int64, finishedAtMillis: Int64?,
                state: String, selected: Int, moved: Int, skipped: Int, failed: Int) {
        self.id = id
        self.kind = kind
        self.source = source
        self.sourceTopic = sourceTopic
        self.selection = selection
        self.targetOverride = targetOverride
        self.ratePerSecond = ratePerSecond
        self.user = user
        self.host = host
        self.createdAtMillis = createdAtMillis
        self.finishedAtMillis = finishedAtMillis
        self.state = state
        self.selected = selected
        self.moved = moved
        self.skipped = skipped
        self.failed = failed
    }
}

/// One message of a job as the journal keeps it.
public struct JournalItem: Sendable, Hashable {
    /// The redrive id (DLQ position for redrive; job-scoped for replay).
    public var redriveID: String
    /// Order within the job.
    public var seq: Int64
    /// Where the message is read from.
    public var source: RecordPosition
    /// Journal state.
    public var state: RedriveItemState
    /// Target topic, once decided.
    public var targetTopic: String?
    /// Target partition, once decided.
    public var targetPartition: Int32?
    /// The target partition's high watermark when the intent was written: the message, if it
    /// landed, is at or after it.
    public var searchFrom: Int64?
}

/// The durable redrive journal (docs/redrive.md): one SQLite file (WAL), separate from the broker,
/// holding every job (the audit trail) and every selected message's state. A message moves
/// queued → intent (target and search offset recorded) → done (landed offset recorded).
public final class RedriveJournal: Sendable {
    /// The file's path.
    public let path: String
    /// The file (internal: tests reach its pool to fill the disk).
    let file: SQLiteFile
    static let applicationID: Int32 = 0x6576_7472 // "evtr"
    /// Version 2 adds what queue redrive needs: each letter's content fingerprint, whether its DLQ copy
    /// is known to be acknowledged, and whether it was ever in doubt.
    static let version = 2

    /// Opens the journal at `path`, creating it (and its folder) unless `readOnly`.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        let fm = FileManager.default
        if readOnly {
            guard fm.fileExists(atPath: path) else { throw JournalError.unavailable(path, "no such file") }
        } else {
            let dir = (path as NSString).deletingLastPathComponent
            if !dir.isEmpty { try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        }
        file = try SQLiteFile(path: path, options: .init(readOnly: readOnly, busyTimeout: 10, label: "evtop.journal"),
                              translate: JournalError.translate)
        if readOnly {
            try file.read { db in try Self.check(db, path: path) }
        } else {
            try file.write { db in try Self.createIfNeeded(db, path: path) }
        }
    }

    private static func check(_ db: Database, path: String) throws {
        let app = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        guard app == applicationID else { throw JournalError.notAJournal(path, "it belongs to another program") }
        guard version <= Self.version else {
            throw JournalError.notAJournal(path, "written by a newer evtop (journal version \(version))")
        }
    }

    private static func createIfNeeded(_ db: Database, path: String) throws {
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table'") ?? 0
        if tables > 0 {
            try check(db, path: path)
            if try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0 < 2 { try migrateToVersion2(db) }
            return
        }
        try db.execute(sql: """
            CREATE TABLE jobs(
                id TEXT PRIMARY KEY, kind TEXT NOT NULL, source TEXT NOT NULL, source_topic TEXT NOT NULL,
                selection TEXT NOT NULL, target_override TEXT, rate REAL, user TEXT NOT NULL, host TEXT NOT NULL,
                owner_pid INTEGER, heartbeat_at INTEGER, created_at INTEGER NOT NULL, finished_at INTEGER,
                state TEXT NOT NULL, selected INTEGER NOT NULL DEFAULT 0, moved INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE items(
                redrive_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, seq INTEGER NOT NULL,
                src_topic TEXT NOT NULL, src_partition INTEGER NOT NULL, src_offset INTEGER NOT NULL,
                state TEXT NOT NULL, target_topic TEXT, target_partition INTEGER, search_from INTEGER,
                landed_offset INTEGER, detail TEXT, updated_at INTEGER NOT NULL);
            CREATE INDEX items_by_job ON items(job_id, state, seq);
            CREATE INDEX items_by_source ON items(src_topic, src_partition, src_offset);
            PRAGMA application_id = \(applicationID);
            """)
        try migrateToVersion2(db)
    }

    private static func migrateToVersion2(_ db: Database) throws {
        try db.execute(sql: """
            ALTER TABLE items ADD COLUMN fingerprint TEXT;
            ALTER TABLE items ADD COLUMN dlq_acked INTEGER;
            ALTER TABLE items ADD COLUMN in_doubt INTEGER NOT NULL DEFAULT 0;
            PRAGMA user_version = 2;
            """)
    }

    /// SQL that is true for a job (aliased `j`) with work left: running, or with queued or in-flight items.
    private static let hasWorkLeft = """
        (j.state = \(RedriveJobState.running.sql)
           OR EXISTS (SELECT 1 FROM items i WHERE i.job_id = j.id AND i.state IN (\(RedriveItemState.inFlight.sql), \(RedriveItemState.queued.sql))))
        """

    // MARK: - Jobs

    /// What creating a job claimed.
    public struct Claim: Sendable, Hashable {
        /// Messages this job now owns.
        public var claimed: Int
        /// Messages already redriven, or owned by another job.
        public var skipped: Int
        /// Of `skipped`: messages owned by other jobs that are still running (moved or yet to move),
        /// by job id. The rest were redriven by jobs that have ended.
        public var skippedToRunning: [String: Int] = [:]
    }

    /// Records a job and claims its messages in one transaction. A message already done, or owned
    /// by another job, is not claimed; one that failed before is taken over.
    public func createJob(_ job: RedriveJobRecord, items: [(redriveID: String, source: RecordPosition)], pid: Int32) throws -> Claim {
        try file.write { db in try insertJob(db, job, items: items, pid: pid) }
    }

    /// Sets letters aside in one transaction: a `skip` job claims them as a requeue would (letters already
    /// requeued or held by a job are not claimed) and they go straight to ``RedriveItemState/skipped``, so no
    /// later requeue selects them. One transaction: a crash never leaves a job that a resume would redrive.
    public func skip(_ job: RedriveJobRecord, items: [(redriveID: String, source: RecordPosition)], nowMillis: Int64) throws -> Claim {
        try file.write { db in
            let claim = try insertJob(db, job, items: items, pid: 0)
            try db.execute(sql: "UPDATE items SET state = \(RedriveItemState.skipped.sql), updated_at = ? WHERE job_id = ? AND state = \(RedriveItemState.queued.sql)",
                           arguments: [nowMillis, job.id])
            try db.execute(sql: """
                UPDATE jobs SET state = \(RedriveJobState.completed.sql), finished_at = ?, owner_pid = NULL WHERE id = ?
                """, arguments: [nowMillis, job.id])
            return claim
        }
    }

    /// Gives skipped letters back (any job may select them again), recording an `unskip` job for the audit
    /// trail. Letters of `positions` that are not skipped are left as they are; returns how many came back.
    public func unskip(_ job: RedriveJobRecord, positions: [RecordPosition], nowMillis: Int64) throws -> Int {
        try file.write { db in
            let delete = try db.cachedStatement(sql: """
                DELETE FROM items WHERE src_topic = ? AND src_partition = ? AND src_offset = ? AND state = \(RedriveItemState.skipped.sql)
                """)
            var given = 0
            for p in positions {
                try delete.execute(arguments: [p.topic, p.partition, p.offset])
                given += db.changesCount
            }
            try db.execute(sql: """
                INSERT INTO jobs(id, kind, source, source_topic, selection, target_override, rate, user, host,
                                 created_at, finished_at, state, selected, moved)
                VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?, ?, \(RedriveJobState.completed.sql), ?, 0)
                """, arguments: [job.id, job.kind, job.source, job.sourceTopic, job.selection, job.user, job.host,
                                 nowMillis, nowMillis, positions.count])
            return given
        }
    }

    private func insertJob(_ db: Database, _ job: RedriveJobRecord, items: [(redriveID: String, source: RecordPosition)], pid: Int32) throws -> Claim {
        try db.execute(sql: """
            INSERT INTO jobs(id, kind, source, source_topic, selection, target_override, rate, user, host,
                             owner_pid, heartbeat_at, created_at, state, selected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(RedriveJobState.running.sql), ?)
            """, arguments: [job.id, job.kind, job.source, job.sourceTopic, job.selection, job.targetOverride,
                             job.ratePerSecond, job.user, job.host, pid, job.createdAtMillis, job.createdAtMillis, items.count])
        let insert = try db.cachedStatement(sql: """
            INSERT INTO items(redrive_id, job_id, seq, src_topic, src_partition, src_offset, state, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, \(RedriveItemState.queued.sql), ?)
            ON CONFLICT(redrive_id) DO UPDATE SET job_id = excluded.job_id, seq = excluded.seq, state = \(RedriveItemState.queued.sql),
                target_topic = NULL, target_partition = NULL, search_from = NULL, landed_offset = NULL,
                detail = NULL, updated_at = excluded.updated_at
            WHERE items.state = \(RedriveItemState.failed.sql)
            """)
        // Journals written before redrive ids carried the letter's timestamp hold `topic/partition/offset`:
        // such an entry stands for the letter at that position, whatever its timestamp.
        // And a request that names letters by position alone (no timestamps) finds any entry at that position.
        let legacy = try db.cachedStatement(sql: "SELECT state FROM items WHERE redrive_id = ?")
        let atPosition = try db.cachedStatement(sql: """
            SELECT redrive_id FROM items WHERE src_topic = ? AND src_partition = ? AND src_offset = ?
              AND state != \(RedriveItemState.failed.sql) AND redrive_id NOT LIKE 'replay:%' AND redrive_id != ? LIMIT 1
            """)
        // Who holds a skipped message, when that job is still running: a report must not call it "earlier".
        let runningOwner = try db.cachedStatement(sql: """
            SELECT j.id FROM items i JOIN jobs j ON j.id = i.job_id
            WHERE i.redrive_id = ? AND j.id != ? AND j.state = \(RedriveJobState.running.sql)
            """)
        let isReplay = job.kind == RedriveRequest.Kind.replay.rawValue
        var claimed = 0
        var skippedToRunning: [String: Int] = [:]
        func skip(heldAs redriveID: String) throws {
            if let owner = try String.fetchOne(runningOwner, arguments: [redriveID, job.id]) { skippedToRunning[owner, default: 0] += 1 }
        }
        for (seq, item) in items.enumerated() {
            let legacyID = RedriveRules.redriveID(item.source)
            if RedriveRules.timestamp(inRedriveID: item.redriveID) != nil,
               let state = try String.fetchOne(legacy, arguments: [legacyID]), state != RedriveItemState.failed.rawValue {
                try skip(heldAs: legacyID)
                continue
            }
            if !isReplay, RedriveRules.timestamp(inRedriveID: item.redriveID) == nil,
               let holder = try String.fetchOne(atPosition, arguments: [item.source.topic, item.source.partition, item.source.offset, item.redriveID]) {
                try skip(heldAs: holder)
                continue
            }
            try insert.execute(arguments: [item.redriveID, job.id, seq, item.source.topic, item.source.partition,
                                           item.source.offset, job.createdAtMillis])
            if db.changesCount > 0 { claimed += db.changesCount } else { try skip(heldAs: item.redriveID) }
        }
        let skipped = items.count - claimed
        try db.execute(sql: "UPDATE jobs SET skipped = ? WHERE id = ?", arguments: [skipped, job.id])
        return Claim(claimed: claimed, skipped: skipped, skippedToRunning: skippedToRunning)
    }

    /// Jobs with work left (running, or with queued or in-flight messages) on `source` (nil: any
    /// source), oldest first. Whether one is orphaned is decided by its owner lock (`JobLock`), not here.
    public func unfinishedJobs(source: String?) throws -> [RedriveJobRecord] {
        try file.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM jobs j
                WHERE (? IS NULL OR j.source = ?) AND \(Self.hasWorkLeft)
                ORDER BY created_at
                """, arguments: [source, source]).map(jobRecord)
        }
    }

    /// Records the new owner of a job whose lock it holds; returns the job as it is now, or nil
    /// when nothing is left to do (another process finished it meanwhile).
    public func adopt(_ jobID: String, pid: Int32, host: String, nowMillis: Int64) throws -> RedriveJobRecord? {
        let adopted = try file.write { db -> Bool in
            let pending = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM jobs j WHERE j.id = ? AND \(Self.hasWorkLeft)
                """, arguments: [jobID]) ?? 0
            guard pending > 0 else { return false }
            try db.execute(sql: "UPDATE jobs SET owner_pid = ?, host = ?, heartbeat_at = ? WHERE id = ?",
                           arguments: [pid, host, nowMillis, jobID])
            return true
        }
        return adopted ? try job(jobID) : nil
    }

    /// Marks the owner alive.
    public func heartbeat(_ jobID: String, nowMillis: Int64) throws {
        try file.write { db in try db.execute(sql: "UPDATE jobs SET heartbeat_at = ? WHERE id = ?", arguments: [nowMillis, jobID]) }
    }

    /// One job.
    public func job(_ id: String) throws -> RedriveJobRecord? {
        try file.read { db in try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(self.jobRecord) }
    }

    /// Takes in every job and message of `former`, another journal of the same source (one an older
    /// evtop kept beside a store file, under the path it was reached by). Jobs already here are kept; of two
    /// entries for one message the more final wins (done, then in flight, then queued, then failed), so a
    /// letter that either journal saw land is never moved again. Returns the jobs and messages taken in.
    @discardableResult
    public func absorb(_ former: RedriveJournal) throws -> (jobs: Int, items: Int) {
        // The columns of journal version 1, named rather than `*`: the former file is only trusted to be a journal.
        let jobColumns = ["id", "kind", "source", "source_topic", "selection", "target_override", "rate", "user", "host",
                          "owner_pid", "heartbeat_at", "created_at", "finished_at", "state", "selected", "moved", "skipped", "failed"]
        let itemColumns = ["redrive_id", "job_id", "seq", "src_topic", "src_partition", "src_offset", "state", "target_topic",
                           "target_partition", "search_from", "landed_offset", "detail", "updated_at"]
        let (jobs, items) = try former.file.read { db in
            (try Row.fetchAll(db, sql: "SELECT \(jobColumns.joined(separator: ", ")) FROM jobs"),
             try Row.fetchAll(db, sql: "SELECT \(itemColumns.joined(separator: ", ")) FROM items"))
        }
        let rank = { (column: String) in
            "CASE \(column) WHEN \(RedriveItemState.done.sql) THEN 3 WHEN \(RedriveItemState.inFlight.sql) THEN 2 "
                + "WHEN \(RedriveItemState.queued.sql) THEN 1 ELSE 0 END"
        }
        return try file.write { db in
            var takenJobs = 0, takenItems = 0
            for row in jobs {
                let columns = jobColumns
                try db.execute(sql: "INSERT OR IGNORE INTO jobs(\(columns.joined(separator: ", "))) VALUES (\(Self.placeholders(columns.count)))",
                               arguments: StatementArguments(row.databaseValues))
                takenJobs += db.changesCount
            }
            for row in items {
                let columns = itemColumns
                try db.execute(sql: """
                    INSERT INTO items(\(columns.joined(separator: ", "))) VALUES (\(Self.placeholders(columns.count)))
                    ON CONFLICT(redrive_id) DO UPDATE SET \(columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
                    WHERE \(rank("excluded.state")) > \(rank("items.state"))
                    """, arguments: StatementArguments(row.databaseValues))
                takenItems += db.changesCount
            }
            return (takenJobs, takenItems)
        }
    }

    /// Makes the journal at `path` from the `formers` that exist (journals an older evtop kept elsewhere for
    /// the same source), unless it exists already. Atomic and safe against a concurrent evtop doing the
    /// same: under an exclusive lock beside `path`, the formers are taken into a new file that is renamed
    /// to `path` only when complete, so a journal at `path` is never a partial one that would call letters
    /// pending. The formers are left as they are (they are no longer read). Returns whether it made one.
    @discardableResult
    public static func adopt(formers: [String], into path: String) throws -> Bool {
        let fm = FileManager.default
        let existing = formers.filter { fm.fileExists(atPath: $0) }
        guard !existing.isEmpty else { return false }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let lockFD = open(path + ".adopting", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw JournalError.unavailable(path, String(cString: strerror(errno))) }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX) == 0 else { throw JournalError.unavailable(path, String(cString: strerror(errno))) }
        defer { flock(lockFD, LOCK_UN) }
        guard !fm.fileExists(atPath: path) else { return false }
        let partial = path + ".partial"
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
        do {
            let journal = try RedriveJournal(path: partial)
            for former in existing { try journal.absorb(try RedriveJournal(path: former, readOnly: true)) }
            try journal.file.pool.close()
        }
        guard rename(partial, path) == 0 else { throw JournalError.unavailable(path, String(cString: strerror(errno))) }
        for suffix in ["-wal", "-shm"] { try? fm.removeItem(atPath: partial + suffix) }
        return true
    }

    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The newest `limit` jobs, newest first (the audit trail).
    public func jobs(limit: Int) throws -> [RedriveJobRecord] {
        try file.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT ?", arguments: [limit]).map(jobRecord)
        }
    }

    /// A `jobs` row; a value of the wrong type makes the file not a journal (never a crash).
    private func jobRecord(_ row: Row) throws -> RedriveJobRecord {
        func v<T: DatabaseValueConvertible>(_ column: String) throws -> T { try row.value(column, of: path) }
        return RedriveJobRecord(
            id: try v("id"), kind: try v("kind"), source: try v("source"), sourceTopic: try v("source_topic"),
            selection: try v("selection"), targetOverride: try v("target_override"), ratePerSecond: try v("rate"),
            user: try v("user"), host: try v("host"), createdAtMillis: try v("created_at"),
            finishedAtMillis: try v("finished_at"), state: try v("state"), selected: try v("selected"),
            moved: try v("moved"), skipped: try v("skipped"), failed: try v("failed"))
    }

    /// Ends a job. A cancelled job gives its queued messages back (they may be selected again);
    /// its intents stay until resolved. Counts are recomputed from the items.
    public func finish(_ jobID: String, cancelled: Bool, nowMillis: Int64) throws {
        try file.write { db in
            if cancelled {
                try db.execute(sql: "DELETE FROM items WHERE job_id = ? AND state = \(RedriveItemState.queued.sql)", arguments: [jobID])
            }
            let pending = try Int.fetchOne(db, sql: "SELECT count(*) FROM items WHERE job_id = ? AND state IN (\(RedriveItemState.queued.sql), \(RedriveItemState.inFlight.sql))",
                                           arguments: [jobID]) ?? 0
            let state: RedriveJobState = cancelled ? .cancelled : (pending == 0 ? .completed : .running)
            try db.execute(sql: """
                UPDATE jobs SET state = ?,
                    finished_at = ?,
                    moved = (SELECT count(*) FROM items WHERE job_id = jobs.id AND state = \(RedriveItemState.done.sql)),
                    failed = (SELECT count(*) FROM items WHERE job_id = jobs.id AND state = \(RedriveItemState.failed.sql)),
                    owner_pid = CASE WHEN ? THEN owner_pid ELSE NULL END
                WHERE id = ?
                """, arguments: [state.rawValue, state == .running ? nil : nowMillis, state == .running, jobID])
        }
    }

    // MARK: - Items

    /// Counts of a job's items by state.
    public func counts(_ jobID: String) throws -> [RedriveItemState: Int] {
        try file.read { db in
            var out: [RedriveItemState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) FROM items WHERE job_id = ? GROUP BY state", arguments: [jobID]) {
                if let s = RedriveItemState(rawValue: try row.value(at: 0, of: path)) { out[s] = try row.value(at: 1, of: path) }
            }
            return out
        }
    }

    /// The next `limit` queued items of a job, in selection order.
    public func queued(_ jobID: String, limit: Int) throws -> [JournalItem] {
        try items(jobID, state: .queued, limit: limit)
    }

    /// Every intent of a job (messages whose produce may or may not have landed).
    public func intents(_ jobID: String) throws -> [JournalItem] {
        try items(jobID, state: .inFlight, limit: Int.max)
    }

    private func items(_ jobID: String, state: RedriveItemState, limit: Int) throws -> [JournalItem] {
        try file.read { db in
            try Row.fetchAll(db, sql: """
                SELECT redrive_id, seq, src_topic, src_partition, src_offset, target_topic, target_partition, search_from
                FROM items WHERE job_id = ? AND state = ? ORDER BY seq LIMIT ?
                """, arguments: [jobID, state.rawValue, min(limit, Int(Int32.max))]).map { row in
                func v<T: DatabaseValueConvertible>(_ index: Int) throws -> T { try row.value(at: index, of: path) }
                return JournalItem(redriveID: try v(0), seq: try v(1),
                                   source: RecordPosition(topic: try v(2), partition: try v(3), offset: try v(4)),
                                   state: state, targetTopic: try v(5), targetPartition: try v(6), searchFrom: try v(7))
            }
        }
    }

    /// An intent: the item will be produced to `topic`/`partition`, whose high watermark is now `searchFrom`.
    public struct Intent: Sendable, Hashable {
        /// Redrive id.
        public var redriveID: String
        /// Target topic.
        public var topic: String
        /// Target partition.
        public var partition: Int32
        /// The target partition's high watermark read before producing.
        public var searchFrom: Int64

        /// Creates an intent.
        public init(redriveID: String, topic: String, partition: Int32, searchFrom: Int64) {
            self.redriveID = redriveID
            self.topic = topic
            self.partition = partition
            self.searchFrom = searchFrom
        }
    }

    /// Writes intents for a batch of `jobID`, durably, before it is produced. Only items still
    /// queued in that job move to intent; returns their ids (produce only those).
    public func recordIntents(_ intents: [Intent], jobID: String, nowMillis: Int64) throws -> Set<String> {
        try file.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE items SET state = \(RedriveItemState.inFlight.sql), target_topic = ?, target_partition = ?, search_from = ?, updated_at = ?
                WHERE redrive_id = ? AND job_id = ? AND state = \(RedriveItemState.queued.sql)
                """)
            var written: Set<String> = []
            for i in intents {
                try update.execute(arguments: [i.topic, i.partition, i.searchFrom, nowMillis, i.redriveID, jobID])
                if db.changesCount > 0 { written.insert(i.redriveID) }
            }
            return written
        }
    }

    /// Marks items done with where they landed.
    public func markDone(_ landed: [(redriveID: String, offset: Int64)], nowMillis: Int64) throws {
        try file.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE items SET state = \(RedriveItemState.done.sql), landed_offset = ?, updated_at = ? WHERE redrive_id = ? AND state = \(RedriveItemState.inFlight.sql)
                """)
            for l in landed { try update.execute(arguments: [l.offset, nowMillis, l.redriveID]) }
        }
    }

    /// Marks items failed with a reason.
    public func markFailed(_ failures: [(redriveID: String, reason: String)], nowMillis: Int64) throws {
        try file.write { db in
            let update = try db.cachedStatement(sql: "UPDATE items SET state = \(RedriveItemState.failed.sql), detail = ?, updated_at = ? WHERE redrive_id = ?")
            for f in failures { try update.execute(arguments: [f.reason, nowMillis, f.redriveID]) }
        }
    }

    /// Puts intents that were resolved as not landed back in the queue, to be produced again.
    public func requeue(_ ids: [String], nowMillis: Int64) throws {
        try file.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE items SET state = \(RedriveItemState.queued.sql), search_from = NULL, updated_at = ? WHERE redrive_id = ? AND state = \(RedriveItemState.inFlight.sql)
                """)
            for id in ids { try update.execute(arguments: [nowMillis, id]) }
        }
    }

    /// Drops intents resolved as not landed for a cancelled job (they may be selected again).
    public func forget(_ ids: [String]) throws {
        try file.write { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM items WHERE redrive_id = ? AND state = \(RedriveItemState.inFlight.sql)")
            for id in ids { try delete.execute(arguments: [id]) }
        }
    }

    /// Journal states of letters read from `topic`, for the given partitions, offsets and timestamps
    /// (what the DLQ view shows next to each loaded letter). An entry counts only for the letter whose
    /// redrive id it has: a new letter at the position of a requeued one (a recreated topic) is pending.
    public func states(topic: String, positions: [(partition: Int32, offset: Int64, timestampMillis: Int64?)]) throws -> [RecordPosition: RedriveItemState] {
        guard !positions.isEmpty else { return [:] }
        return try file.read { db in
            var out: [RecordPosition: RedriveItemState] = [:]
            let byPartition = Dictionary(grouping: positions, by: \.partition)
            for (partition, list) in byPartition {
                let offsets = list.map(\.offset)
                guard let lo = offsets.min(), let hi = offsets.max() else { continue }
                let rows = try Row.fetchAll(db, sql: """
                    SELECT src_offset, state, redrive_id FROM items
                    WHERE src_topic = ? AND src_partition = ? AND src_offset BETWEEN ? AND ? AND redrive_id NOT LIKE 'replay:%'
                    """, arguments: [topic, partition, lo, hi])
                let wanted = Dictionary(list.map { (RedriveRules.redriveID(RecordPosition(topic: topic, partition: partition, offset: $0.offset),
                                                                             timestampMillis: $0.timestampMillis), $0.offset) },
                                        uniquingKeysWith: { a, _ in a })
                // An entry from before ids carried timestamps (`topic/partition/offset`) stands for its position.
                let legacy = Dictionary(list.map { (RedriveRules.redriveID(RecordPosition(topic: topic, partition: partition, offset: $0.offset)), $0.offset) },
                                        uniquingKeysWith: { a, _ in a })
                for row in rows {
                    let id: String = try row.value(at: 2, of: path)
                    guard let s = RedriveItemState(rawValue: try row.value(at: 1, of: path)) else { continue }
                    if let offset = wanted[id] {
                        out[RecordPosition(topic: topic, partition: partition, offset: offset)] = s
                    } else if let offset = legacy[id] {
                        let position = RecordPosition(topic: topic, partition: partition, offset: offset)
                        if out[position] == nil { out[position] = s }
                    }
                }
            }
            return out
        }
    }
}

private extension RedriveItemState {
    /// The state as a SQL string literal (raw values are fixed identifiers, nothing to escape).
    var sql: String { "'\(rawValue)'" }
}

private extension RedriveJobState {
    /// The state as a SQL string literal (raw values are fixed identifiers, nothing to escape).
    var sql: String { "'\(rawValue)'" }
}
