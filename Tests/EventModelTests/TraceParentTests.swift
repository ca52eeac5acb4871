import EventModel
import XCTest

/// The one `traceparent` parser: the W3C Trace Context rules, and what a record's headers give.
final class TraceParentTests: XCTestCase {
    private let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    private let span = "00f067aa0ba902b7"

    func testTheRecommendationsExampleParsesAndWritesBack() throws {
        let header = "00-\(trace)-\(span)-01"
        let context = try XCTUnwrap(TraceParent(header: header))
        XCTAssertEqual(context.traceID, trace)
        XCTAssertEqual(context.spanID, span)
        XCTAssertEqual(context.flags, 0x01)
        XCTAssertEqual(context.version, 0)
        XCTAssertTrue(context.isSampled)
        XCTAssertEqual(context.header, header)
        XCTAssertEqual("\(context)", header)
        XCTAssertFalse(try XCTUnwrap(TraceParent(header: "00-\(trace)-\(span)-00")).isSampled)
        XCTAssertEqual(TraceParent(header: "00-\(trace)-\(span)-ff")?.flags, 0xFF)
    }

    func testInvalidValuesAreRejected() {
        let invalid = [
            "",
            "00-\(trace)-\(span)",                                   // no flags
            "00-\(trace)-\(span)-1",                                 // one-digit flags
            "00-\(trace)-\(span)-01-",                               // version 00 is exactly 55 characters
            "00-\(trace)-\(span)-01-extra",
            "0-\(trace)-\(span)-01",                                 // one-digit version
            "ff-\(trace)-\(span)-01",                                // version ff is invalid
            "00-\(trace.uppercased())-\(span)-01",                   // uppercase hex
            "00-\(trace)-\(span.uppercased())-01",
            "00-\(trace)-\(span)-0A",
            "0A-\(trace)-\(span)-01",
            "00-\(String(repeating: "0", count: 32))-\(span)-01",    // all-zero trace id
            "00-\(trace)-\(String(repeating: "0", count: 16))-01",   // all-zero span id
            "00-\(trace.dropLast())-\(span)0-01",                    // 31 + 17 digits
            "00-\(trace)0-\(span.dropLast())-01",                    // 33 + 15 digits
            "00-\(trace.dropLast())g-\(span)-01",                    // not hex
            "00_\(trace)-\(span)-01",                                // wrong separator
            " 00-\(trace)-\(span)-01",
            "00-\(trace)-\(span)-01".replacingOccurrences(of: "4bf9", with: "4bé"),  // non-ASCII, same length in bytes
        ]
        for value in invalid {
            XCTAssertNil(TraceParent(header: value), value)
        }
    }

    func testALaterVersionIsReadByTheSameLayoutWithRoomForMoreFields() throws {
        let later = try XCTUnwrap(TraceParent(header: "cc-\(trace)-\(span)-01-what-comes-next"))
        XCTAssertEqual(later.version, 0xCC)
        XCTAssertEqual(later.traceID, trace)
        XCTAssertEqual(later.header, "00-\(trace)-\(span)-01", "written back as the version this build knows")
        XCTAssertNotNil(TraceParent(header: "01-\(trace)-\(span)-01"))
        XCTAssertNil(TraceParent(header: "01-\(trace)-\(span)-01x"), "more fields only after a dash")
    }

    func testBuildingFromIDsChecksThemLikeParsingDoes() {
        XCTAssertEqual(TraceParent(traceID: trace, spanID: span)?.header, "00-\(trace)-\(span)-01")
        XCTAssertEqual(TraceParent(traceID: trace, spanID: span, flags: 0)?.header, "00-\(trace)-\(span)-00")
        XCTAssertNil(TraceParent(traceID: trace.uppercased(), spanID: span))
        XCTAssertNil(TraceParent(traceID: trace, spanID: String(repeating: "0", count: 16)))
        XCTAssertNil(TraceParent(traceID: String(trace.prefix(16)), spanID: span))
    }

    func testARecordsLastValidUTF8TraceparentHeaderCounts() {
        let other = "0af7651916cd43dd8448eb211c80319c"
        var record = Record(topic: "t", partition: 0, offset: 0, timestampMillis: 0, key: nil,
                            headers: [RecordHeader("traceparent", "00-\(trace)-\(span)-01"),
                                      RecordHeader("traceparent", "00-\(other)-\(span)-01")],
                            value: nil)
        XCTAssertEqual(record.traceParent?.traceID, other)
        record.headers.append(RecordHeader(name: "traceparent", value: [0xFF, 0xFE]))
        XCTAssertNil(record.traceParent, "the last header is not UTF-8")
        record.headers = [RecordHeader("Traceparent", "00-\(trace)-\(span)-01")]
        XCTAssertNil(record.traceParent, "record header names are case-sensitive")
        let outgoing = OutgoingRecord(topic: "t", timestampMillis: 0, key: nil,
                                      headers: [RecordHeader(TraceParent.headerName, "00-\(trace)-\(span)-01")], value: nil)
        XCTAssertEqual(outgoing.traceParent?.spanID, span)
    }
}
