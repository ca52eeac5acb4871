/// What a dead letter's headers say about the record that failed, parsed by `DeadLetterParser`.
///
/// Every field is optional: a dead letter may carry any subset of its convention's headers,
/// and anything garbled is left nil with a note in `problems` rather than guessed at.
public struct DeadLetter: Sendable, Hashable {
    /// Which producer's header convention a dead letter follows.
    public enum Convention: String, Sendable, Hashable, CaseIterable {
        /// Spring Kafka's `DeadLetterPublishingRecoverer` (`kafka_dlt-*`, `retry_topic-*`).
        case springKafka
        /// Kafka Connect's dead letter queue reporter (`__connect.errors.*`).
        case kafkaConnect
        /// RabbitMQ's dead-lettering (`x-death`, `x-first-death-*`): the server writes it.
        case rabbitMQ
        /// Only evtop's own redrive headers (`evtop-*`).
        case evtop
        /// No known dead-letter headers.
        case unknown
    }

    /// The dead-letter record itself, as read from the DLQ topic.
    public var record: Record
    /// The convention detected from header-name prefixes (Spring > Connect > evtop > unknown).
    public var convention: Convention
    /// Topic the failed record was consumed from.
    public var originalTopic: String?
    /// Partition the failed record was consumed from.
    public var originalPartition: Int32?
    /// Offset of the failed record in its original partition.
    public var originalOffset: Int64?
    /// Timestamp of the failed record, ms since the Unix epoch (Spring only).
    public var originalTimestampMillis: Int64?
    /// Timestamp type of the failed record, e.g. `CreateTime` (Spring only).
    public var originalTimestampType: String?
    /// Consumer group whose listener failed (Spring only).
    public var consumerGroup: String?
    /// Class of the exception thrown (Spring: the listener's wrapper exception).
    public var exceptionClass: String?
    /// Class of the root cause (Spring's `kafka_dlt-exception-cause-fqcn`); nil for Connect.
    public var causeClass: String?
    /// Exception message.
    public var exceptionMessage: String?
    /// Full stack trace, multi-line.
    public var stackTrace: String?
    /// Kafka Connect connector name.
    public var connectorName: String?
    /// Kafka Connect task id (a decimal string as Connect writes it).
    public var taskId: String?
    /// Kafka Connect stage that failed, e.g. `VALUE_CONVERTER`, `TRANSFORMATION`, `TASK_PUT`.
    public var stage: String?
    /// Kafka Connect class executing the failed stage (`__connect.errors.class.name`).
    public var stageClass: String?
    /// Delivery attempts before dead-lettering, when the producer recorded them.
    public var attempts: Int?
    /// evtop redrive id (`evtop-redrive-id`), set when evtop requeued this record.
    public var redriveID: String?
    /// Raw `evtop-redriven-from` text, `topic/partition/offset`.
    public var redrivenFrom: String?
    /// `redrivenFrom` parsed (split from the right: topics may contain `/`); nil when garbled.
    public var redrivenFromPosition: RecordPosition?
    /// When evtop redrove it, ms since the Unix epoch (`evtop-redriven-at`).
    public var redrivenAtMillis: Int64?
    /// RabbitMQ's `x-death` entries, most recent first, as the server keeps them (one per queue and reason).
    public var deaths: [Death] = []

    /// When it failed, ms since the epoch: its latest death on RabbitMQ (the record's time there is when it
    /// was first published), else the record's time (when it was written to the DLQ); nil when unknown.
    public var failedAtMillis: Int64? {
        if let died = deaths.first?.timeMillis { return died }
        return record.timestampMillis >= 0 ? record.timestampMillis : nil
    }
    /// Human-readable notes about garbled, missing or duplicated headers; never fatal.
    public var problems: [String]

    /// One entry of RabbitMQ's `x-death` header: a queue the message died in, and why.
    public struct Death: Sendable, Hashable {
        /// The queue it was dead-lettered from.
        public var queue: String?
        /// `rejected`, `expired`, `maxlen` or `delivery_limit`.
        public var reason: String?
        /// How many times it died in this queue for this reason.
        public var count: Int64?
        /// When it last died there, ms since the Unix epoch.
        public var timeMillis: Int64?
        /// The exchange it had been published to.
        public var exchange: String?
        /// The routing keys it had been published with (CC and BCC included).
        public var routingKeys: [String]

        /// Creates an entry.
        public init(queue: String? = nil, reason: String? = nil, count: Int64? = nil, timeMillis: Int64? = nil,
                    exchange: String? = nil, routingKeys: [String] = []) {
            self.queue = queue
            self.reason = reason
            self.count = count
            self.timeMillis = timeMillis
            self.exchange = exchange
            self.routingKeys = routingKeys
        }
    }

    /// Creates a dead letter that says nothing beyond the record; set fields as needed.
    public init(record: Record, convention: Convention = .unknown) {
        self.record = record
        self.convention = convention
        self.problems = []
    }
}

