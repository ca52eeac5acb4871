import XCTest
import Foundation
import EventModel
import EmbeddedStore
import Redrive
import Dashboard
import TerminalUI
@testable import App
import Logging

/// A log whose `read` skips positions, as Kafka does at transaction markers: every third position is a
/// marker that takes an offset but holds no record.
actor GappyLog: LogReader {
    nonisolated let sourceDescription = "gappy:"
    /// Records at every position not divisible by 3, up to `high`.
    let high: Int64

    init(high: Int64) { self.high = high }

    func snapshot() async throws -> BrokerSnapshot {
        BrokerSnapshot(time: Date(), topics: [TopicInfo(name: "t", partitions: [PartitionWatermarks(partition: 0, low: 0, high: high)])], groups: [])
    }

    func read(topic: String, partition: Int32, from position: LogPosition, maxRecords: Int) async throws -> (records: [Record], next: LogPosition) {
        var records: [Record] = []
        var next = position
        while next < high, records.count < maxRecords {
            if next % 3 != 0 {
                records.append(Record(topic: topic, partition: partition, offset: next, timestampMillis: next, key: nil,
                                      headers: [], value: Array("{\"n\":\(next)}".utf8)))
            }
            next += 1
        }
        return (records, next)
    }

    nonisolated func identity() async -> SourceIdentity? { nil }
}

final class SourceRegistryTests: XCTestCase {
    func testSchemesPickTheirBackendAndNormalise() throws {
        let store = try SourceRegistry.parse("sqlite:///tmp/x.db")
        XCTAssertEqual(store.scheme, "sqlite")
        XCTAssertEqual(store.target, "/tmp/x.db")
        XCTAssertEqual(store.text, "sqlite:/tmp/x.db")
        let kafka = try SourceRegistry.parse("kafka://a:9092,b:9093")
        XCTAssertEqual(kafka.target, "a:9092,b:9093")
        XCTAssertEqual(kafka.text, "kafka://a:9092,b:9093")
    }

    func testBrokenURLsSayWhatIsWrong() {
        func reason(_ text: String) -> String {
            do { _ = try SourceRegistry.parse(text); return "accepted" } catch { return String(describing: error) }
        }
        XCTAssertTrue(reason("kafka://").contains("no bootstrap servers"), reason("kafka://"))
        XCTAssertTrue(reason("kafka://host").contains("is not host:port"), reason("kafka://host"))
        XCTAssertTrue(reason("kafka://h:99999").contains("is not host:port"))
        XCTAssertTrue(reason("sqlite:").contains("no file path"))
        XCTAssertTrue(reason("/tmp/x.db").contains("no scheme"))
        XCTAssertTrue(reason("localhost:9092").contains("kafka://localhost:9092"), reason("localhost:9092"))
        XCTAssertTrue(reason("nats://h:4222").contains("unknown scheme 'nats'"), reason("nats://h:4222"))
    }

