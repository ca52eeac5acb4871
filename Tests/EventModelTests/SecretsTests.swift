import EventModel
import XCTest

/// The one redaction rule: which names are secrets, URLs without credentials, free text scrubbed.
final class SecretsTests: XCTestCase {
    func testSecretNames() {
        for name in ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
                     "ssl.key.pem", "sasl.jaas.config", "api.key", "access_token", "aws-credentials", "PASSWORD", "passwd"] {
            XCTAssertTrue(Secrets.isSecretName(name), name)
        }
        for name in ["sasl.username", "security.protocol", "bootstrap.servers", "client.id", "sasl.mechanism", "ssl.keystore.type"] {
            XCTAssertFalse(Secrets.isSecretName(name), name)
        }
        XCTAssertEqual(Secrets.shown("client.id", value: "e2e"), "e2e")
        XCTAssertEqual(Secrets.shown("sasl.password", value: "hunter2"), "***")
        XCTAssertEqual(Secrets.shown("sasl.pasword", value: "hunter2", known: false), "***", "an unknown name may be a mistyped secret one")
        XCTAssertEqual(Secrets.redacted(["sasl.username": "ops", "sasl.password": "hunter2"]), ["sasl.password=***", "sasl.username=ops"])
    }

    func testURLsLoseTheirCredentialsAndQueryValues() {
        XCTAssertEqual(Secrets.url("kafka://u:hunter2@h:9092"), "kafka://***@h:9092")
        XCTAssertEqual(Secrets.url("kafka://h1:9092,u:p@h2:9092"), "kafka://***@h2:9092")
        XCTAssertEqual(Secrets.url("amqp://guest:guest@rabbit:5672/vhost?heartbeat=10#x"), "amqp://***@rabbit:5672/vhost?heartbeat=***#***")
        XCTAssertEqual(Secrets.url("kafka://h:9092?sasl.password=hunter2&x"), "kafka://h:9092?sasl.password=***&x")
        XCTAssertEqual(Secrets.url("u:hunter2@h:9092"), "u:***@h:9092")
        XCTAssertEqual(Secrets.url("sqlite:/data/backup@2024.db"), "sqlite:/data/backup@2024.db", "an @ in a path is no user")
        XCTAssertEqual(Secrets.url("kafka://localhost:9092"), "kafka://localhost:9092")
        XCTAssertEqual(Secrets.url("localhost:9092"), "localhost:9092")
    }

    func testFreeTextIsScrubbedButProseStaysReadable() {
        XCTAssertEqual(Secrets.scrub("connect to amqp://guest:s3cr3t@rabbit:5672 failed"), "connect to amqp://***@rabbit:5672 failed")
        XCTAssertEqual(Secrets.scrub("args: sasl.password=s3cr3t client.id=x"), "args: sasl.password=*** client.id=x")
        XCTAssertEqual(Secrets.scrub("{\"password\":\"s3cr3t\",\"user\":\"u\"}"), "{\"password\":\"***\",\"user\":\"u\"}")
        XCTAssertEqual(Secrets.scrub("Invalid value \"hunter2\" for x", values: ["hunter2"]), "Invalid value \"***\" for x")
        let prose = "a Kafka URL takes no user or password: give them with -X (sasl.username, sasl.password); -X takes key=value"
        XCTAssertEqual(Secrets.scrub(prose), prose)
    }
}
