import EventModel

/// Why a consumer failed to process a record, phrased as a Spring Kafka listener would report it.
struct DemoFailure: Error, Sendable, Hashable {
    /// Fully-qualified class name of the root cause.
    var causeClass: String
    /// The cause's message.
    var message: String
    /// Stack frames of the cause, innermost first, without the leading "\tat ".
    var causeFrames: [String]

    static let listenerException = "org.springframework.kafka.listener.ListenerExecutionFailedException"

    /// A plausible multi-line Java stack trace: the listener exception, then "Caused by".
    func stackTrace(service: String) -> String {
        let pkg = "com.example.\(service.replacingOccurrences(of: "-service", with: ""))"
        let listener = "\(pkg).EventsListener.onEvent"
        var lines = [
            "\(Self.listenerException): Listener method 'public void \(listener)(org.apache.kafka.clients.consumer.ConsumerRecord<java.lang.String, byte[]>)' threw exception",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.decorateException(KafkaMessageListenerContainer.java:2976)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.doInvokeOnMessage(KafkaMessageListenerContainer.java:2883)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.invokeOnMessage(KafkaMessageListenerContainer.java:2842)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.doInvokeRecordListener(KafkaMessageListenerContainer.java:2747)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.invokeRecordListener(KafkaMessageListenerContainer.java:2601)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.pollAndInvoke(KafkaMessageListenerContainer.java:1580)",
            "\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.run(KafkaMessageListenerContainer.java:1303)",
            "\tat java.base/java.util.concurrent.CompletableFuture$AsyncRun.run(CompletableFuture.java:1804)",
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
            "Caused by: \(causeClass): \(message)",
        ]
        lines += causeFrames.map { "\tat " + $0.replacingOccurrences(of: "$PKG", with: pkg) }
        lines += [
            "\tat \(listener)(EventsListener.java:41)",
            "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)",
            "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)",
            "\tat org.springframework.messaging.handler.invocation.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:169)",
            "\tat org.springframework.kafka.listener.adapter.HandlerAdapter.invoke(HandlerAdapter.java:56)",
            "\tat org.springframework.kafka.listener.adapter.MessagingMessageListenerAdapter.invokeHandler(MessagingMessageListenerAdapter.java:375)",
            "\t... 8 more",
        ]
        return lines.joined(separator: "\n")
    }

    // MARK: Failures the demo's consumers raise

    static func invalidUTF8(byte: UInt8, middle: Bool, column: Int) -> DemoFailure {
        DemoFailure(
            causeClass: "com.fasterxml.jackson.core.JsonParseException",
            message: "Invalid UTF-8 \(middle ? "middle" : "start") byte 0x\(Mix.hex(byte, width: 2)) at [Source: (byte[]); line: 1, column: \(column)]",
            causeFrames: jacksonFrames)
    }

    static func controlCharacter(code: UInt8, column: Int) -> DemoFailure {
        DemoFailure(
            causeClass: "com.fasterxml.jackson.core.JsonParseException",
            message: "Illegal unquoted character ((CTRL-CHAR, code \(code))): has to be escaped using backslash to be included in string value at [Source: (byte[]); line: 1, column: \(column)]",
            causeFrames: jacksonFrames)
    }

    static func malformedJSON() -> DemoFailure {
        DemoFailure(
            causeClass: "com.fasterxml.jackson.core.JsonParseException",
            message: "Unexpected character: was expecting a JSON object at [Source: (byte[]); line: 1, column: 1]",
            causeFrames: jacksonFrames)
    }

    static func unknownSKU(_ sku: String) -> DemoFailure {
        DemoFailure(
            causeClass: "java.lang.IllegalStateException",
            message: "\(sku) not found in catalog",
            causeFrames: ["$PKG.CatalogClient.priceOf(CatalogClient.java:57)",
                          "$PKG.PaymentHandler.authorize(PaymentHandler.java:88)"])
    }

    static func unsupportedSchema(_ version: Int, eventType: String) -> DemoFailure {
        DemoFailure(
            causeClass: "java.lang.UnsupportedOperationException",
            message: "Unsupported schemaVersion \(version) for \(eventType) (supported: 1-2)",
            causeFrames: ["$PKG.EventUpcaster.upcast(EventUpcaster.java:33)",
                          "$PKG.EventDecoder.decode(EventDecoder.java:71)"])
    }

    static func nonPositiveQuantity(_ quantity: Int) -> DemoFailure {
        DemoFailure(
            causeClass: "java.lang.IllegalArgumentException",
            message: "quantity must be positive but was \(quantity)",
            causeFrames: ["$PKG.StockLedger.reserve(StockLedger.java:112)",
                          "$PKG.ReservationHandler.onPaymentAuthorized(ReservationHandler.java:64)"])
    }

    private static let jacksonFrames = [
        "com.fasterxml.jackson.core.JsonParser._constructError(JsonParser.java:2477)",
        "com.fasterxml.jackson.core.base.ParserMinimalBase._reportError(ParserMinimalBase.java:742)",
        "com.fasterxml.jackson.core.json.UTF8StreamJsonParser._finishString2(UTF8StreamJsonParser.java:2592)",
        "com.fasterxml.jackson.databind.ObjectMapper.readTree(ObjectMapper.java:3284)",
        "$PKG.EventDecoder.decode(EventDecoder.java:52)",
    ]
}

/// Dead letters as Spring Kafka's `DeadLetterPublishingRecoverer` publishes them
/// (header names shared with the parser in EventModel).
enum SpringDLTHeaders {
    private typealias Name = DeadLetterHeaderNames.Spring

    /// The dead letter of `record` as Spring's recoverer publishes it: same key and value,
    /// original headers followed by the `kafka_dlt-*` headers.
    static func deadLetter(of record: Record, to topic: String, group: String,
                           failure: DemoFailure, timestampMillis: Int64) -> OutgoingRecord {
        var headers = record.headers
        headers.append(RecordHeader(Name.originalTopic, record.topic))
        headers.append(RecordHeader(name: Name.originalPartition, value: record.partition.bigEndianBytes))
        headers.append(RecordHeader(name: Name.originalOffset, value: record.offset.bigEndianBytes))
        headers.append(RecordHeader(name: Name.originalTimestamp, value: record.timestampMillis.bigEndianBytes))
        headers.append(RecordHeader(Name.originalTimestampType, "CreateTime"))
        headers.append(RecordHeader(Name.originalConsumerGroup, group))
        headers.append(RecordHeader(Name.exceptionFQCN, DemoFailure.listenerException))
        headers.append(RecordHeader(Name.exceptionCauseFQCN, failure.causeClass))
        headers.append(RecordHeader(Name.exceptionMessage, failure.message))
        headers.append(RecordHeader(Name.exceptionStacktrace, failure.stackTrace(service: group)))
        return OutgoingRecord(topic: topic, partition: 0, timestampMillis: timestampMillis,
                              key: record.key, headers: headers, value: record.value)
    }
}
