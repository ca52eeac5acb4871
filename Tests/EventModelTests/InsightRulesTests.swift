import EventModel
import Foundation
import XCTest

/// Each insights rule on hand-built fixtures: it fires on a positive case and stays silent on a close negative.
final class InsightRulesTests: XCTestCase {
    let t0: Int64 = 1_700_000_000_000

    func sample(_ topic: String = "payments", _ partition: Int32 = 0, _ offset: Int64, id: String? = nil,
                correlation: String? = "c-1", type: String? = "PaymentAuthorized", version: String? = "1",
                fields: [String]? = ["amount", "eventId"], bytes: Int = 200, reply: Bool = false, redrive: String? = nil) -> InsightRecord {
        InsightRecord(position: RecordPosition(topic: topic, partition: partition, offset: offset), timestampMillis: t0 + offset,
                      eventID: id ?? "e-\(topic)-\(offset)", correlationID: correlation, eventType: type, schemaVersion: version,
                      fields: fields, valueBytes: bytes, asksForReply: reply, redriveID: redrive)
    }

    func report(_ records: [InsightRecord], inputs: InsightInputs? = nil, settings: InsightSettings = InsightSettings()) -> InsightReport {
        var analyzer = InsightAnalyzer(settings: settings)
        analyzer.ingest(records)
        return analyzer.evaluate(inputs ?? InsightInputs(now: Date(timeIntervalSince1970: Double(t0) / 1000 + 60), snapshot: nil, sagas: []))
    }

    func rules(_ r: InsightReport) -> [InsightRule] { r.findings.map(\.rule) }

    func clean(_ n: Int, topic: String = "payments") -> [InsightRecord] {
        (0..<Int64(n)).map { sample(topic, Int32($0 % 3), $0, correlation: "c-\($0 % 3)-\($0)") }
    }

    // MARK: duplicates

    func testTheSameEventIDAtTwoOffsetsIsADuplicateButARetryWithANewIDIsNot() throws {
        var records = clean(30)
        records.append(sample("payments", 1, 100, id: "e-payments-4", correlation: "c-x"))
        let found = report(records)
        let finding = try XCTUnwrap(found.findings.first { $0.rule == .duplicateEvents })
        XCTAssertEqual(finding.severity, .error)
        XCTAssertEqual(finding.subject, "payments")
        XCTAssertTrue(finding.summary.hasPrefix("1 event id at 2 offsets"), finding.summary)
        XCTAssertEqual(finding.evidence.first?.target, .record(RecordPosition(topic: "payments", partition: 1, offset: 100)))
        XCTAssertTrue(finding.evidence.first?.note.contains("also at p1@4") == true, finding.evidence.first?.note ?? "")

        // A legitimate retry: same payload, a new event id. And the same record sampled twice is one record.
        var retry = clean(30)
        retry.append(sample("payments", 1, 100, id: "e-retry-new", correlation: "c-x"))
        retry.append(retry[4])
        XCTAssertFalse(rules(report(retry)).contains(.duplicateEvents))
    }

    func testALetterRequeuedTwiceIntoATopicIsReprocessed() {
        var records = clean(30)
        records.append(sample("payments", 0, 200, redrive: "orders.DLT/0/7"))
        XCTAssertFalse(rules(report(records)).contains(.reprocessed))
        records.append(sample("payments", 0, 201, redrive: "orders.DLT/0/7"))
        XCTAssertTrue(rules(report(records)).contains(.reprocessed))
    }

    // MARK: identity

    func testEventsWithoutIdentityAreCountedAsAShareOfTheSample() throws {
        var records = clean(30)
        for i in 0..<10 { records[i].schemaVersion = nil }
        let finding = try XCTUnwrap(report(records).findings.first { $0.rule == .missingIdentity })
        XCTAssertTrue(finding.summary.contains("version 33%"), finding.summary)
        XCTAssertFalse(finding.summary.contains("event id"), finding.summary)

        var fine = clean(30)
        fine[0].schemaVersion = nil  // 3%: under the 5% threshold
        XCTAssertFalse(rules(report(fine)).contains(.missingIdentity))
        // Too small a sample proves nothing.
        var few = clean(10)
        for i in 0..<10 { few[i].eventID = nil }
        XCTAssertFalse(rules(report(few)).contains(.missingIdentity))
    }

    // MARK: schema

