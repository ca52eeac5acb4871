import XCTest
@testable import EventModel

final class DeadLetterParserTests: XCTestCase {
    // MARK: helpers

    private func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private func dlq(_ headers: [RecordHeader], topic: String = "orders.DLT") -> Record {
        Record(topic: topic, partition: 0, offset: 7, timestampMillis: 1_715_000_000_000,
               key: Array("order-42".utf8), headers: headers, value: Array("{\"id\":42}".utf8))
    }

    private func h(_ name: String, _ text: String) -> RecordHeader { RecordHeader(name, text) }
    private func h(_ name: String, bytes: [UInt8]) -> RecordHeader { RecordHeader(name: name, value: bytes) }

    private let trace = """
        org.springframework.kafka.listener.ListenerExecutionFailedException: Listener method 'public void \
        com.acme.orders.OrderListener.onOrder(java.lang.String)' threw exception
        \tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.decorateException(KafkaMessageListenerContainer.java:2945)
        Caused by: com.fasterxml.jackson.core.JsonParseException: Unexpected character ('}' (code 125))
        \tat com.fasterxml.jackson.core.JsonParser._constructError(JsonParser.java:2477)
        """

    private func springHeaders() -> [RecordHeader] {
        [
            h("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            h("kafka_dlt-original-topic", "orders"),
            h("kafka_dlt-original-partition", bytes: be(Int32(3))),
            h("kafka_dlt-original-offset", bytes: be(Int64(1_234_567_890_123))),
            h("kafka_dlt-original-timestamp", bytes: be(Int64(1_714_999_999_123))),
            h("kafka_dlt-original-timestamp-type", "CreateTime"),
            h("kafka_dlt-original-consumer-group", "order-service"),
            h("kafka_dlt-exception-fqcn", "org.springframework.kafka.listener.ListenerExecutionFailedException"),
            h("kafka_dlt-exception-cause-fqcn", "com.fasterxml.jackson.core.JsonParseException"),
            h("kafka_dlt-exception-message", "Listener method 'public void com.acme.orders.OrderListener.onOrder(java.lang.String)' threw exception"),
            h("kafka_dlt-exception-stacktrace", trace),
        ]
    }

    // MARK: Spring Kafka

    func testSpringKafkaBinaryHeaders() {
        let record = dlq(springHeaders() + [h("retry_topic-attempts", bytes: be(Int32(4)))])
        let d = DeadLetterParser.parse(record)
        XCTAssertEqual(d.record, record)
        XCTAssertEqual(d.convention, .springKafka)
        XCTAssertEqual(d.originalTopic, "orders")
        XCTAssertEqual(d.originalPartition, 3)
        XCTAssertEqual(d.originalOffset, 1_234_567_890_123)
        XCTAssertEqual(d.originalTimestampMillis, 1_714_999_999_123)
        XCTAssertEqual(d.originalTimestampType, "CreateTime")
        XCTAssertEqual(d.consumerGroup, "order-service")
        XCTAssertEqual(d.exceptionClass, "org.springframework.kafka.listener.ListenerExecutionFailedException")
        XCTAssertEqual(d.causeClass, "com.fasterxml.jackson.core.JsonParseException")
        XCTAssertEqual(d.exceptionMessage?.hasPrefix("Listener method"), true)
        XCTAssertEqual(d.stackTrace, trace)
        XCTAssertEqual(d.attempts, 4)
        XCTAssertNil(d.connectorName)
        XCTAssertNil(d.redriveID)
        XCTAssertEqual(d.problems, [])
    }

    func testSpringLargeAndBoundaryBinaryValues() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "t"),
            h("kafka_dlt-original-partition", bytes: be(Int32(0x0102_0304))),
            h("kafka_dlt-original-offset", bytes: be(Int64.max)),
            h("kafka_dlt-original-timestamp", bytes: be(Int64(-1))),
        ]))
        XCTAssertEqual(d.originalPartition, 0x0102_0304)
        XCTAssertEqual(d.originalOffset, Int64.max)
        XCTAssertEqual(d.originalTimestampMillis, -1, "-1 is Kafka's no-timestamp, not a problem")
        XCTAssertEqual(d.problems, [])
    }

    func testSpringTextDigitsAccepted() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "payments"),
            h("kafka_dlt-original-partition", "12"),
            h("kafka_dlt-original-offset", "98765"),
            h("kafka_dlt-original-timestamp", " 1714999999123\n"),
            h("retry_topic-attempts", "3"),
        ]))
        XCTAssertEqual(d.originalPartition, 12)
        XCTAssertEqual(d.originalOffset, 98_765)
        XCTAssertEqual(d.originalTimestampMillis, 1_714_999_999_123)
        XCTAssertEqual(d.attempts, 3)
        XCTAssertEqual(d.problems, [])
    }

    func testSpringTextDigitsOfBinaryWidthReadAsText() {
        // "1234" is 4 bytes, like a binary int32; text wins (as binary it would be 825,373,492).
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "t"),
            h("kafka_dlt-original-partition", "1234"),
            h("kafka_dlt-original-offset", "12345678"),
        ]))
        XCTAssertEqual(d.originalPartition, 1234)
        XCTAssertEqual(d.originalOffset, 12_345_678)
    }

    func testSpringGarbledLengthsAreNotedAndDropped() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "orders"),
            h("kafka_dlt-original-partition", bytes: [0, 0, 3]),
            h("kafka_dlt-original-offset", bytes: be(Int32(77))),
            h("kafka_dlt-original-timestamp", bytes: []),
        ]))
        XCTAssertEqual(d.originalTopic, "orders")
        XCTAssertNil(d.originalPartition)
        XCTAssertNil(d.originalOffset)
        XCTAssertNil(d.originalTimestampMillis)
        XCTAssertEqual(d.problems.count, 3, "\(d.problems)")
        XCTAssertTrue(d.problems.contains { $0.hasPrefix("kafka_dlt-original-partition") && $0.contains("4-byte") && $0.contains("3 bytes") })
        XCTAssertTrue(d.problems.contains { $0.hasPrefix("kafka_dlt-original-offset") && $0.contains("8-byte") && $0.contains("4 bytes") })
        XCTAssertTrue(d.problems.contains { $0.hasPrefix("kafka_dlt-original-timestamp") && $0.contains("empty") })
    }

    func testSpringTextOutOfRangeAndNegative() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "t"),
            h("kafka_dlt-original-partition", "99999999999"),
            h("kafka_dlt-original-offset", bytes: be(Int64(-5))),
        ]))
        XCTAssertNil(d.originalPartition)
        XCTAssertEqual(d.originalOffset, -5)
        XCTAssertTrue(d.problems.contains { $0.contains("out of range") })
        XCTAssertTrue(d.problems.contains { $0.contains("negative") })
    }

    func testSpringMissingOriginHeadersNoted() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-exception-fqcn", "java.lang.IllegalStateException"),
        ]))
        XCTAssertEqual(d.convention, .springKafka)
        XCTAssertEqual(d.exceptionClass, "java.lang.IllegalStateException")
        XCTAssertNil(d.originalTopic)
        XCTAssertNil(d.originalPartition)
        XCTAssertNil(d.originalOffset)
        XCTAssertNil(d.originalTimestampMillis)
        XCTAssertNil(d.consumerGroup)
        XCTAssertNil(d.causeClass)
        XCTAssertNil(d.attempts)
        XCTAssertEqual(d.problems, ["kafka_dlt-original-topic missing", "kafka_dlt-original-partition missing",
                                    "kafka_dlt-original-offset missing"])
    }

    func testSpringKeyExceptionHeadersFillIn() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", "orders"),
            h("kafka_dlt-original-partition", bytes: be(Int32(0))),
            h("kafka_dlt-original-offset", bytes: be(Int64(1))),
            h("kafka_dlt-key-exception-fqcn", "org.springframework.kafka.support.serializer.DeserializationException"),
            h("kafka_dlt-key-exception-message", "failed to deserialize key"),
            h("kafka_dlt-key-exception-stacktrace", "at ..."),
        ]))
        XCTAssertEqual(d.exceptionClass, "org.springframework.kafka.support.serializer.DeserializationException")
        XCTAssertEqual(d.exceptionMessage, "failed to deserialize key")
        XCTAssertEqual(d.stackTrace, "at ...")
        XCTAssertEqual(d.problems, [])
    }

    func testAttemptsEncodings() {
        XCTAssertEqual(DeadLetterParser.parse(dlq([h("retry_topic-attempts", bytes: [5])])).attempts, 5)
        XCTAssertEqual(DeadLetterParser.parse(dlq([h("kafka_dlt-attempts", bytes: be(Int32(2)))])).attempts, 2)
        let garbled = DeadLetterParser.parse(dlq([h("retry_topic-attempts", bytes: [0, 1])]))
        XCTAssertNil(garbled.attempts)
        XCTAssertTrue(garbled.problems.contains { $0.hasPrefix("retry_topic-attempts") && $0.contains("2 bytes") })
        XCTAssertEqual(garbled.convention, .springKafka)
    }

    // MARK: Kafka Connect

    private func connectHeaders() -> [RecordHeader] {
        [
            h("__connect.errors.topic", "inventory.public.items"),
            h("__connect.errors.partition", "2"),
            h("__connect.errors.offset", "40517"),
            h("__connect.errors.connector.name", "jdbc-sink-items"),
            h("__connect.errors.task.id", "0"),
            h("__connect.errors.stage", "VALUE_CONVERTER"),
            h("__connect.errors.class.name", "org.apache.kafka.connect.json.JsonConverter"),
            h("__connect.errors.exception.class.name", "org.apache.kafka.connect.errors.DataException"),
            h("__connect.errors.exception.message", "Converting byte[] to Kafka Connect data failed due to serialization error: "),
            h("__connect.errors.exception.stacktrace", "org.apache.kafka.connect.errors.DataException: Converting byte[]...\n\tat org.apache.kafka.connect.json.JsonConverter.toConnectData(JsonConverter.java:324)"),
        ]
    }

    func testKafkaConnectHeaders() {
        let d = DeadLetterParser.parse(dlq(connectHeaders(), topic: "dlq.jdbc-sink-items"))
        XCTAssertEqual(d.convention, .kafkaConnect)
        XCTAssertEqual(d.originalTopic, "inventory.public.items")
        XCTAssertEqual(d.originalPartition, 2)
        XCTAssertEqual(d.originalOffset, 40_517)
        XCTAssertEqual(d.connectorName, "jdbc-sink-items")
        XCTAssertEqual(d.taskId, "0")
        XCTAssertEqual(d.stage, "VALUE_CONVERTER")
        XCTAssertEqual(d.stageClass, "org.apache.kafka.connect.json.JsonConverter")
        XCTAssertEqual(d.exceptionClass, "org.apache.kafka.connect.errors.DataException")
        XCTAssertNil(d.causeClass)
        XCTAssertEqual(d.exceptionMessage?.hasPrefix("Converting byte[]"), true)
        XCTAssertEqual(d.stackTrace?.contains("JsonConverter.toConnectData"), true)
        XCTAssertNil(d.originalTimestampMillis)
        XCTAssertNil(d.consumerGroup)
        XCTAssertEqual(d.problems, [])
    }

    func testKafkaConnectBinaryToleratedButNoted() {
        var headers = connectHeaders().filter { $0.name != "__connect.errors.partition" && $0.name != "__connect.errors.offset" }
        headers.append(h("__connect.errors.partition", bytes: be(Int32(6))))
        headers.append(h("__connect.errors.offset", bytes: [0xFF, 0x01]))
        let d = DeadLetterParser.parse(dlq(headers))
        XCTAssertEqual(d.originalPartition, 6)
        XCTAssertNil(d.originalOffset)
        XCTAssertTrue(d.problems.contains { $0.hasPrefix("__connect.errors.partition") && $0.contains("binary") })
        XCTAssertTrue(d.problems.contains { $0.hasPrefix("__connect.errors.offset") && $0.contains("[ff 01]") })
    }

    func testKafkaConnectMissingOffsetNoted() {
        let headers = connectHeaders().filter { $0.name != "__connect.errors.offset" }
        let d = DeadLetterParser.parse(dlq(headers))
        XCTAssertNil(d.originalOffset)
        XCTAssertEqual(d.problems, ["__connect.errors.offset missing"])
    }

    // MARK: evtop

    func testEvtopRedriveHeaders() {
        let d = DeadLetterParser.parse(dlq([
            h("evtop-redrive-id", "rd-20240506-0001"),
            h("evtop-redriven-from", "orders.DLT/0/17"),
            h("evtop-redriven-at", "1715000000456"),
        ], topic: "orders"))
        XCTAssertEqual(d.convention, .evtop)
        XCTAssertEqual(d.redriveID, "rd-20240506-0001")
        XCTAssertEqual(d.redrivenFrom, "orders.DLT/0/17")
        XCTAssertEqual(d.redrivenFromPosition, RecordPosition(topic: "orders.DLT", partition: 0, offset: 17))
        XCTAssertEqual(d.redrivenAtMillis, 1_715_000_000_456)
        XCTAssertEqual(d.problems, [])
    }

    func testRedrivenFromTopicContainingSlash() {
        let d = DeadLetterParser.parse(dlq([h("evtop-redriven-from", "team/a/orders.DLT/12/3456")]))
        XCTAssertEqual(d.redrivenFromPosition, RecordPosition(topic: "team/a/orders.DLT", partition: 12, offset: 3456))
        XCTAssertEqual(d.problems, [])
    }

    func testRedrivenFromGarbled() {
        for bad in ["orders.DLT", "orders.DLT/1", "/1/2", "orders/x/2", "orders/1/-2", "orders/1/", "a/1/99999999999999999999"] {
            let d = DeadLetterParser.parse(dlq([h("evtop-redriven-from", bad)]))
            XCTAssertEqual(d.redrivenFrom, bad)
            XCTAssertNil(d.redrivenFromPosition, bad)
            XCTAssertEqual(d.problems.count, 1, bad)
            XCTAssertTrue(d.problems.first?.hasPrefix("evtop-redriven-from") ?? false, bad)
        }
    }

    func testRedrivenAtISO8601() {
        let cases: [(String, Int64)] = [
            ("2024-05-06T12:00:00Z", 1_714_996_800_000),
            ("2024-05-06T12:00:00.250Z", 1_714_996_800_250),
            ("2024-05-06T14:00:00+02:00", 1_714_996_800_000),
        ]
        for (text, millis) in cases {
            let d = DeadLetterParser.parse(dlq([h("evtop-redriven-at", text)]))
            XCTAssertEqual(d.redrivenAtMillis, millis, text)
            XCTAssertEqual(d.problems, [], text)
        }
        let bad = DeadLetterParser.parse(dlq([h("evtop-redriven-at", "yesterday")]))
        XCTAssertNil(bad.redrivenAtMillis)
        XCTAssertEqual(bad.problems.count, 1)
    }

    func testRedrivenSpringDeadLetterKeepsBothSets() {
        // A record evtop redrove that failed again: Spring's headers plus evtop's, convention Spring.
        let d = DeadLetterParser.parse(dlq(springHeaders() + [
            h("evtop-redrive-id", "rd-1"),
            h("evtop-redriven-from", "orders.DLT/0/3"),
        ]))
        XCTAssertEqual(d.convention, .springKafka)
        XCTAssertEqual(d.originalTopic, "orders")
        XCTAssertEqual(d.redriveID, "rd-1")
        XCTAssertEqual(d.redrivenFromPosition?.offset, 3)
    }

    // MARK: detection, duplicates, encoding

    func testConventionPrecedence() {
        let both = DeadLetterParser.parse(dlq(connectHeaders() + springHeaders()))
        XCTAssertEqual(both.convention, .springKafka)
        XCTAssertEqual(both.originalTopic, "orders", "Spring wins where both say")
        XCTAssertEqual(both.connectorName, "jdbc-sink-items", "Connect-only fields still read")
        XCTAssertTrue(both.problems.contains { $0.contains("both") })

        XCTAssertEqual(DeadLetterParser.parse(dlq(connectHeaders() + [h("evtop-redrive-id", "x")])).convention, .kafkaConnect)
        let plain = DeadLetterParser.parse(dlq([h("traceparent", "00-abc"), h("content-type", "application/json")]))
        XCTAssertEqual(plain.convention, .unknown)
        XCTAssertEqual(plain.problems, [])
        XCTAssertNil(plain.originalTopic)
        XCTAssertEqual(DeadLetterParser.parse(dlq([])).convention, .unknown)
    }

    func testDuplicatedHeadersUseLastAndAreNoted() {
        let d = DeadLetterParser.parse(dlq(springHeaders() + [
            h("kafka_dlt-original-topic", "orders-v2"),
            h("kafka_dlt-original-partition", bytes: be(Int32(9))),
            h("kafka_dlt-original-consumer-group", "order-service"),
        ]))
        XCTAssertEqual(d.originalTopic, "orders-v2")
        XCTAssertEqual(d.originalPartition, 9)
        XCTAssertEqual(d.consumerGroup, "order-service")
        XCTAssertEqual(d.problems.count, 3, "\(d.problems)")
        XCTAssertTrue(d.problems.contains("kafka_dlt-original-topic appears 2 times (values differ); using the last"))
        XCTAssertTrue(d.problems.contains("kafka_dlt-original-consumer-group appears 2 times (identical values); using the last"))
        // Unknown headers may repeat freely.
        let other = DeadLetterParser.parse(dlq([h("x", "1"), h("x", "2")]))
        XCTAssertEqual(other.problems, [])
    }

    func testNonUTF8ValuesDecodedLossily() {
        let d = DeadLetterParser.parse(dlq([
            h("kafka_dlt-original-topic", bytes: [0x6F, 0x72, 0xFF, 0x64]),
            h("kafka_dlt-original-partition", bytes: be(Int32(1))),
            h("kafka_dlt-original-offset", bytes: be(Int64(2))),
            h("kafka_dlt-exception-message", bytes: [0xC3, 0x28, 0x41]),
            h("evtop-redriven-from", bytes: Array("caf".utf8) + [0xE9] + Array("/1/2".utf8)),
        ]))
        XCTAssertEqual(d.originalTopic, "or\u{FFFD}d")
        XCTAssertEqual(d.exceptionMessage, "\u{FFFD}(A")
        XCTAssertEqual(d.redrivenFromPosition, RecordPosition(topic: "caf\u{FFFD}", partition: 1, offset: 2))
        XCTAssertEqual(d.problems.filter { $0.contains("not valid UTF-8") }.count, 3, "\(d.problems)")
    }

    func testEmptyTextHeaderIsAbsent() {
        let d = DeadLetterParser.parse(dlq(springHeaders().filter { $0.name != "kafka_dlt-exception-message" }
                                           + [h("kafka_dlt-exception-message", bytes: [])]))
        XCTAssertNil(d.exceptionMessage)
        XCTAssertEqual(d.problems, [])
    }

    // MARK: robustness

    /// Deterministic SplitMix64, so a failure reproduces.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func testRandomBytesNeverTrap() {
        let names = [
            "kafka_dlt-original-topic", "kafka_dlt-original-partition", "kafka_dlt-original-offset",
            "kafka_dlt-original-timestamp", "kafka_dlt-original-timestamp-type", "kafka_dlt-original-consumer-group",
            "kafka_dlt-exception-fqcn", "kafka_dlt-exception-cause-fqcn", "kafka_dlt-exception-message",
            "kafka_dlt-exception-stacktrace", "kafka_dlt-key-exception-fqcn", "kafka_dlt-key-exception-cause-fqcn",
            "kafka_dlt-key-exception-message", "kafka_dlt-key-exception-stacktrace", "retry_topic-attempts",
            "kafka_dlt-attempts",
            "__connect.errors.topic", "__connect.errors.partition", "__connect.errors.offset",
            "__connect.errors.connector.name", "__connect.errors.task.id", "__connect.errors.stage",
            "__connect.errors.class.name", "__connect.errors.exception.class.name",
            "__connect.errors.exception.message", "__connect.errors.exception.stacktrace",
            "evtop-redrive-id", "evtop-redriven-from", "evtop-redriven-at",
        ]
        // Bytes biased toward the interesting ones: digits, signs, '/', whitespace, UTF-8 lead bytes.
        let alphabet: [UInt8] = Array("0123456789-+/ \n:TZ.".utf8) + [0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xF0, 0xF4, 0xF8, 0xFF]
        var rng = SplitMix64(state: 0xD1E_1E77E5)
        for _ in 0..<3_000 {
            var headers: [RecordHeader] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                let name = names.randomElement(using: &rng) ?? "x"
                let length = [0, 1, 2, 3, 4, 5, 8, 9, 16, 40].randomElement(using: &rng) ?? 0
                let value = (0..<length).map { _ in
                    Bool.random(using: &rng) ? (alphabet.randomElement(using: &rng) ?? 0) : UInt8.random(in: 0...255, using: &rng)
                }
                headers.append(RecordHeader(name: name, value: value))
            }
            let record = dlq(headers)
            let d = DeadLetterParser.parse(record)
            XCTAssertEqual(d.record, record)
            for problem in d.problems { XCTAssertFalse(problem.isEmpty) }
        }
        // Every header at once, each with random bytes of the fixed widths that pick the binary paths.
        for _ in 0..<500 {
            let headers = names.map { name in
                RecordHeader(name: name, value: (0..<([4, 8].randomElement(using: &rng) ?? 4)).map { _ in
                    UInt8.random(in: 0...255, using: &rng)
                })
            }
            _ = DeadLetterParser.parse(dlq(headers))
        }
    }
}
