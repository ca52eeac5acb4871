import XCTest
@testable import TerminalUI

final class NumberFormatTests: XCTestCase {
    func testGrouped() {
        XCTAssertEqual(NumberFormat.grouped(Int64(0)), "0")
        XCTAssertEqual(NumberFormat.grouped(Int64(999)), "999")
        XCTAssertEqual(NumberFormat.grouped(Int64(1000)), "1,000")
        XCTAssertEqual(NumberFormat.grouped(Int64(48213)), "48,213")
        XCTAssertEqual(NumberFormat.grouped(Int64(-1234567)), "-1,234,567")
        XCTAssertEqual(NumberFormat.grouped(Int64.min), "-9,223,372,036,854,775,808")
        XCTAssertEqual(NumberFormat.grouped(12), "12")
    }

    func testRate() {
        XCTAssertEqual(NumberFormat.rate(0), "0")
        XCTAssertEqual(NumberFormat.rate(0.1), "0.1")
        XCTAssertEqual(NumberFormat.rate(0.04), "0.0")
        XCTAssertEqual(NumberFormat.rate(9.94), "9.9")
        XCTAssertEqual(NumberFormat.rate(9.96), "10")
        XCTAssertEqual(NumberFormat.rate(212.4), "212")
        XCTAssertEqual(NumberFormat.rate(4_112), "4,112")
        XCTAssertEqual(NumberFormat.rate(12_500), "12.5k")
        XCTAssertEqual(NumberFormat.rate(125_400), "125k")
        XCTAssertEqual(NumberFormat.rate(1_234_567), "1.2M")
        XCTAssertEqual(NumberFormat.rate(25_000_000), "25M")
        XCTAssertEqual(NumberFormat.rate(-21), "-21")
        XCTAssertEqual(NumberFormat.rate(.nan), "–")
        XCTAssertEqual(NumberFormat.rate(.infinity), "–")
    }

    func testDuration() {
        XCTAssertEqual(NumberFormat.duration(seconds: 0), "0s")
        XCTAssertEqual(NumberFormat.duration(seconds: 0.1), "0.1s")
        XCTAssertEqual(NumberFormat.duration(seconds: 0.96), "1s")
        XCTAssertEqual(NumberFormat.duration(seconds: 14.7), "14s")
        XCTAssertEqual(NumberFormat.duration(seconds: 192), "3m 12s")
        XCTAssertEqual(NumberFormat.duration(seconds: 2 * 3600 + 5 * 60 + 59), "2h 5m")
        XCTAssertEqual(NumberFormat.duration(seconds: 3 * 86400 + 4 * 3600 + 1), "3d 4h")
        XCTAssertEqual(NumberFormat.duration(seconds: -14), "-14s")
        XCTAssertEqual(NumberFormat.duration(seconds: .nan), "–")
        XCTAssertEqual(NumberFormat.duration(seconds: 1e300), "∞")
    }

    func testBytes() {
        XCTAssertEqual(NumberFormat.bytes(0), "0 B")
        XCTAssertEqual(NumberFormat.bytes(1023), "1023 B")
        XCTAssertEqual(NumberFormat.bytes(1024), "1.0 KiB")
        XCTAssertEqual(NumberFormat.bytes(1_258_291), "1.2 MiB")
        XCTAssertEqual(NumberFormat.bytes(1024 * 1024 - 1), "1.0 MiB")
        XCTAssertEqual(NumberFormat.bytes(Int64.max), "8.0 EiB")
        XCTAssertEqual(NumberFormat.bytes(-2048), "-2.0 KiB")
    }
}
