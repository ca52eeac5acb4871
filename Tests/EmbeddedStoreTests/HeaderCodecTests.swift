@testable import EmbeddedStore
import EventModel
import XCTest

final class HeaderCodecTests: XCTestCase {
    func testRoundTripAndEmpty() throws {
        XCTAssertNil(HeaderCodec.encode([]))
        let headers = [RecordHeader(name: "a", value: []), RecordHeader(name: "a", value: [0xff, 0x00]),
                       RecordHeader(name: String(repeating: "n", count: 300), value: Array(repeating: 7, count: 70_000))]
        let bytes = try XCTUnwrap(HeaderCodec.encode(headers))
        XCTAssertEqual(try HeaderCodec.decode(bytes), headers)
    }

    func testMalformedBlobsAreRejected() {
        for bad: [UInt8] in [[], [0x01], [0x01, 0x05, 0x61], [0x01, 0x01, 0x61, 0x09, 0x00], [0xff, 0xff, 0xff],
                             [0x00, 0x00], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]] {
            XCTAssertThrowsError(try HeaderCodec.decode(bad), "\(bad)")
        }
    }
}