    func testTwoLiveVersionsOfOneTypeAreDriftAndOneShapeIsNot() throws {
        var records = clean(30)
        for i in 0..<6 { records[i].schemaVersion = "2" }
        let finding = try XCTUnwrap(report(records).findings.first { $0.rule == .schemaDrift })
        XCTAssertEqual(finding.subject, "PaymentAuthorized")
        XCTAssertTrue(finding.summary.contains("v1 80%") && finding.summary.contains("v2 20%"), finding.summary)
        XCTAssertEqual(finding.evidence.count, 2)
        XCTAssertFalse(rules(report(clean(30))).contains(.schemaDrift))
    }

    func testAFieldSetThatChangesUnderOneVersionIsDrift() throws {
        var records = clean(30)
        records[3].fields = ["amountCents", "eventId"]
        let finding = try XCTUnwrap(report(records).findings.first { $0.rule == .schemaDrift })
        XCTAssertEqual(finding.subject, "PaymentAuthorized v1")
        XCTAssertTrue(finding.summary.contains("+amountCents") && finding.summary.contains("−amount"), finding.summary)
    }

    func testDriftWhoseLettersAreAllTheRareVersionIsAnError() throws {
        var records = clean(30)
        for i in 0..<3 { records[i].schemaVersion = "2" }
        let letters = (0..<4).map { i in
            DeadLetter(record: Record(topic: "payments.DLT", partition: 0, offset: Int64(i), timestampMillis: t0, key: nil,
                                      headers: [RecordHeader("event-type", "PaymentAuthorized"), RecordHeader("schema-version", "2")], value: Array("{}".utf8)))
        }
        let inputs = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["payments.DLT": letters], sagas: [])
        let finding = try XCTUnwrap(report(records, inputs: inputs).findings.first { $0.rule == .schemaDrift })
        XCTAssertEqual(finding.severity, .error)
        XCTAssertTrue(finding.summary.contains("4 of 4 DLQ letters are v2"), finding.summary)
    }

    func testDriftNamesTheConsumerGroupWhoseLettersConcentrateOnOneVersion() throws {
        var records = clean(30)
        for i in 0..<3 { records[i].schemaVersion = "2" }
        func letter(_ offset: Int64, group: String, version: String) -> DeadLetter {
            DeadLetterParser.parse(Record(topic: "payments.DLT", partition: 0, offset: offset, timestampMillis: t0, key: nil,
                                          headers: [RecordHeader("event-type", "PaymentAuthorized"), RecordHeader("schema-version", version),
                                                    RecordHeader("kafka_dlt-original-consumer-group", group)], value: Array("{}".utf8)))
        }
        // billing's letters are all v2; shipping's are mixed.
        let letters = [letter(0, group: "billing", version: "2"), letter(1, group: "billing", version: "2"), letter(2, group: "billing", version: "2"),
                       letter(3, group: "shipping", version: "1"), letter(4, group: "shipping", version: "2")]
        let inputs = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["payments.DLT": letters], sagas: [])
        let finding = try XCTUnwrap(report(records, inputs: inputs).findings.first { $0.rule == .schemaDrift })
        XCTAssertTrue(finding.summary.contains("3 of 3 DLQ letters of billing are v2"), finding.summary)
        XCTAssertEqual(finding.severity, .error)
    }

    func testOneEventDeadLetteredTwiceUnderItsIDIsAPoisonLoop() throws {
        func letter(_ offset: Int64, id: String) -> DeadLetter {
            DeadLetterParser.parse(Record(topic: "orders.DLQ", partition: 0, offset: offset, timestampMillis: t0, key: nil,
                                          headers: [RecordHeader("event-id", id)], value: nil))
        }
        let once = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["orders.DLQ": [letter(0, id: "e-1"), letter(1, id: "e-2")]], sagas: [])
        XCTAssertFalse(rules(report(clean(30), inputs: once)).contains(.poisonLoop))
        let twice = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["orders.DLQ": [letter(0, id: "e-1"), letter(1, id: "e-1")]], sagas: [])
        let finding = try XCTUnwrap(report(clean(30), inputs: twice).findings.first { $0.rule == .poisonLoop })
        XCTAssertTrue(finding.evidence.first?.note.contains("2 letters of event e-1") == true, "\(finding.evidence)")
    }

    // MARK: names

    func testImperativeAndGenericNamesSmellAndFactsDoNot() {
        for name in ["CreateOrder", "ProcessPayment", "ReserveInventory", "send_confirmation", "Event", "Update", "Message", "ChargeCardCommand"] {
            XCTAssertNotNil(EventNaming.smell(name), name)
        }
        for name in ["OrderPlaced", "PaymentDeclined", "OrderCancelled", "InventoryReleased", "ShipmentFailed", "RequestReceived",
                     "order.created", "CustomerUpdated", "PaymentRefunded"] {
            XCTAssertNil(EventNaming.smell(name), name)
        }
        var records = clean(30)
        records.append(sample("payments", 0, 300, type: "ProcessPayment"))
        let found = report(records).findings.filter { $0.rule == .commandNamed }
        XCTAssertEqual(found.map(\.subject), ["ProcessPayment"])
        XCTAssertEqual(found.first?.severity, .info)
    }

    func testRequestReplyOverTopicsIsNamed() {
        var records = clean(30)
        XCTAssertFalse(rules(report(records)).contains(.requestReply))
        records.append(sample("payments", 0, 300, type: "QuoteRequest"))
        XCTAssertFalse(rules(report(records)).contains(.requestReply), "a request alone is no pair")
        records.append(sample("payments", 0, 301, type: "QuoteResponse"))
        XCTAssertTrue(rules(report(records)).contains(.requestReply))
        var asking = clean(30)
        asking.append(sample("payments", 0, 302, reply: true))
        XCTAssertTrue(rules(report(asking)).contains(.requestReply))
    }

    // MARK: size

    func testAFatEventIsOverTheThresholdAnd99kBIsNot() throws {
        var records = clean(30)
        records.append(sample("payments", 0, 400, bytes: 99_000))
        XCTAssertFalse(rules(report(records)).contains(.fatEvents))
        records.append(sample("payments", 0, 401, bytes: 187_000))
        let finding = try XCTUnwrap(report(records).findings.first { $0.rule == .fatEvents })
        XCTAssertTrue(finding.summary.contains("largest 187 kB"), finding.summary)
        var lenient = InsightSettings()
        lenient.fatEventBytes = 200_000
        XCTAssertFalse(rules(report(records, settings: lenient)).contains(.fatEvents))
    }

    // MARK: keys

    func testOneCorrelationIDOnTwoPartitionsLosesItsOrder() {
        var records = clean(30)
        records.append(sample("payments", 0, 500, correlation: "ord-9"))
        records.append(sample("payments", 0, 501, correlation: "ord-9"))
        XCTAssertFalse(rules(report(records)).contains(.keySpread), "same partition: order kept")
        records.append(sample("payments", 2, 502, correlation: "ord-9"))
        XCTAssertTrue(rules(report(records)).contains(.keySpread))
    }

    // MARK: dead letters

    func testALetterRequeuedAndDeadLetteredAgainIsAPoisonLoop() throws {
        func letter(_ offset: Int64, redriven: Bool) -> DeadLetter {
            var headers = [RecordHeader("kafka_dlt-original-topic", "orders")]
            if redriven { headers.append(RecordHeader("evtop-redrive-id", "orders.DLT/0/\(offset)")) }
            return DeadLetterParser.parse(Record(topic: "orders.DLT", partition: 0, offset: offset, timestampMillis: t0, key: nil, headers: headers, value: nil))
        }
        let calm = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["orders.DLT": [letter(1, redriven: false), letter(2, redriven: false)]], sagas: [])
        XCTAssertFalse(rules(report(clean(30), inputs: calm)).contains(.poisonLoop))
        let looping = InsightInputs(now: Date(), snapshot: nil, deadLetters: ["orders.DLT": [letter(1, redriven: false), letter(2, redriven: true)]], sagas: [])
        let finding = try XCTUnwrap(report(clean(30), inputs: looping).findings.first { $0.rule == .poisonLoop })
        XCTAssertEqual(finding.severity, .error)
        XCTAssertEqual(finding.evidence.first?.target, .letter(RecordPosition(topic: "orders.DLT", partition: 0, offset: 2)))
    }

    func testADLQThatGrowsWithALetterWaitingADayIsStagnant() {
        func dlq(_ retained: Int64, at seconds: Double) -> BrokerSnapshot {
            BrokerSnapshot(time: Date(timeIntervalSince1970: Double(t0) / 1000 + seconds),
                           topics: [TopicInfo(name: "orders.DLQ", partitions: [PartitionWatermarks(partition: 0, low: 0, high: retained)])], groups: [])
        }
        let old = DeadLetterParser.parse(Record(topic: "orders.DLQ", partition: 0, offset: 0, timestampMillis: t0 - 90_000_000, key: nil, headers: [], value: nil))
        let fresh = DeadLetterParser.parse(Record(topic: "orders.DLQ", partition: 0, offset: 0, timestampMillis: t0 - 60_000, key: nil, headers: [], value: nil))
        func found(_ letters: [DeadLetter], grows: Bool, handled: Set<RecordPosition> = []) -> Bool {
            var analyzer = InsightAnalyzer()
            analyzer.observe(dlq(3, at: 0)) { $0.hasSuffix(".DLQ") }
            analyzer.observe(dlq(grows ? 4 : 3, at: 10)) { $0.hasSuffix(".DLQ") }
            let inputs = InsightInputs(now: Date(timeIntervalSince1970: Double(t0) / 1000 + 10), snapshot: nil,
                                       deadLetters: ["orders.DLQ": letters], handledLetters: handled, sagas: [])
            return analyzer.evaluate(inputs).findings.contains { $0.rule == .stagnantDLQ }
        }
        XCTAssertTrue(found([old], grows: true))
        XCTAssertFalse(found([old], grows: false), "not growing: someone may be on it")
        XCTAssertFalse(found([fresh], grows: true), "the oldest waits a minute, not a day")
        XCTAssertFalse(found([old], grows: true, handled: [RecordPosition(topic: "orders.DLQ", partition: 0, offset: 0)]), "handled letters do not count")
    }

    // MARK: partitions

    /// Snapshots of one topic whose partitions grow by `perSecond` each, every 5 s for 70 s.
    func meter(_ perSecond: [Int64]) -> (ThroughputMeter, BrokerSnapshot) {
        var meter = ThroughputMeter()
        var last: BrokerSnapshot?
        for step in 0...14 {
            let seconds = Int64(step * 5)
            let parts = perSecond.enumerated().map { PartitionWatermarks(partition: Int32($0.offset), low: 0, high: $0.element * seconds) }
            let snap = BrokerSnapshot(time: Date(timeIntervalSince1970: Double(t0) / 1000 + Double(seconds)),
                                      topics: [TopicInfo(name: "orders", partitions: parts)], groups: [])
            meter.record(snap)
            last = snap
        }
        return (meter, last!)
    }

    func testAPartitionOverTwiceTheMeanIsHotAndASkewWithinBoundsIsNot() throws {
        let (hot, snap) = meter([100, 10, 10])
        let inputs = InsightInputs(now: snap.time, snapshot: snap, meter: hot, sagas: [])
        let finding = try XCTUnwrap(report(clean(30), inputs: inputs).findings.first { $0.rule == .hotPartition })
        XCTAssertEqual(finding.subject, "orders p0")
        XCTAssertTrue(finding.summary.contains("over 60s"), "a rate names its window: \(finding.summary)")
        let (even, snap2) = meter([18, 10, 12])
        XCTAssertFalse(rules(report(clean(30), inputs: InsightInputs(now: snap2.time, snapshot: snap2, meter: even, sagas: []))).contains(.hotPartition))
    }

    // MARK: groups

    func group(members: Int = 0, committed: Int64, lag: Int64, commitAge: Double?, consumeRate: Double? = 0, status: LagStatus = .ok) -> GroupLag {
        let p = PartitionLag(topic: "ledger", partition: 1, committed: committed, high: committed + lag, lag: lag, status: status,
                             secondsBehind: nil, lastCommitAgeSeconds: commitAge, consumeRate: consumeRate, produceRate: 10)
        return GroupLag(id: "ledger-svc", state: members == 0 ? "Empty" : "Stable", members: members, topics: ["ledger"], partitions: [p],
                        status: status, totalLag: lag, maxLag: lag, secondsBehind: nil, trend: .unknown, catchUpSeconds: nil)
    }

    func snapshot(low: Int64, at seconds: Double) -> BrokerSnapshot {
        BrokerSnapshot(time: Date(timeIntervalSince1970: Double(t0) / 1000 + seconds),
                       topics: [TopicInfo(name: "ledger", partitions: [PartitionWatermarks(partition: 1, low: low, high: 10_000)])], groups: [])
    }

    func testRetentionThatCatchesUpWithTheGroupIsARiskWithTheTimeLeft() throws {
        var analyzer = InsightAnalyzer()
        analyzer.observe(snapshot(low: 1_000, at: 0))
        analyzer.observe(snapshot(low: 1_100, at: 10))  // retention deletes 10/s
        let g = group(committed: 2_000, lag: 8_000, commitAge: 5, consumeRate: 2)
        let snap = snapshot(low: 1_100, at: 10)
        let finding = try XCTUnwrap(analyzer.evaluate(InsightInputs(now: snap.time, snapshot: snap, groups: [g], sagas: [])).findings.first { $0.rule == .retentionRisk })
        XCTAssertEqual(finding.subject, "ledger-svc / ledger p1")
        XCTAssertTrue(finding.summary.contains("~2 min"), finding.summary)  // 900 left, closing at 8/s: 112 s

        // A group reading faster than retention deletes is safe; a low watermark that never moved proves nothing.
        let fast = group(committed: 2_000, lag: 8_000, commitAge: 5, consumeRate: 20)
        XCTAssertFalse(analyzer.evaluate(InsightInputs(now: snap.time, snapshot: snap, groups: [fast], sagas: [])).findings.contains { $0.rule == .retentionRisk })
        var still = InsightAnalyzer()
        still.observe(snapshot(low: 1_000, at: 0))
        still.observe(snapshot(low: 1_000, at: 10))
        XCTAssertFalse(still.evaluate(InsightInputs(now: snap.time, snapshot: snapshot(low: 1_000, at: 10), groups: [g], sagas: [])).findings.contains { $0.rule == .retentionRisk })

        // Already past: records were deleted unread.
        let lost = group(committed: 500, lag: 9_500, commitAge: 5)
        let past = try XCTUnwrap(still.evaluate(InsightInputs(now: snap.time, snapshot: snapshot(low: 1_000, at: 10), groups: [lost], sagas: [])).findings.first { $0.rule == .retentionRisk })
        XCTAssertEqual(past.severity, .error)
        XCTAssertTrue(past.summary.hasPrefix("500 records deleted"), past.summary)
    }

    func testAGroupWithLagNoMembersAndNoCommitForLongIsAbandoned() {
        func found(_ g: GroupLag) -> Bool {
            report(clean(30), inputs: InsightInputs(now: Date(), snapshot: nil, groups: [g], sagas: [])).findings.contains { $0.rule == .abandonedGroup }
        }
        XCTAssertTrue(found(group(committed: 10, lag: 50, commitAge: 700)))
        XCTAssertFalse(found(group(committed: 10, lag: 50, commitAge: 300)), "committed 5 minutes ago")
        XCTAssertFalse(found(group(members: 2, committed: 10, lag: 50, commitAge: 700)), "it has members")
        XCTAssertFalse(found(group(committed: 10, lag: 0, commitAge: 700)), "nothing to read")
        XCTAssertFalse(found(group(committed: 10, lag: 50, commitAge: nil)), "commit time unknown: no claim")
    }

    func testARewindingGroupReprocesses() {
        let inputs = InsightInputs(now: Date(), snapshot: nil, groups: [group(members: 1, committed: 10, lag: 5, commitAge: 1, status: .rewind)], sagas: [])
        XCTAssertTrue(rules(report(clean(30), inputs: inputs)).contains(.reprocessed))
    }

    // MARK: sagas

    func testTimedOutSagasAndAFailingTypeAreNamedWithTheirStep() throws {
        var sagas = (0..<20).map { InsightSaga(id: "ord-\($0)", type: "order", state: .completed, lastMillis: t0 + Int64($0), failedStep: nil) }
        XCTAssertTrue(report(clean(30), inputs: InsightInputs(now: Date(), snapshot: nil, sagas: sagas)).findings.isEmpty)
        sagas[0].state = .timedOut
        for i in 1...6 { sagas[i].state = .compensated; sagas[i].failedStep = i < 5 ? "payment" : "shipping" }
        let found = report(clean(30), inputs: InsightInputs(now: Date(), snapshot: nil, sagas: sagas)).findings
        let stuck = try XCTUnwrap(found.first { $0.rule == .stuckSagas })
        XCTAssertEqual(stuck.evidence.first?.target, .saga("ord-0"))
        let failing = try XCTUnwrap(found.first { $0.rule == .failingSagas })
        XCTAssertTrue(failing.summary.contains("30% of the 20 latest") && failing.summary.contains("most at payment (4)"), failing.summary)
        // 3 of 20 (15%) is under the 20% threshold: a share of declined payments is business, not a fault.
        sagas = (0..<20).map { InsightSaga(id: "ord-\($0)", type: "order", state: $0 < 3 ? .failed : .completed, lastMillis: t0, failedStep: nil) }
        XCTAssertFalse(rules(report(clean(30), inputs: InsightInputs(now: Date(), snapshot: nil, sagas: sagas))).contains(.failingSagas))
    }

    // MARK: settings, grades, bounds

    func testSuppressionsAndDisabledRulesLeaveFindingsOut() {
        var records = clean(30)
        records.append(sample("payments", 0, 100, id: "e-payments-4"))
        records.append(sample("payments", 0, 101, bytes: 150_000))
        var settings = InsightSettings()
        settings.suppressions = [InsightSuppression(rule: .duplicateEvents, pattern: "pay*")]
        XCTAssertEqual(rules(report(records, settings: settings)), [.fatEvents])
        settings.suppressions = [InsightSuppression(rule: .duplicateEvents, pattern: "orders")]
        XCTAssertEqual(Set(rules(report(records, settings: settings))), [.duplicateEvents, .fatEvents])
        settings.disabled = [.fatEvents]
        settings.suppressions = [InsightSuppression(rule: nil, pattern: "payments")]
        XCTAssertEqual(rules(report(records, settings: settings)), [])
    }

    func testNothingSampledIsNoGradeAndACleanSampleIsA() {
        let empty = InsightAnalyzer().evaluate(InsightInputs(now: Date(), snapshot: nil))
        XCTAssertNil(empty.grade, "no data is not healthy")
        XCTAssertTrue(empty.notEvaluated.contains("no record sampled yet"))
        XCTAssertTrue(empty.notEvaluated.contains("sagas not loaded"))
        XCTAssertEqual(report(clean(30)).grade, .a)
        var records = clean(30)
        records.append(sample("payments", 0, 100, id: "e-payments-4"))
        records.append(sample("payments", 0, 101, bytes: 150_000))
        let graded = report(records)
        XCTAssertEqual(graded.topicScores["payments"], 65)
        XCTAssertEqual(graded.grade, .d)
        XCTAssertEqual(graded.findings.first?.severity, .error, "errors first")
    }

    func testMemoryStaysBoundedWhateverIsSampled() {
        var analyzer = InsightAnalyzer()
        let n = InsightAnalyzer.idsPerTopic * 3
        analyzer.ingest((0..<Int64(n)).map { sample("payments", 0, $0, correlation: "c-\($0)") })
        XCTAssertEqual(analyzer.sampledRecords, n)
        // An id evicted long ago seen again is not flagged (bounded memory), but a recent one is.
        analyzer.ingest([sample("payments", 0, Int64(n) + 1, id: "e-payments-0"), sample("payments", 0, Int64(n) + 2, id: "e-payments-\(n - 1)")])
        let found = analyzer.evaluate(InsightInputs(now: Date(), snapshot: nil, sagas: []))
        XCTAssertEqual(found.findings.first { $0.rule == .duplicateEvents }?.summary.hasPrefix("1 event id at"), true)
    }

    // MARK: reading records

    func testARecordIsReadFromHeadersFirstThenItsPayload() {
        let record = Record(topic: "orders", partition: 2, offset: 9, timestampMillis: t0, key: nil,
                            headers: [RecordHeader("event-type", "OrderPlaced"), RecordHeader("reply-to", "quotes")],
                            value: Array(#"{"eventId":"e-1","schemaVersion":2,"correlationId":"ord-1","amount":3}"#.utf8))
        let r = InsightRecord(record, rules: .default)
        XCTAssertEqual(r.eventID, "e-1")
        XCTAssertEqual(r.schemaVersion, "2")
        XCTAssertEqual(r.correlationID, "ord-1")
        XCTAssertEqual(r.eventType, "OrderPlaced")
        XCTAssertEqual(r.fields, ["amount", "correlationId", "eventId", "schemaVersion"])
        XCTAssertTrue(r.asksForReply)
        let binary = InsightRecord(Record(topic: "orders", partition: 0, offset: 1, timestampMillis: t0, key: nil, headers: [RecordHeader(name: "event-id", value: [0xFF, 0xFE])],
                                          value: [0x00, 0xFF, 0x1B]), rules: .default)
        XCTAssertNil(binary.eventID, "an id that is not UTF-8 is no id")
        XCTAssertNil(binary.fields)
        XCTAssertEqual(binary.valueBytes, 3)
    }
}
