import EmbeddedStore
import EventModel
import Foundation
import Redrive
import XCTest

/// The redrive engine against real SQLite files: a store (the broker) and a journal.
final class RedriveEngineTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-redrive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func path(_ name: String) -> String { dir.appendingPathComponent(name).path }

    /// Big-endian bytes, as Spring writes partition and offset headers.
    func be<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    /// A store with `orders` (3 partitions) and `orders.DLT` holding `count` Spring-style dead letters,
    /// each with a key, a value, an application header and the DLT headers.
    func seededStore(count: Int, dltPartitions: Int32 = 2) async throws -> SQLiteLog {
        let log = try SQLiteLog(path: path("store.db"))
        try await log.createTopic("orders", partitions: 3)
        try await log.createTopic("orders.DLT", partitions: dltPartitions)
        var batch: [OutgoingRecord] = []
        for i in 0..<count {
            typealias S = DeadLetterHeaderNames.Spring
            let headers = [
                RecordHeader("trace-parent", "00-\(i)-01"),
                RecordHeader(name: S.originalTopic, value: Array("orders".utf8)),
                RecordHeader(name: S.originalPartition, value: be(Int32(i % 3))),
                RecordHeader(name: S.originalOffset, value: be(Int64(i))),
                RecordHeader(S.exceptionFQCN, "java.lang.IllegalStateException"),
                RecordHeader("correlation-id", "ord-\(i)"),
            ]
            batch.append(OutgoingRecord(topic: "orders.DLT", partition: Int32(i) % dltPartitions, timestampMillis: 1_700_000_000_000 + Int64(i),
                                        key: Array("key-\(i)".utf8), headers: headers, value: Array("{\"n\":\(i)}".utf8)))
            if batch.count == 1000 { try await log.produce(batch); batch.removeAll() }
        }
        if !batch.isEmpty { try await log.produce(batch) }
        return log
    }

    func allPositions(_ log: SQLiteLog, topic: String) async throws -> [RecordPosition] {
        let info = try await log.watermarks(topic: topic)
        return info.partitions.flatMap { p in (p.low..<p.high).map { RecordPosition(topic: topic, partition: p.partition, offset: $0) } }
    }

    func readAll(_ log: SQLiteLog, topic: String) async throws -> [Record] {
        var out: [Record] = []
        for p in try await log.watermarks(topic: topic).partitions {
            for try await batch in PartitionReader(log: log, topic: topic, partition: p.partition, from: p.low, to: p.high, batchSize: 5000) {
                out += batch
            }
        }
        return out
    }

    /// Redrive ids found in a topic, with how many times each appears.
    func redriveCounts(_ log: SQLiteLog, topic: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for r in try await readAll(log, topic: topic) {
            if let id = RedriveRules.carriedRedriveID(r) { counts[id, default: 0] += 1 }
        }
        return counts
    }

    /// Each letter's position and, keyed by it, its timestamp (as the UI and CLI ask for letters).
    func positionsAndTimestamps(_ letters: [Record]) -> ([RecordPosition], [RecordPosition: Int64]) {
        let positions = letters.map { RecordPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset) }
        return (positions, Dictionary(uniqueKeysWithValues: zip(positions, letters.map(\.timestampMillis))))
    }

    func request(_ positions: [RecordPosition], to target: String? = nil, rate: Double? = nil, dryRun: Bool = false) -> RedriveRequest {
        RedriveRequest(sourceTopic: "orders.DLT", positions: positions, targetOverride: target, ratePerSecond: rate,
                       dryRun: dryRun, selectionDescription: "test", user: "tester")
    }

    func testTenThousandDeadLettersLandExactlyOnceWithKeyValueAndHeadersIntact() async throws {
        let log = try await seededStore(count: 10_000)
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let positions = try await allPositions(log, topic: "orders.DLT")
        XCTAssertEqual(positions.count, 10_000)
        let letters = try await readAll(log, topic: "orders.DLT")
        var asShown = request(positions)  // as the dashboard and the CLI ask: with each letter's timestamp
        asShown.timestamps = positionsAndTimestamps(letters).1
        let report = try await engine.run(asShown)
        XCTAssertEqual(report.moved, 10_000)
        XCTAssertEqual(report.failed, 0)
        XCTAssertEqual(report.targets, ["orders": 10_000])

        let landed = try await readAll(log, topic: "orders")
        XCTAssertEqual(landed.count, 10_000)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 10_000)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 1 })
        let dlq = Dictionary(uniqueKeysWithValues: letters.map { (RedriveRules.redriveID(RecordPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset), timestampMillis: $0.timestampMillis), $0) })
        // Counted by the letter each copy came from too, not only by id.
        XCTAssertEqual(Set(landed.compactMap { $0.header("evtop-redriven-from")?.utf8Value }).count, 10_000)
        for r in landed {
            let id = try XCTUnwrap(RedriveRules.carriedRedriveID(r))
            let original = try XCTUnwrap(dlq[id])
            XCTAssertEqual(r.key, original.key)
            XCTAssertEqual(r.value, original.value)
            XCTAssertEqual(r.timestampMillis, original.timestampMillis)
            // Non-DLT headers kept in order; DLT headers gone; evtop's headers added.
            XCTAssertEqual(r.headers.filter { !$0.name.hasPrefix("evtop-") }, original.headers.filter { !$0.name.hasPrefix("kafka_dlt-") })
            XCTAssertEqual(r.header("evtop-redriven-from")?.utf8Value, "orders.DLT/\(original.partition)/\(original.offset)")
            // Back to the original partition.
            let letter = DeadLetterParser.parse(original)
            XCTAssertEqual(r.partition, letter.originalPartition)
        }
        let counts2 = try journal.counts(report.jobID)
        XCTAssertEqual(counts2[.done], 10_000)
        let audit = try XCTUnwrap(journal.jobs(limit: 1).first)
        XCTAssertEqual(audit.state, "completed")
        XCTAssertEqual(audit.moved, 10_000)
        XCTAssertEqual(audit.user, "tester")
    }

    func testRepeatingARedriveMovesNothingTwice() async throws {
        let log = try await seededStore(count: 50)
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))
        let positions = try await allPositions(log, topic: "orders.DLT")
        _ = try await engine.run(request(Array(positions.prefix(20))))
        let second = try await engine.run(request(positions))
        XCTAssertEqual(second.skipped, 20)
        XCTAssertEqual(second.moved, 30)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 50)
        XCTAssertEqual(Set(counts.values), [1])
    }

    func testASkippedLetterStaysOnTheDLQAndNoRequeueMovesItUntilUnskipped() async throws {
        let log = try await seededStore(count: 30)
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let letters = try await readAll(log, topic: "orders.DLT")
        let (positions, stamps) = positionsAndTimestamps(letters)
        let skipped = Array(positions.prefix(5))
        // Two of the five are requeued first: a skip leaves them as they are.
        var first = request(Array(skipped.prefix(2)))
        first.timestamps = stamps
        _ = try await engine.run(first)
        XCTAssertEqual(try engine.skip(topic: "orders.DLT", positions: skipped, timestamps: stamps, selection: "5 marked", user: "tester", undo: false), 3)
        let states = try journal.states(topic: "orders.DLT", positions: skipped.map { ($0.partition, $0.offset, stamps[$0]) })
        XCTAssertEqual(states.values.filter { $0 == .skipped }.count, 3)
        XCTAssertEqual(states.values.filter { $0 == .done }.count, 2)
        // A requeue of everything moves the other 25 and never the skipped three; they stay on the DLQ.
        var all = request(positions)
        all.timestamps = stamps
        let report = try await engine.run(all)
        XCTAssertEqual(report.moved, 25)
        XCTAssertEqual(report.skipped, 5)
        let stillOnDLQ = try await readAll(log, topic: "orders.DLT")
        XCTAssertEqual(stillOnDLQ.count, 30)
        let skippedIDs = Set(skipped.dropFirst(2).map { RedriveRules.redriveID($0, timestampMillis: stamps[$0]) })
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 27)
        XCTAssertTrue(skippedIDs.isDisjoint(with: counts.keys))
        // The audit trail names the skip, completed, with what it set aside.
        let skipJob = try XCTUnwrap(journal.jobs(limit: 10).first { $0.kind == RedriveRequest.skipKind })
        XCTAssertEqual(skipJob.state, "completed")
        XCTAssertEqual(skipJob.selected, 5)
        XCTAssertEqual(skipJob.skipped, 2)
        XCTAssertTrue(try journal.unfinishedJobs(source: nil).isEmpty, "a skip leaves nothing for a resume to move")
        // Un-skipped, they move on the next requeue, once.
        XCTAssertEqual(try engine.skip(topic: "orders.DLT", positions: skipped, timestamps: stamps, selection: "5 marked", user: "tester", undo: true), 3)
        let again = try await engine.run(all)
        XCTAssertEqual(again.moved, 3)
        let after = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(after.count, 30)
        XCTAssertEqual(Set(after.values), [1])
    }

    func testANewLetterAtARequeuedLettersPositionIsNotTakenForIt() async throws {
        // A DLQ topic purged by deleting and recreating it puts new letters at old offsets: the
        // letter's timestamp in its redrive id keeps the journal from calling them requeued.
        let log = try await seededStore(count: 10)
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let (positions, shown) = positionsAndTimestamps(try await readAll(log, topic: "orders.DLT"))
        var asShown = request(positions)
        asShown.timestamps = shown
        let first = try await engine.run(asShown)
        XCTAssertEqual(first.moved, 10)
        let again = try await engine.run(asShown)
        XCTAssertEqual(again.skipped, 10, "the same letters are already requeued")

        // The same positions with other timestamps: other letters, not requeued yet...
        let other = shown.mapValues { $0 + 1 }
        let states = try journal.states(topic: "orders.DLT", positions: positions.map { ($0.partition, $0.offset, other[$0]) })
        XCTAssertTrue(states.isEmpty, "\(states)")
        let seen = try journal.states(topic: "orders.DLT", positions: positions.map { ($0.partition, $0.offset, shown[$0]) })
        XCTAssertEqual(Set(seen.values), [.done])
        // ...and a job for them does not move the record that is really there in their place.
        var changed = request(positions)
        changed.timestamps = other
        let refused = try await engine.run(changed)
        XCTAssertEqual(refused.skipped, 0)
        XCTAssertEqual(refused.moved, 0)
        XCTAssertEqual(refused.failed, 10)
        XCTAssertTrue(refused.failures.first?.reason.contains("deleted and recreated") ?? false, "\(refused.failures)")
        let dry = try await engine.run({ var r = changed; r.dryRun = true; return r }())
        XCTAssertEqual(dry.moved, 0)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 10)
        XCTAssertEqual(Set(counts.values), [1], "nothing moved twice")
    }

    func testEntriesFromBeforeIdsCarriedTimestampsStillCount() async throws {
        // A journal written by an evtop whose ids were `topic/partition/offset` (a request without
        // timestamps still makes those): its letters are not requeued again under the new ids.
        let log = try await seededStore(count: 12)
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let (positions, shown) = positionsAndTimestamps(try await readAll(log, topic: "orders.DLT"))
        let old = try await engine.run(request(Array(positions.prefix(5))))
        XCTAssertEqual(old.moved, 5)
        var now = request(positions)
        now.timestamps = shown
        let states = try journal.states(topic: "orders.DLT", positions: positions.map { ($0.partition, $0.offset, now.timestamps[$0]) })
        XCTAssertEqual(states.count, 5)
        let report = try await engine.run(now)
        XCTAssertEqual(report.skipped, 5)
        XCTAssertEqual(report.moved, 7)
        // Counted by the letter each copy came from, not by id: every letter exactly once.
        var bySource: [String: Int] = [:]
        for r in try await readAll(log, topic: "orders") {
            if let from = r.header("evtop-redriven-from")?.utf8Value { bySource[from, default: 0] += 1 }
        }
        XCTAssertEqual(bySource.count, 12)
        XCTAssertEqual(Set(bySource.values), [1])
    }

    func testCancelKeepsWhatMovedAndGivesTheRestBack() async throws {
        let log = try await seededStore(count: 2_000)
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let positions = try await allPositions(log, topic: "orders.DLT")
        let batches = Counter()
        let report = try await engine.run(request(positions), progress: { _ in batches.increment() },
                                          isCancelled: { batches.value >= 2 })
        XCTAssertTrue(report.cancelled)
        XCTAssertEqual(report.moved, 2 * RedriveEngine.maxBatch)
        let landed = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(landed.count, report.moved)
        XCTAssertEqual(try journal.jobs(limit: 1).first?.state, "cancelled")

        // The rest can be redriven later, exactly once overall.
        let rest = try await engine.run(request(positions))
        XCTAssertEqual(rest.skipped, report.moved)
        XCTAssertEqual(rest.moved, 2_000 - report.moved)
        let all = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(all.count, 2_000)
        XCTAssertEqual(Set(all.values), [1])
    }

    func testDryRunWritesNothing() async throws {
        let log = try await seededStore(count: 30)
        let journalPath = path("journal.db")
        let engine = RedriveEngine(log: log, journal: nil)
        let positions = try await allPositions(log, topic: "orders.DLT")
        let before = try await log.snapshot().topics
        let report = try await engine.run(request(positions, dryRun: true))
        XCTAssertTrue(report.dryRun)
        XCTAssertEqual(report.moved, 30)
        XCTAssertEqual(report.targets, ["orders": 30])
        let after = try await log.snapshot().topics
        XCTAssertEqual(before, after)
        XCTAssertFalse(FileManager.default.fileExists(atPath: journalPath))
        // A dry run with a missing override target says so for every letter.
        let bad = try await engine.run(request(positions, to: "nope", dryRun: true))
        XCTAssertEqual(bad.moved, 0)
        XCTAssertEqual(bad.failed, 30)
        XCTAssertTrue(bad.failures.first?.reason.contains("'nope' does not exist") ?? false)
    }

    func testLettersWithoutAnOriginalTopicFailClearlyAndOthersStillMove() async throws {
        let log = try await seededStore(count: 10)
        try await log.produce([OutgoingRecord(topic: "orders.DLT", partition: 0, timestampMillis: 1, key: nil,
                                              headers: [RecordHeader("x", "y")], value: Array("orphan".utf8))])
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))
        let report = try await engine.run(request(try await allPositions(log, topic: "orders.DLT")))
        XCTAssertEqual(report.moved, 10)
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.failures.first?.reason.contains("no original topic") ?? false)
        // A target override moves it.
        let again = try await engine.run(request(try await allPositions(log, topic: "orders.DLT"), to: "orders"))
        XCTAssertEqual(again.moved, 1)
        XCTAssertEqual(again.skipped, 10)
    }

    func testTargetOverrideAndRateLimitStillExactlyOnce() async throws {
        let log = try await seededStore(count: 40)
        try await log.createTopic("orders-retry", partitions: 5)
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))
        let report = try await engine.run(request(try await allPositions(log, topic: "orders.DLT"), to: "orders-retry", rate: 400))
        XCTAssertEqual(report.moved, 40)
        XCTAssertEqual(report.targets, ["orders-retry": 40])
        let counts = try await redriveCounts(log, topic: "orders-retry")
        XCTAssertEqual(counts.count, 40)
        let untouched = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(untouched.count, 0)
    }

    /// A crash between produce and "done": the intent is resolved by finding the id in the target.
    func testAJobStartedUnderAnotherSpellingIsResumedFromTheSourcesOwnJournal() async throws {
        // A Kafka journal is named after the cluster: a job started as kafka://b,a is this cluster's
        // job when evtop next runs as kafka://a. A journal chosen by hand may be shared: there, only
        // the same source's jobs are resumed.
        let log = try await seededStore(count: 20)
        let journal = try RedriveJournal(path: path("journal.db"))
        let positions = try await allPositions(log, topic: "orders.DLT")
        let job = RedriveJobRecord(id: "rd-elsewhere", kind: "redrive", source: "kafka://b:9092,a:9092", sourceTopic: "orders.DLT",
                                   selection: "all", targetOverride: nil, ratePerSecond: nil, user: "u",
                                   host: ProcessInfo.processInfo.hostName, createdAtMillis: 1, finishedAtMillis: nil,
                                   state: "running", selected: 20, moved: 0, skipped: 0, failed: 0)
        _ = try journal.createJob(job, items: positions.map { (RedriveRules.redriveID($0), $0) }, pid: try deadProcessID())
        let shared = try await RedriveEngine(log: log, journal: journal, ownsJournal: false).resumeInterrupted()
        XCTAssertTrue(shared.isEmpty, "another source's job in a shared journal")
        // Meanwhile its letters are taken by nobody else: no second copy.
        let meanwhile = try await RedriveEngine(log: log, journal: journal).run(request(positions))
        XCTAssertEqual(meanwhile.moved, 0)
        XCTAssertEqual(meanwhile.skipped, 20)
        let own = try await RedriveEngine(log: log, journal: journal, ownsJournal: true).resumeInterrupted()
        XCTAssertEqual(own.map(\.jobID), ["rd-elsewhere"])
        XCTAssertEqual(own.first?.moved, 20)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 20)
        XCTAssertEqual(Set(counts.values), [1])
    }

    func testAPositionOnlyRequestFindsLettersMovedUnderTimestampedIds() async throws {
        let log = try await seededStore(count: 6)
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))
        let (positions, shown) = positionsAndTimestamps(try await readAll(log, topic: "orders.DLT"))
        var stamped = request(positions)
        stamped.timestamps = shown
        let first = try await engine.run(stamped)
        XCTAssertEqual(first.moved, 6)
        let plain = try await engine.run(request(positions))
        XCTAssertEqual(plain.moved, 0)
        XCTAssertEqual(plain.skipped, 6)
    }

    func testResumeResolvesIntentsByLookingInTheTarget() async throws {
        let log = try await seededStore(count: 100)
        let journal = try RedriveJournal(path: path("journal.db"))
        let positions = try await allPositions(log, topic: "orders.DLT")
        let deadPID = try deadProcessID()
        let job = RedriveJobRecord(id: "rd-crashed", kind: "redrive", source: log.sourceDescription, sourceTopic: "orders.DLT",
                                   selection: "all", targetOverride: nil, ratePerSecond: nil, user: "u",
                                   host: ProcessInfo.processInfo.hostName, createdAtMillis: 1, finishedAtMillis: nil,
                                   state: "running", selected: 100, moved: 0, skipped: 0, failed: 0)
        _ = try journal.createJob(job, items: positions.map { (RedriveRules.redriveID($0), $0) }, pid: deadPID)
        // The dead process wrote intents for the first 60 and produced only the first 40 of them.
        let first = Array(positions.prefix(60))
        let highs = try await log.watermarks(topic: "orders")
        let records = try await readAll(log, topic: "orders.DLT")
        let byPosition = Dictionary(uniqueKeysWithValues: records.map { (RecordPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset), $0) })
        var intents: [RedriveJournal.Intent] = []
        var produced: [OutgoingRecord] = []
        for (i, p) in first.enumerated() {
            let r = try XCTUnwrap(byPosition[p])
            let letter = DeadLetterParser.parse(r)
            let partition = try XCTUnwrap(letter.originalPartition)
            intents.append(.init(redriveID: RedriveRules.redriveID(p), topic: "orders", partition: partition,
                                 searchFrom: highs.partitions[Int(partition)].high))
            if i < 40 {
                produced.append(RedriveRules.outgoing(from: r, topic: "orders", partition: partition, redriveID: RedriveRules.redriveID(p), nowMillis: 5))
            }
        }
        _ = try journal.recordIntents(intents, jobID: "rd-crashed", nowMillis: 2)
        try await log.produce(produced)

        let engine = RedriveEngine(log: log, journal: journal)
        let reports = try await engine.resumeInterrupted()
        XCTAssertEqual(reports.map(\.jobID), ["rd-crashed"])
        XCTAssertEqual(reports.first?.moved, 100)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 100)
        XCTAssertEqual(Set(counts.values), [1])
        XCTAssertEqual(try journal.job("rd-crashed")?.state, "completed")
        // Nothing is left to resume.
        let again = try await engine.resumeInterrupted()
        XCTAssertTrue(again.isEmpty)
    }

    func testAJobWhoseOwnerHoldsItsLockIsNeverAdoptedHoweverStaleItLooks() async throws {
        let log = try await seededStore(count: 5)
        let journal = try RedriveJournal(path: path("journal.db"))
        let positions = try await allPositions(log, topic: "orders.DLT")
        // An owner whose heartbeat is ancient and whose pid is gone, but which holds the lock:
        // a produce stalled for minutes looks exactly like this.
        let owner = try XCTUnwrap(JobLock.tryAcquire(journalPath: journal.path, jobID: "rd-live"))
        let job = RedriveJobRecord(id: "rd-live", kind: "redrive", source: log.sourceDescription, sourceTopic: "orders.DLT", selection: "all",
                                   targetOverride: nil, ratePerSecond: nil, user: "u", host: "elsewhere",
                                   createdAtMillis: 1, finishedAtMillis: nil,
                                   state: "running", selected: 5, moved: 0, skipped: 0, failed: 0)
        _ = try journal.createJob(job, items: positions.map { (RedriveRules.redriveID($0), $0) }, pid: try deadProcessID())
        let engine = RedriveEngine(log: log, journal: journal)
        let reports = try await engine.resumeInterrupted()
        XCTAssertTrue(reports.isEmpty)
        let untouched = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(untouched.count, 0)
        // Once the owner is gone (its lock released), the job is finished, exactly once.
        withExtendedLifetime(owner) {}
        _ = consume owner
        let later = try await engine.resumeInterrupted()
        XCTAssertEqual(later.first?.moved, 5)
        let counts = try await redriveCounts(log, topic: "orders")
        XCTAssertEqual(counts.count, 5)
        XCTAssertEqual(Set(counts.values), [1])
    }

    /// A record the broker refuses for good fails alone; the rest of its batch still moves, the
    /// job completes, and a later job may try the failed one again.
    func testARefusedRecordFailsAloneAndTheJobCompletes() async throws {
        let store = try await seededStore(count: 20)
        let log = FlakyLog(store, lostAcks: [], failedFetches: [], refusedKey: "key-7")
        let journal = try RedriveJournal(path: path("journal.db"))
        let engine = RedriveEngine(log: log, journal: journal)
        let report = try await engine.run(request(try await allPositions(store, topic: "orders.DLT")))
        XCTAssertEqual(report.moved, 19)
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.failures.first?.reason.contains("refused") ?? false, "\(report.failures)")
        XCTAssertEqual(try journal.job(report.jobID)?.state, "completed")
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, 19)
        XCTAssertEqual(Set(counts.values), [1])
        // Nothing is left hanging for a resume, and the failed letter may be selected again.
        let resumed = try await engine.resumeInterrupted()
        XCTAssertTrue(resumed.isEmpty)
        let again = try await RedriveEngine(log: store, journal: journal).run(request(try await allPositions(store, topic: "orders.DLT")))
        XCTAssertEqual(again.moved, 1)
        XCTAssertEqual(again.skipped, 19)
    }

    func testReplayCopiesExactlyTheRangeAskedAndMayRepeat() async throws {
        let log = try SQLiteLog(path: path("store.db"))
        try await log.createTopic("events", partitions: 2)
        try await log.createTopic("events-copy", partitions: 2)
        for p in Int32(0)..<2 {
            try await log.produce((0..<100).map { i in
                OutgoingRecord(topic: "events", partition: p, timestampMillis: Int64(i), key: Array("k\(i)".utf8),
                               headers: [RecordHeader("h", "\(i)")], value: Array("v\(p)-\(i)".utf8))
            })
        }
        let range = (10..<35).map { RecordPosition(topic: "events", partition: 1, offset: Int64($0)) }
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))
        let req = RedriveRequest(kind: .replay, sourceTopic: "events", positions: range, targetOverride: "events-copy",
                                 selectionDescription: "p1 10..<35", user: "u")
        let report = try await engine.run(req)
        XCTAssertEqual(report.moved, 25)
        let copied = try await readAll(log, topic: "events-copy")
        XCTAssertEqual(copied.count, 25)
        XCTAssertEqual(Set(copied.map(\.partition)), [1])
        XCTAssertEqual(copied.compactMap { $0.value.flatMap { String(bytes: $0, encoding: .utf8) } }.sorted(),
                       (10..<35).map { "v1-\($0)" }.sorted())
        XCTAssertTrue(copied.allSatisfy { $0.header("h") != nil })
        // A replay may be repeated on purpose: a second job copies the range again.
        let second = try await engine.run(req)
        XCTAssertEqual(second.moved, 25)
        let twice = try await readAll(log, topic: "events-copy")
        XCTAssertEqual(twice.count, 50)
    }

    /// Lost acknowledgements and a broker outage: produces that land but report failure, fetches
    /// that fail. The engine waits, resolves by searching the target, and moves each letter once.
    func testLostAcksAndOutagesStillExactlyOnce() async throws {
        let store = try await seededStore(count: 2_000)
        let log = FlakyLog(store, lostAcks: [1, 3, 4], failedFetches: [2, 5])
        let quick = RedriveClock(now: { Date().timeIntervalSince1970 }, sleep: { _ in await Task.yield() })
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")), clock: quick)
        let waits = Counter()
        let report = try await engine.run(request(try await allPositions(store, topic: "orders.DLT")),
                                          progress: { if $0.waiting != nil { waits.increment() } })
        XCTAssertEqual(report.moved, 2_000)
        XCTAssertGreaterThan(waits.value, 0, "the outage showed as waiting")
        let counts = try await redriveCounts(store, topic: "orders")
        XCTAssertEqual(counts.count, 2_000)
        XCTAssertEqual(Set(counts.values), [1])
    }

    func testRateLimiterPacesAndAllowsBursts() {
        var limiter = RateLimiter(ratePerSecond: 100)
        XCTAssertEqual(limiter.burst, 10)
        XCTAssertEqual(limiter.take(500, now: 0).granted, 10)
        let waiting = limiter.take(500, now: 0)
        XCTAssertEqual(waiting.granted, 0)
        XCTAssertEqual(waiting.waitSeconds, 0.01, accuracy: 1e-9)
        XCTAssertEqual(limiter.take(500, now: 0.05).granted, 5)
        XCTAssertEqual(limiter.take(500, now: 10).granted, 10) // never more than the burst
        var unlimited = RateLimiter(ratePerSecond: nil)
        XCTAssertEqual(unlimited.take(500, now: 0).granted, 500)
    }

    func testTargetPartitionRules() {
        XCTAssertEqual(RedriveRules.targetPartition(originalTopic: "a", originalPartition: 2, target: "a", key: nil, redriveID: "x", partitionCount: 3), 2)
        // An original partition the target no longer has falls back to the key hash.
        let byKey = RedriveRules.targetPartition(originalTopic: "a", originalPartition: 7, target: "a", key: [1, 2], redriveID: "x", partitionCount: 3)
        XCTAssertEqual(byKey, KeyPartitioner.partition(for: [1, 2], count: 3))
        XCTAssertEqual(RedriveRules.targetPartition(originalTopic: "a", originalPartition: 2, target: "b", key: nil, redriveID: "x", partitionCount: 4),
                       KeyPartitioner.partition(for: Array("x".utf8), count: 4))
    }

    func testJournalRefusesAForeignFile() throws {
        let p = path("foreign.db")
        try Data("definitely not sqlite, just bytes".utf8).write(to: URL(fileURLWithPath: p))
        XCTAssertThrowsError(try RedriveJournal(path: p)) { error in
            XCTAssertTrue("\(error)".contains("not a usable evtop redrive journal"), "\(error)")
        }
    }

    /// The pid of a process that has exited.
    func deadProcessID() throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/true")
        try p.run()
        p.waitUntilExit()
        return p.processIdentifier
    }

    // MARK: - One letter check for the dry run and the real run

    func testTheDryRunRefusesTheSameLettersForTheSameReasonsAsTheRealRun() async throws {
        let log = try await seededStore(count: 20, dltPartitions: 1)
        try await log.produce([OutgoingRecord(topic: "orders.DLT", partition: 0, timestampMillis: 1, key: nil,
                                              headers: [RecordHeader("x", "y")], value: Array("orphan".utf8))])
        var (positions, shown) = positionsAndTimestamps(try await readAll(log, topic: "orders.DLT"))
        try await log.deleteRecords(topic: "orders.DLT", partition: 0, before: 2)          // two gone by retention
        shown[positions[5]] = (shown[positions[5]] ?? 0) + 1                                 // one replaced since selected
        var real = request(positions)
        real.timestamps = shown
        var preview = real
        preview.dryRun = true
        let engine = RedriveEngine(log: log, journal: try RedriveJournal(path: path("journal.db")))

        let dry = try await engine.run(preview)
        let done = try await engine.run(real)
        XCTAssertEqual(dry.moved, 21 - 2 - 1 - 1)
        XCTAssertEqual(done.moved, dry.moved)
        XCTAssertEqual(done.failed, dry.failed)
        XCTAssertEqual(done.targets, dry.targets)
        XCTAssertEqual(Set(done.failures), Set(dry.failures), "the same letters, for the same reasons")
        let reasons = dry.failures.map(\.reason)
        XCTAssertEqual(reasons.filter { $0.contains("retention deleted it") }.count, 2, "\(reasons)")
        XCTAssertEqual(reasons.filter { $0.contains("deleted and recreated") }.count, 1, "\(reasons)")
        XCTAssertEqual(reasons.filter { $0.contains("no original topic") }.count, 1, "\(reasons)")
    }

    func testADryRunOverAReadBehindTheWatermarkSaysTheBrokerIsUnavailableInsteadOfCallingLettersGone() async throws {
        let store = try await seededStore(count: 10, dltPartitions: 1)
        let log = ShortReadLog(store)
        let engine = RedriveEngine(log: log, journal: nil)
        var preview = request(try await allPositions(store, topic: "orders.DLT"))
        preview.dryRun = true
        do {
            let report = try await engine.run(preview)
            XCTFail("a short read was reported as \(report.failures)")
        } catch BrokerError.unavailable(let why) {
            XCTAssertTrue(why.contains("could not read orders.DLT"), why)
        }
    }
}