    func testAStoreOpenedReadOnlyOffersNoWriteCapabilities() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-reg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = SourceRegistry.embeddedStore(path: dir.appendingPathComponent("s.db").path)
        XCTAssertThrowsError(try SourceRegistry.open(url, settings: SourceSettings(readOnly: false, create: false)),
                             "a missing store is not created unless asked")
        let writable = try SourceRegistry.open(url, settings: SourceSettings(readOnly: false, create: true))
        XCTAssertNotNil(writable.writable)
        XCTAssertNotNil(writable.demo)
        XCTAssertNotNil(writable.spanStore)
        XCTAssertNotNil(writable.traces)
        let readOnly = try SourceRegistry.open(url, settings: SourceSettings(readOnly: true))
        XCTAssertNil(readOnly.writable)
        XCTAssertNil(readOnly.demo)
        XCTAssertNil(readOnly.spanStore)
        XCTAssertNotNil(readOnly.traces, "spans can still be read")
    }

    /// Only the dashboard creates the default store: a command that reads (or requeues) says there is none.
    func testCommandsNeverCreateTheDefaultStore() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-default-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let saved = ProcessInfo.processInfo.environment["XDG_DATA_HOME"]
        setenv("XDG_DATA_HOME", dir.path, 1)
        defer { if let saved { setenv("XDG_DATA_HOME", saved, 1) } else { unsetenv("XDG_DATA_HOME") } }
        let resolved = try SourceSelection(config: dir.appendingPathComponent("none.yaml").path).resolve()
        XCTAssertTrue(resolved.isDefault)
        XCTAssertThrowsError(try resolved.open(readOnly: false)) {
            XCTAssertTrue(String(describing: $0).contains("no evtop store at"), "\($0)")
        }
        XCTAssertThrowsError(try resolved.open(readOnly: true))
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("evtop/evtop.db").path))
        _ = try resolved.open(create: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("evtop/evtop.db").path))
    }

    func testSelectionMergesContextPropertiesAndRejectsBadOnes() throws {
        XCTAssertEqual(try SourceSelection.properties(["a=1", "b = x=y"]), ["a": "1", "b": " x=y"])
        XCTAssertThrowsError(try SourceSelection.properties(["novalue"])) { XCTAssertTrue($0 is UsageError) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("config.yaml").path
        try """
        default-context: prod
        contexts:
          prod:
            broker: kafka://k1:9092
            properties: { security.protocol: SASL_SSL, client.id: ctx }
            groups: [billing]
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let resolved = try SourceSelection(config: config, properties: ["client.id=cli"], groups: ["extra"]).resolve()
        XCTAssertEqual(resolved.url.text, "kafka://k1:9092")
        XCTAssertEqual(resolved.settings.properties, ["security.protocol": "SASL_SSL", "client.id": "cli"], "-X wins over the context")
        XCTAssertEqual(resolved.settings.groups, ["billing", "extra"])
        XCTAssertFalse(resolved.isDefault)
    }
}

final class SourceFilesTests: XCTestCase {
    func testJournalAndIndexFollowTheIdentityNotTheSpelling() throws {
        XCTAssertTrue(try SourceFiles.journalPath(of: SourceIdentity(stem: "sqlite-1234", storeFile: "/d/x.db"))
            .hasSuffix("/redrive/sqlite-1234.journal"), "a store's journal is named after its id, not its path")
        let kafka = SourceIdentity(stem: "kafka-Abc/1 2")
        XCTAssertEqual(kafka.stem, "kafka-Abc_1_2", "unsafe characters never reach a file name")
        XCTAssertTrue(try SourceFiles.journalPath(of: kafka).hasSuffix("/redrive/kafka-Abc_1_2.journal"))
        XCTAssertTrue(SourceFiles.indexPath(of: kafka).hasSuffix("/index/kafka-Abc_1_2.sqlite"))
    }

    func testASourceWithoutIdentityGetsNoGuessedJournal() async {
        do {
            _ = try await SourceFiles.journalPath(of: GappyLog(high: 3))
            XCTFail("no identity, no journal")
        } catch {
            XCTAssertTrue(String(describing: error).contains("did not say its identity"), "\(error)")
        }
    }
}

final class LoaderTests: XCTestCase {
    var dir: URL!
    var store: SQLiteLog!

    override func setUp() async throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-loaders-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SQLiteLog(path: dir.appendingPathComponent("s.db").path)
        try await store.createTopic("orders", partitions: 2)
        try await store.createTopic("orders.DLT", partitions: 1)
        try await store.createTopic("quiet", partitions: 1)
        var letters: [OutgoingRecord] = []
        for i in 0..<12 {
            letters.append(OutgoingRecord(topic: "orders.DLT", partition: 0, timestampMillis: 1_000 + Int64(i), key: Array("k\(i)".utf8), headers: [
                RecordHeader("kafka_dlt-original-topic", "orders"),
                RecordHeader("kafka_dlt-original-partition", String(i % 2)),
                RecordHeader("kafka_dlt-original-offset", String(i)),
                RecordHeader("kafka_dlt-exception-fqcn", i % 3 == 0 ? "java.lang.IllegalStateException" : "com.acme.PaymentDeclined"),
                RecordHeader("correlation-id", "ord-\(i)"),
            ], value: Array("{\"orderId\":\"ord-\(i)\"}".utf8)))
        }
        try await store.produce(letters)
        try await store.produce([OutgoingRecord(topic: "quiet", partition: 0, timestampMillis: 5, value: Array("x".utf8))])
    }

    override func tearDown() async throws {
        store = nil
        try? FileManager.default.removeItem(at: dir)
    }

    func testDeadLettersLoadNewestFirstWithinTheLimit() async throws {
        let info = try await store.watermarks(topic: "orders.DLT")
        let letters = try await DeadLetterLoader.load(log: store, topic: info, limit: 5)
        XCTAssertEqual(letters.map(\.record.offset), [11, 10, 9, 8, 7])
        XCTAssertEqual(letters.first?.originalTopic, "orders")
    }

    func testProbeFindsDeadLetterHeadersOnlyWhereTheyAre() async throws {
        let snapshot = try await store.snapshot()
        let found = await DeadLetterLoader.probe(log: store, topics: snapshot.topics)
        XCTAssertEqual(found, ["orders.DLT"])
    }

    func testSelectionTakesOldestMatchingAndSkipsWhatTheJournalMoved() async throws {
        let all = try await DeadLetterSelection.select(log: store, topic: "orders.DLT", filter: "", max: nil, journal: nil)
        XCTAssertEqual(all.map(\.position.offset), Array(0..<12))
        let declined = try await DeadLetterSelection.select(log: store, topic: "orders.DLT", filter: "PaymentDeclined", max: 3, journal: nil)
        XCTAssertEqual(declined.map(\.position.offset), [1, 2, 4])
        // Requeue the first two through the engine; a new selection skips them.
        let journalPath = dir.appendingPathComponent("s.db.redrive").path
        let engine = RedriveEngine(log: store, journal: try RedriveJournal(path: journalPath), ownsJournal: true)
        let request = RedriveRequest(kind: .redrive, sourceTopic: "orders.DLT", positions: Array(all.prefix(2).map(\.position)),
                                     targetOverride: nil, ratePerSecond: nil, dryRun: false, selectionDescription: "test", user: "t")
        let report = try await engine.run(request, progress: { _ in }, isCancelled: { false })
        XCTAssertEqual(report.moved, 2)
        let rest = try await DeadLetterSelection.select(log: store, topic: "orders.DLT", filter: "", max: nil,
                                                        journal: try RedriveJournal(path: journalPath, readOnly: true))
        XCTAssertEqual(rest.map(\.position.offset), Array(2..<12))
    }

    func testSelectionOfAMissingTopicSaysSo() async {
        do {
            _ = try await DeadLetterSelection.select(log: store, topic: "nope", filter: "", max: nil, journal: nil)
            XCTFail("a missing topic is an error")
        } catch {
            XCTAssertTrue(String(describing: error).contains("no topic named nope"), "\(error)")
        }
    }

    /// The saga loader keeps its index inside a writable store, scans a read-only one, and says which.
    func testSagaLoaderUsesTheIndexOrSaysWhyItScans() async throws {
        let assembler = try SagaSetup.assembler(context: nil, configPath: nil)
        let writable = try SourceRegistry.open(SourceRegistry.embeddedStore(path: store.path), settings: SourceSettings(readOnly: false))
        let indexed = await SagaLoader.make(writable, readOnly: false, assembler: assembler)
        XCTAssertNotNil(indexed.index)
        try await indexed.catchUpFully()
        XCTAssertEqual(indexed.note, "index")
        let viaIndex = try await indexed.timeline(id: "ord-4", now: Date())
        XCTAssertEqual(viaIndex.items.compactMap { $0.record?.offset }, [4])

        let readOnly = try SourceRegistry.open(SourceRegistry.embeddedStore(path: store.path), settings: SourceSettings(readOnly: true))
        let scanning = await SagaLoader.make(readOnly, readOnly: true, assembler: assembler)
        XCTAssertNil(scanning.index)
        XCTAssertTrue(scanning.note.hasPrefix("read-only: newest"), scanning.note)
        let viaScan = try await scanning.timeline(id: "ord-4", now: Date())
        XCTAssertEqual(viaScan.items.compactMap { $0.record?.offset }, [4], "the scan finds what the index finds")

        let anonymous = await SagaLoader.make(OpenedSource(reader: GappyLog(high: 3), writable: nil, demo: nil, traces: nil, spanStore: nil),
                                              readOnly: false, assembler: assembler)
        XCTAssertNil(anonymous.index)
        XCTAssertTrue(anonymous.note.contains("did not say its identity"), anonymous.note)
    }
}

final class SagaSetupTests: XCTestCase {
    func testContextRulesComeFirstThenDefinitionsThenSpans() throws {
        let config = try ConfigParser.parse("""
        contexts:
          c:
            broker: sqlite:/tmp/x.db
            correlation: { headers: [x-trace-key], pointers: [/meta/cid] }
        """, file: "config.yaml")
        let assembler = try SagaSetup.assembler(context: config.contexts.first, configPath: nil)
        let rules = assembler.rules.correlation
        XCTAssertEqual(rules.first, .header("x-trace-key"))
        XCTAssertTrue(rules.contains(.jsonPointer(try XCTUnwrap(JSONPointer("/meta/cid")))))
        // Span rules stay last, after any header or pointer a definition adds.
        if let lastRecordRule = rules.lastIndex(where: { if case .spanAttribute = $0 { return false }; return true }),
           let firstSpanRule = rules.firstIndex(where: { if case .spanAttribute = $0 { return true }; return false }) {
            XCTAssertLessThan(lastRecordRule, firstSpanRule)
        }
        XCTAssertTrue(assembler.definitions.contains { $0.name == "OrderSaga" }, "the built-in saga is always there")
    }

    func testABadPointerNamesTheConfigFile() {
        XCTAssertThrowsError(try ConfigParser.parse("""
        contexts:
          c:
            correlation-pointers: [no-slash]
        """, file: "my.yaml")) { XCTAssertTrue(String(describing: $0).hasPrefix("my.yaml"), "\($0)") }
    }
}

final class CommandOutputTests: XCTestCase {
    func testOTLPAddresses() throws {
        XCTAssertEqual(try OTLPListen.parse("off"), .off)
        XCTAssertEqual(try OTLPListen.parse(":4318"), .on(host: "127.0.0.1", port: 4318))
        XCTAssertEqual(try OTLPListen.parse("[::1]:0"), .on(host: "::1", port: 0))
        XCTAssertThrowsError(try OTLPListen.parse("host:70000")) { XCTAssertTrue($0 is UsageError) }
        XCTAssertThrowsError(try OTLPListen.parse("nohost")) { XCTAssertTrue($0 is UsageError) }
    }

    func testSpanRetentionSettings() throws {
        let limits = try SpanRetentionSetting.limits(retention: "30m", max: "1_000")
        XCTAssertEqual(limits.retentionAge, 1800)
        XCTAssertEqual(limits.retentionMaxSpans, 1000)
        let none = try SpanRetentionSetting.limits(retention: "off", max: "off")
        XCTAssertNil(none.retentionAge)
        XCTAssertNil(none.retentionMaxSpans)
        XCTAssertThrowsError(try SpanRetentionSetting.limits(retention: "-1h", max: "off"))
        XCTAssertThrowsError(try SpanRetentionSetting.limits(retention: "1h", max: "0"))
    }

    func testJSONForScriptsEscapesWhatTerminalsActOn() {
        XCTAssertEqual(TerminalSafe.json("a\u{9B}b\u{202E}c"), "a\\u009bb\\u202ec")
        XCTAssertEqual(TerminalSafe.json("plain ✓"), "plain ✓")
    }

    func testLagExitCodeIsTheWorstGroup() {
        func group(_ status: LagStatus) -> GroupLag {
            GroupLag(id: "g", state: "Stable", members: 1, topics: ["t"], partitions: [], status: status, totalLag: 0, maxLag: 0,
                     secondsBehind: nil, trend: .steady, catchUpSeconds: nil)
        }
        XCTAssertEqual(LagOutput.exitCode([]), 0)
        XCTAssertEqual(LagOutput.exitCode([group(.ok), group(.warn)]), 1)
        XCTAssertEqual(LagOutput.exitCode([group(.warn), group(.stall)]), 2)
        XCTAssertEqual(LagOutput.exitCode([group(.ok), group(.unknown)]), 3, "a group that cannot be evaluated is not OK")
        XCTAssertEqual(LagOutput.exitCode([group(.unknown), group(.warn)]), 1)
    }

    func testRequeueSummaryCountsWhatMovedSkippedAndFailed() {
        let request = RedriveRequest(kind: .redrive, sourceTopic: "orders.DLT", positions: [], targetOverride: nil, ratePerSecond: nil,
                                     dryRun: false, selectionDescription: "x", user: "u")
        let report = RedriveReport(jobID: "j1", selected: 5, moved: 3, skipped: 1,
                                   failures: [.init(redriveID: "orders.DLT/0/4", reason: "too large")], failed: 1,
                                   targets: ["orders": 3], cancelled: false, dryRun: false)
        let text = MoveRunner.summary(report, request: request)
        XCTAssertTrue(text.contains("requeued 3 of 5 from orders.DLT → orders ×3 (job j1)"), text)
        XCTAssertTrue(text.contains("skipped 1 already requeued"), text)
        XCTAssertTrue(text.contains("orders.DLT/0/4: too large"), text)
    }
}

/// `evtop snapshot` renders every view through a dashboard session, the dead-letter views included.
@UIActor
final class SnapshotReportTests: XCTestCase {
    func testDeadLetterViewsRenderFromTheSameLoads() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-snap-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try await DemoStore.make(in: dir, seconds: 20)
        let source = SourceSelection(broker: "sqlite:" + path)
        let overview = try await SnapshotReport.render(source: source, view: "dlq", width: 120, height: 24, interval: 0)
        XCTAssertTrue(overview.contains(".DLT"), overview)
        let store = try SQLiteLog(path: path, mode: .readOnly)
        guard let dlq = try await store.snapshot().topics.first(where: { $0.name.hasSuffix(".DLT") && $0.retained > 0 }) else {
            return XCTFail("the demo wrote dead letters")
        }
        let list = try await SnapshotReport.render(source: source, view: "letters:" + dlq.name, width: 120, height: 24, interval: 0)
        XCTAssertTrue(list.contains(dlq.name), list)
        // Rows, not just the title: each loaded letter shows its offset and where it came from.
        let letters = try await store.fetch(topic: dlq.name, partition: 0, from: 0, maxRecords: 1)
        let original = try XCTUnwrap(letters.first.flatMap { DeadLetterParser.parse($0).originalTopic })
        XCTAssertTrue(list.contains(original + " p"), list)
        XCTAssertTrue(list.contains("Exception"), list)
        do {
            _ = try await SnapshotReport.render(source: source, view: "nonsense", width: 80, height: 24, interval: 0)
            XCTFail("an unknown view is a usage error")
        } catch {
            XCTAssertTrue(error is UsageError, "\(error)")
        }
    }
}

/// `evtop lag` dates a group's position by the record at it (issue 14 items 2 and 4), instead of
/// capping time behind at the sampling window and calling it a figure.
final class LagReportTests: XCTestCase {
    func testTimeBehindComesFromTheFirstUnreadRecord() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-lag-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.db").path
        let store = try SQLiteLog(path: path)
        try await store.createTopic("orders", partitions: 2)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Ten records a partition, one every 10 s, the newest 10 s ago.
        var records: [OutgoingRecord] = []
        for p in Int32(0)...1 {
            for i in 0..<10 {
                records.append(OutgoingRecord(topic: "orders", partition: p, timestampMillis: now - Int64(100 - i * 10) * 1000, value: Array("x".utf8)))
            }
        }
        try await store.produce(records)
        // Partition 0 read up to offset 3 (the record written 70 s ago is next); partition 1 never committed.
        try await store.commit(group: "billing", member: "m", offsets: [TopicPartition("orders", 0): 3])

        /// Seconds since the records were dated (never negative, should the clock step back).
        func sinceWritten() -> Double { max(0, Date().timeIntervalSince1970 - Double(now) / 1000) }
        /// `expected` seconds when the records were written, plus the time until the evaluation (`run`, seconds
        /// after `now` it began and ended): the records are 10 s apart, so the wrong one is still told apart.
        func assertBehind(_ seconds: Double?, _ expected: Double, during run: ClosedRange<Double>, _ message: String = "",
                          line: UInt = #line) throws {
            let value = try XCTUnwrap(seconds, line: line)
            XCTAssertTrue((expected + run.lowerBound - 1)...(expected + run.upperBound + 1) ~= value,
                          "\(value) s, expected \(expected) s + \(run) s. \(message)", line: line)
        }
        let first = sinceWritten()
        let groups = try await LagReport.evaluate(source: SourceSelection(broker: "sqlite:" + path), groups: ["billing"], window: 0, interval: 1)
        let firstRun = first...max(first, sinceWritten())
        let group = try XCTUnwrap(groups.first)
        let p0 = try XCTUnwrap(group.partitions.first { $0.partition == 0 })
        let p1 = try XCTUnwrap(group.partitions.first { $0.partition == 1 })
        try assertBehind(p0.secondsBehind, 70, during: firstRun)
        XCTAssertFalse(p0.secondsBehindIsLowerBound)
        try assertBehind(p1.secondsBehind, 100, during: firstRun, "an uncommitted partition is as old as its oldest record")
        try assertBehind(group.secondsBehind, 100, during: firstRun)
        XCTAssertFalse(group.secondsBehindIsLowerBound)
        let json = try LagOutput.json(groups)
        XCTAssertTrue(json.contains("\"secondsBehindIsLowerBound\" : false"), json)
        // Retention deletes partition 0 below offset 5: the group's next record (3) is gone, so the oldest
        // left (written 50 s ago) only bounds how far behind it is.
        try await store.deleteRecords(topic: "orders", partition: 0, before: 5)
        let second = sinceWritten()
        let after = try await LagReport.evaluate(source: SourceSelection(broker: "sqlite:" + path), groups: ["billing"], window: 0, interval: 1)
        let secondRun = second...max(second, sinceWritten())
        let trimmed = try XCTUnwrap(after.first?.partitions.first { $0.partition == 0 })
        try assertBehind(trimmed.secondsBehind, 50, during: secondRun)
        XCTAssertTrue(trimmed.secondsBehindIsLowerBound)
        XCTAssertTrue(try XCTUnwrap(after.first).secondsBehindIsLowerBound)
    }
}

final class DashboardRecordTimeTests: XCTestCase {
    /// The dashboard's own path (poller → `.recordTimesRead` → reducer), through `evtop snapshot --view lag`:
    /// a group that committed p1 only, with 10 records written over the last 100 s on p0, is shown 1m 40s
    /// behind, not the 0 s of p1.
    @UIActor
    func testTheLagViewShowsAnUncommittedPartitionsOldestRecord() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-rtv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.db").path
        let store = try SQLiteLog(path: path)
        try await store.createTopic("orders", partitions: 2)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await store.produce((0..<10).map { i in
            OutgoingRecord(topic: "orders", partition: 0, timestampMillis: now - Int64(100 - i * 10) * 1000, value: Array("x".utf8))
        } + [OutgoingRecord(topic: "orders", partition: 1, timestampMillis: now, value: Array("y".utf8))])
        try await store.commit(group: "half", member: "m", offsets: [TopicPartition("orders", 1): 1])
        /// Whole seconds since the records were dated (never negative, should the clock step back).
        func sinceWritten() -> Int { max(0, Int((Date().timeIntervalSince1970 * 1000 - Double(now)) / 1000)) }
        let began = sinceWritten()
        let text = try await SnapshotReport.render(source: SourceSelection(broker: "sqlite:" + path), view: "lag",
                                                   width: 120, height: 12, interval: 0)
        let ended = max(began, sinceWritten())
        let row = text.split(separator: "\n").first { $0.contains("│ half") }.map(String.init) ?? ""
        // 1m 40s when written, plus the time until the render.
        let shown = ((100 + began)...(101 + ended)).map { "\($0 / 60)m \($0 % 60)s" }
        XCTAssertTrue(shown.contains { row.contains($0) }, "\(row)\n\(text)")
        XCTAssertFalse(row.contains(" 0s "), row)
    }
}

final class RecordTimeCacheTests: XCTestCase {
    /// The dashboard's poller reads the oldest record of a partition no group committed on once, posts its
    /// time, and reads again only when retention moves the low watermark (not every tick).
    func testOldestRecordIsReadOncePerLowWatermark() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-rt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteLog(path: dir.appendingPathComponent("s.db").path)
        try await store.createTopic("orders", partitions: 2)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await store.produce((0..<10).map { i in
            OutgoingRecord(topic: "orders", partition: Int32(i % 2), timestampMillis: now - Int64(100 - i) * 1000, value: Array("x".utf8))
        })
        try await store.commit(group: "half", member: "m", offsets: [TopicPartition("orders", 1): 5])
        let cache = RecordTimeCache()
        let mailbox = ActionMailbox()

        await cache.post(try await store.snapshot(), reader: store, to: mailbox)
        let first = mailbox.drain()
        guard case .recordTimesRead(let times)? = first.first else { return XCTFail("\(first)") }
        XCTAssertEqual(times, [RecordTime(TopicPartition("orders", 0), offset: 0, timestampMillis: now - 100_000)])

        await cache.post(try await store.snapshot(), reader: store, to: mailbox)
        XCTAssertTrue(mailbox.drain().isEmpty, "already read: no second read")

        try await store.deleteRecords(topic: "orders", partition: 0, before: 2)
        await cache.post(try await store.snapshot(), reader: store, to: mailbox)
        guard case .recordTimesRead(let again)? = mailbox.drain().first else { return XCTFail("not read again after retention") }
        XCTAssertEqual(again.map(\.offset), [2])
        XCTAssertEqual(again.map(\.timestampMillis), [now - 96_000])
    }
}

final class FileLogHandlerTests: XCTestCase {
    func testLinesOfTwoWritersSharingTheLogAreAllKept() throws {
        // The demo and the dashboard log to one file: each write must land at its end, not where this
        // process last was (the other's lines would be overwritten).
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("evtop-log-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let ours = Logger(label: "test.ours") { FileLogHandler(label: $0, path: path) }
        ours.info("first from us")
        let other = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        _ = try other.seekToEnd()
        try other.write(contentsOf: Data("a line from another evtop, longer than ours will be\n".utf8))
        try other.close()
        ours.info("second")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        for line in ["first from us", "a line from another evtop", "second"] {
            XCTAssertTrue(text.contains(line), "\(line) kept:\n\(text)")
        }
    }
}