/// Header names of the dead-letter conventions evtop understands.
public enum DeadLetterHeaderNames {
    /// Spring Kafka's `DeadLetterPublishingRecoverer` and retry-topic headers.
    public enum Spring {
        /// Prefix of every dead-letter header Spring writes.
        public static let prefix = "kafka_dlt-"
        /// Prefix of Spring's non-blocking retry headers.
        public static let retryPrefix = "retry_topic-"
        /// Original topic (UTF-8).
        public static let originalTopic = "kafka_dlt-original-topic"
        /// Original partition (4-byte big-endian int32).
        public static let originalPartition = "kafka_dlt-original-partition"
        /// Original offset (8-byte big-endian int64).
        public static let originalOffset = "kafka_dlt-original-offset"
        /// Original timestamp, ms (8-byte big-endian int64).
        public static let originalTimestamp = "kafka_dlt-original-timestamp"
        /// Original timestamp type (UTF-8, `CreateTime` or `LogAppendTime`).
        public static let originalTimestampType = "kafka_dlt-original-timestamp-type"
        /// Consumer group (UTF-8).
        public static let originalConsumerGroup = "kafka_dlt-original-consumer-group"
        /// Exception class (UTF-8).
        public static let exceptionFQCN = "kafka_dlt-exception-fqcn"
        /// Root-cause class (UTF-8).
        public static let exceptionCauseFQCN = "kafka_dlt-exception-cause-fqcn"
        /// Exception message (UTF-8).
        public static let exceptionMessage = "kafka_dlt-exception-message"
        /// Stack trace (UTF-8).
        public static let exceptionStacktrace = "kafka_dlt-exception-stacktrace"
        /// Key-deserialization exception class, written instead of the value ones.
        public static let keyExceptionFQCN = "kafka_dlt-key-exception-fqcn"
        /// Key-deserialization root-cause class.
        public static let keyExceptionCauseFQCN = "kafka_dlt-key-exception-cause-fqcn"
        /// Key-deserialization exception message.
        public static let keyExceptionMessage = "kafka_dlt-key-exception-message"
        /// Key-deserialization stack trace.
        public static let keyExceptionStacktrace = "kafka_dlt-key-exception-stacktrace"
        /// Retry-topic attempts (4-byte big-endian int; 1 byte in early versions).
        public static let retryAttempts = "retry_topic-attempts"
        /// Attempts, as some producers name it (same encoding as `retryAttempts`).
        public static let attempts = "kafka_dlt-attempts"
    }

    /// Kafka Connect's dead letter queue context headers (values are UTF-8 strings).
    public enum Connect {
        /// Prefix of every error-context header Connect writes.
        public static let prefix = "__connect.errors."
        /// Original topic.
        public static let topic = "__connect.errors.topic"
        /// Original partition (decimal text).
        public static let partition = "__connect.errors.partition"
        /// Original offset (decimal text).
        public static let offset = "__connect.errors.offset"
        /// Connector name.
        public static let connectorName = "__connect.errors.connector.name"
        /// Task id (decimal text).
        public static let taskID = "__connect.errors.task.id"
        /// Failed stage.
        public static let stage = "__connect.errors.stage"
        /// Class executing the failed stage.
        public static let className = "__connect.errors.class.name"
        /// Exception class.
        public static let exceptionClassName = "__connect.errors.exception.class.name"
        /// Exception message.
        public static let exceptionMessage = "__connect.errors.exception.message"
        /// Stack trace.
        public static let exceptionStacktrace = "__connect.errors.exception.stacktrace"
    }

    /// RabbitMQ's, written by the server when it dead-letters a message.
    public enum RabbitMQ {
        /// The death history: an array of tables (evtop's RabbitMQ source hands it over as JSON).
        public static let death = "x-death"
        /// Prefix of the first death's queue, reason and exchange.
        public static let firstDeathPrefix = "x-first-death-"
        /// Prefix of the last death's queue, reason and exchange.
        public static let lastDeathPrefix = "x-last-death-"
        /// The queue it first died in.
        public static let firstDeathQueue = "x-first-death-queue"
        /// Why it first died.
        public static let firstDeathReason = "x-first-death-reason"
        /// The exchange it was published to before it first died.
        public static let firstDeathExchange = "x-first-death-exchange"
    }

    /// evtop's own headers, written by the demo and by redrive.
    public enum Evtop {
        /// Prefix of evtop's headers.
        public static let prefix = "evtop-"
        /// Redrive id.
        public static let redriveID = "evtop-redrive-id"
        /// Where the redriven record came from: `topic/partition/offset`.
        public static let redrivenFrom = "evtop-redriven-from"
        /// When it was redriven: decimal ms since the epoch, or ISO 8601.
        public static let redrivenAt = "evtop-redriven-at"
    }
}
