import XCTest
import EventModel
@testable import App

/// The RabbitMQ tap as a context names it, and how its figures read.
final class TapConfigTests: XCTestCase {
    func testAContextNamesTheExchangesToTapAsAListOrOneName() throws {
        let config = try ConfigParser.parse("""
        contexts:
          rabbit:
            broker: amqp://guest:guest@localhost:5672/shop
            tap: [orders, payments]
          one:
            broker: amqp://guest:guest@localhost:5672/shop
            tap: orders
        """, file: "c.yaml")
        XCTAssertEqual(try config.context(named: "rabbit")?.properties[SourceSettings.tapKey], "orders,payments")
        XCTAssertEqual(try config.context(named: "one")?.properties[SourceSettings.tapKey], "orders")
        XCTAssertEqual(SourceSettings.exchangeList(" orders, ,payments "), ["orders", "payments"])
    }

    func testTheTapIsForRabbitMQOnly() {
        let url = SourceURL(scheme: "kafka", target: "localhost:9092")
        XCTAssertThrowsError(try SourceRegistry.open(url, settings: SourceSettings(readOnly: true, properties: [SourceSettings.tapKey: "orders"]))) {
            XCTAssertTrue("\($0)".contains("--tap"), "\($0)")
        }
    }

    func testARabbitMQSourceTapsUnlessReadOnlyAndAlwaysReadsItsTapStore() throws {
        let url = try SourceRegistry.parse("amqp://guest:guest@localhost:5672/shop")
        let writable = try SourceRegistry.open(url, settings: SourceSettings(readOnly: false, properties: [SourceSettings.tapKey: "orders"]))
        XCTAssertNotNil(writable.tap)
        XCTAssertEqual(writable.tapExchanges, ["orders"])
        XCTAssertNotNil(writable.tapFile)
        XCTAssertNotNil(writable.spanStore, "spans received over OTLP go to the tap store")
        let readOnly = try SourceRegistry.open(url, settings: SourceSettings(readOnly: true))
        XCTAssertNil(readOnly.tap, "read-only: no tap queue")
        XCTAssertNil(readOnly.spanStore)
        XCTAssertNotNil(readOnly.traces, "an earlier run's spans are still read")
        XCTAssertNil(readOnly.tapExchanges)
    }

    func testTheFiguresInOneLine() {
        XCTAssertEqual(TapStatus.describe(TapFigures()), "tap: 0 records, exchanges not yet bound; connecting")
        XCTAssertEqual(TapStatus.describe(TapFigures(consuming: true, recordsTapped: 12_345, exchangesTapped: 4)),
                       "tap: 12,345 records from 4 exchanges")
        var full = TapFigures(consuming: true, recordsTapped: 100_000, exchangesTapped: 2)
        full.queueFull = true
        XCTAssertEqual(TapStatus.describe(full), "tap: 100,000 records from 2 exchanges; tap queue full: the server drops the oldest copies")
        XCTAssertEqual(TapStatus.describe(TapFigures(consuming: false, recordsTapped: 3, exchangesTapped: 1, exchangesSkipped: ["x (no such exchange)"],
                                                     problem: "127.0.0.1:5672: connection refused (reconnecting)")),
                       "tap: 3 records from 1 exchange; not tapped: x (no such exchange); 127.0.0.1:5672: connection refused (reconnecting)")
    }
}
