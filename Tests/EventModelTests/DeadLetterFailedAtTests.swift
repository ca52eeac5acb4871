import XCTest
@testable import EventModel

final class DeadLetterFailedAtTests: XCTestCase {
    func testARabbitMQLetterFailedAtItsLatestDeathNotWhenItWasPublished() {
        let deaths = #"[{"queue":"billing","reason":"rejected","count":2,"time":1700000300},{"queue":"orders","reason":"expired","count":1,"time":1700000100}]"#
        let record = Record(topic: "billing.dlq", partition: 0, offset: 0, timestampMillis: 1_700_000_000_000, key: nil,
                            headers: [RecordHeader("x-death", deaths)], value: Array("{}".utf8))
        XCTAssertEqual(DeadLetterParser.parse(record).failedAtMillis, 1_700_000_300_000, "x-death lists the latest death first")
    }

    func testALetterWithoutATimeHasNoFailureTime() {
        let record = Record(topic: "q.dlq", partition: 0, offset: 3, timestampMillis: -1, key: nil, headers: [], value: [])
        XCTAssertNil(DeadLetterParser.parse(record).failedAtMillis)
        let kafka = Record(topic: "orders.DLT", partition: 1, offset: 7, timestampMillis: 1_700_000_000_000, key: nil, headers: [], value: [])
        XCTAssertEqual(DeadLetterParser.parse(kafka).failedAtMillis, 1_700_000_000_000, "a DLT record's own time is when it failed")
    }
}