/// A store whose reads see only each partition's first `visible` records although its watermarks count
/// them all, as a Kafka fetch can lag the high watermark a snapshot reported.
final class ShortReadLog: LogReader, LogWriter {
    let inner: SQLiteLog
    let visible: Int64
    init(_ inner: SQLiteLog, visible: Int64 = 3) {
        self.inner = inner
        self.visible = visible
    }
    var sourceDescription: String { inner.sourceDescription }
    var producesIdempotently: Bool { true }
    func snapshot() async throws -> BrokerSnapshot { try await inner.snapshot() }
    func watermarks(topic: String) async throws -> TopicInfo { try await inner.watermarks(topic: topic) }
    func identity() async -> SourceIdentity? { await inner.identity() }
    func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] { try await inner.produce(records) }
    func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        let wanted = Int(max(0, min(Int64(maxRecords), visible - offset)))
        guard wanted > 0 else { return ([], offset) }
        return try await inner.read(topic: topic, partition: partition, from: offset, maxRecords: wanted)
    }
}

/// A thread-safe counter for progress callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// A real store behind a door that sometimes closes: produce calls in `lostAcks` are written and
/// then reported as failed (an acknowledgement lost on the way back); fetch calls in
/// `failedFetches` fail before reading. Counts start at 0.
final class FlakyLog: LogReader, LogWriter, DemoSetup, @unchecked Sendable {
    let inner: SQLiteLog
    let lostAcks: Set<Int>
    let failedFetches: Set<Int>
    let refusedKey: String?
    private let lock = NSLock()
    private var produces = 0
    private var fetches = 0

