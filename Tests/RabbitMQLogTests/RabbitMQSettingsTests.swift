import XCTest
import EventModel
@testable import RabbitMQLog

final class RabbitMQSettingsTests: XCTestCase {
    func testAURLIsReadAsRabbitMQsURISpecSaysWithItsDefaults() throws {
        let plain = try RabbitMQSettings(url: "amqp://h")
        XCTAssertEqual([plain.host, plain.vhost, plain.user, plain.password], ["h", "/", "guest", "guest"])
        XCTAssertEqual(plain.port, 5672)
        XCTAssertFalse(plain.tls)
        XCTAssertEqual(plain.management.absoluteString, "http://h:15672")

        let tls = try RabbitMQSettings(url: "AMQPS://ops:p%40ss%3Aword@[::1]/orders%2Fprod", management: "https://mgmt:443/")
        XCTAssertTrue(tls.tls)
        XCTAssertEqual([tls.host, tls.vhost, tls.user, tls.password], ["::1", "orders/prod", "ops", "p@ss:word"])
        XCTAssertEqual(tls.port, 5671)
        XCTAssertEqual(tls.management.absoluteString, "https://mgmt:443")
        XCTAssertEqual(tls.description, "amqps://[::1]:5671/orders%2Fprod", "the shown URL has no credentials")

        let empty = try RabbitMQSettings(url: "amqp://u:@h:5673/")
        XCTAssertEqual([empty.user, empty.password], ["u", ""])
        XCTAssertEqual(empty.port, 5673)
    }

    func testBrokenURLsSayWhatIsWrongAndNeverShowThePassword() {
        func reason(_ url: String, management: String? = nil) -> String {
            do { _ = try RabbitMQSettings(url: url, management: management); return "accepted" } catch { return String(describing: error) }
        }
        let cases: [(String, String?, String)] = [
            ("amqp://", nil, "no host"),
            ("amqp://u:SECRET@h:0/", nil, "port is not a number"),
            ("amqp://u:SECRET@h:99999/", nil, "port is not a number"),
            ("amqp://u:SECRET@[::1/", nil, "unclosed '['"),
            ("amqp://u:SECRET@h/?heartbeat=10", nil, "are not read"),
            ("amqp://u:SECRET@h/v%zz", nil, "percent-encoding"),
            ("amqp://u:SECRET@h/", "ftp://h", "http:// or https://"),
            ("amqp://u:SECRET@h/", "http://u:SECRET@h:15672", "takes no user or password"),
            ("kafka://h:9092", nil, "use amqp://"),
        ]
        for (url, management, expected) in cases {
            let text = reason(url, management: management)
            XCTAssertTrue(text.contains(expected), "\(url): \(text)")
            XCTAssertFalse(text.contains("SECRET"), "\(url): \(text)")
        }
    }
}
