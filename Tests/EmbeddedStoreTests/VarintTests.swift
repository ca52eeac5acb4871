@testable import EmbeddedStore
import XCTest

/// The store's one varint codec (record headers and span detail both use it).
final class VarintTests: XCTestCase {
    func testKnownEncodingsAndLengths() {
        XCTAssertEqual(Varint.encode(0), [0x00])
        XCTAssertEqual(Varint.encode(127), [0x7F])
        XCTAssertEqual(Varint.encode(128), [0x80, 0x01])
        XCTAssertEqual(Varint.encode(300), [0xAC, 0x02])
        XCTAssertEqual(Varint.encode(UInt64(UInt32.max)), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        XCTAssertEqual(Varint.encode(.max), Array(repeating: 0xFF, count: 9) + [0x01])
        XCTAssertEqual(Varint.encode(.max).count, Varint.maxBytes)
    }

    func testRoundTripAtEveryLengthBoundary() throws {
        var values: [UInt64] = [0, 1, .max, .max - 1, 1 << 63]
        for bits in stride(from: 7, to: 64, by: 7) { values += [(1 << UInt64(bits)) - 1, 1 << UInt64(bits)] }
        for value in values {
            let bytes = Varint.encode(value)
            var i = bytes.startIndex
            XCTAssertEqual(try Varint.read(bytes, at: &i), value)
            XCTAssertEqual(i, bytes.endIndex, "\(value) read to its end")
        }
    }

    func testReadsOneAfterAnotherFromASliceThatDoesNotStartAtZero() throws {
        var buffer: [UInt8] = [0xEE, 0xEE]
        for value: UInt64 in [5, 300, 1 << 40] { Varint.append(value, to: &buffer) }
        let slice = buffer[2...]
        var i = slice.startIndex
        XCTAssertEqual(try Varint.read(slice, at: &i), 5)
        XCTAssertEqual(try Varint.read(slice, at: &i), 300)
        XCTAssertEqual(try Varint.read(slice, at: &i), 1 << 40)
        XCTAssertEqual(i, slice.endIndex)
    }

    func testTruncatedInputIsMalformed() {
        let full = Varint.encode(.max)
        for length in 0..<full.count {
            var i = 0
            XCTAssertThrowsError(try Varint.read(Array(full.prefix(length)), at: &i), "\(length) bytes of 10")
        }
        var i = 0
        XCTAssertThrowsError(try Varint.read([0x80], at: &i))
    }

    func testOverlongInputIsMalformed() {
        let tooLong: [[UInt8]] = [
            Array(repeating: 0xFF, count: 9) + [0x02],          // a 65th bit
            Array(repeating: 0xFF, count: 9) + [0x7F],          // bits past 64
            Array(repeating: 0x80, count: 10) + [0x00],         // an eleventh byte
            Array(repeating: 0xFF, count: 20),                  // never ends within 64 bits
        ]
        for bytes in tooLong {
            var i = 0
            XCTAssertThrowsError(try Varint.read(bytes, at: &i), "\(bytes)")
        }
    }

    func testPaddedEncodingsWithinTenBytesAreRead() throws {
        // LEB128 allows padding (protobuf reads it too); the store never writes it.
        var i = 0
        XCTAssertEqual(try Varint.read([0x80, 0x00], at: &i), 0)
        XCTAssertEqual(i, 2)
    }

    func testBothCodecsRejectATruncatedLength() {
        // A header count and a span attribute count each cut inside their varint.
        XCTAssertThrowsError(try HeaderCodec.decode([0x81]))
        XCTAssertThrowsError(try SpanDetailCodec.decode([SpanDetailCodec.format, 0x81]))
    }
}