    init(_ inner: SQLiteLog, lostAcks: Set<Int>, failedFetches: Set<Int>, refusedKey: String? = nil) {
        self.inner = inner
        self.refusedKey = refusedKey
        self.lostAcks = lostAcks
        self.failedFetches = failedFetches
    }

    private func next(_ counter: ReferenceWritableKeyPath<FlakyLog, Int>) -> Int {
        lock.lock(); defer { lock.unlock() }
        let n = self[keyPath: counter]
        self[keyPath: counter] = n + 1
        return n
    }

    var sourceDescription: String { inner.sourceDescription }
    func snapshot() async throws -> BrokerSnapshot { try await inner.snapshot() }
    func createTopic(_ name: String, partitions: Int32) async throws { try await inner.createTopic(name, partitions: partitions) }
    func produce(_ records: [OutgoingRecord]) async throws -> [RecordPosition] {
        let n = next(\.produces)
        if let refusedKey, records.contains(where: { $0.key == Array(refusedKey.utf8) }) {
            throw BrokerError.writeRefused("MSG_SIZE_TOO_LARGE (injected)")
        }
        let positions = try await inner.produce(records)
        if lostAcks.contains(n) { throw BrokerError.unavailable("acknowledgement lost (injected)") }
        return positions
    }
    func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        if failedFetches.contains(next(\.fetches)) { throw BrokerError.unavailable("fetch failed (injected)") }
        return try await inner.read(topic: topic, partition: partition, from: offset, maxRecords: maxRecords)
    }
    var producesIdempotently: Bool { true }
    func identity() async -> SourceIdentity? { await inner.identity() }
    func commit(group: String, member: String, offsets: [TopicPartition: Int64]) async throws {
        try await inner.commit(group: group, member: member, offsets: offsets)
    }
    func watermarks(topic: String) async throws -> TopicInfo { try await inner.watermarks(topic: topic) }
}
