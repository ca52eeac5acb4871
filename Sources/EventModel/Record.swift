import Foundation

/// One Kafka record header: names may repeat and values are raw bytes.
public struct RecordHeader: Sendable, Hashable, Codable {
    /// Header name (Kafka header keys are strings).
    public var name: String
    /// Header value; never assumed to be UTF-8.
    public var value: [UInt8]

    /// Creates a header from raw bytes.
    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }

    /// Creates a header from a UTF-8 string value.
    public init(_ name: String, _ text: String) {
        self.init(name: name, value: Array(text.utf8))
    }

    /// The value decoded as UTF-8, or nil when it is not valid UTF-8.
    public var utf8Value: String? { String(validating: value, as: UTF8.self) }
}

/// A record as stored in a partition of a topic (Kafka semantics).
public struct Record: Sendable, Hashable {
    /// Topic name.
    public var topic: String
    /// Partition number within the topic.
    public var partition: Int32
    /// Offset within the partition.
    public var offset: Int64
    /// Producer or log-append timestamp, milliseconds since the Unix epoch.
    public var timestampMillis: Int64
    /// Record key; nil means no key.
    public var key: [UInt8]?
    /// Ordered headers; names may repeat.
    public var headers: [RecordHeader]
    /// Record value; nil means a tombstone.
    public var value: [UInt8]?

    /// Creates a record.
    public init(topic: String, partition: Int32, offset: Int64, timestampMillis: Int64,
                key: [UInt8]?, headers: [RecordHeader], value: [UInt8]?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMillis = timestampMillis
        self.key = key
        self.headers = headers
        self.value = value
    }

    /// The last header with the given name (Kafka clients read the last one).
    public func header(_ name: String) -> RecordHeader? {
        headers.last { $0.name == name }
    }
}

/// A record to append: the log assigns partition (when nil) and offset.
public struct OutgoingRecord: Sendable, Hashable {
    /// Target topic.
    public var topic: String
    /// Target partition; nil lets the log choose by key hash (or round robin without a key).
    public var partition: Int32?
    /// Timestamp, milliseconds since the Unix epoch.
    public var timestampMillis: Int64
    /// Record key.
    public var key: [UInt8]?
    /// Ordered headers.
    public var headers: [RecordHeader]
    /// Record value.
    public var value: [UInt8]?

    /// Creates an outgoing record.
    public init(topic: String, partition: Int32? = nil, timestampMillis: Int64,
                key: [UInt8]? = nil, headers: [RecordHeader] = [], value: [UInt8]?) {
        self.topic = topic
        self.partition = partition
        self.timestampMillis = timestampMillis
        self.key = key
        self.headers = headers
        self.value = value
    }
}

/// Where an appended record landed.
public struct RecordPosition: Sendable, Hashable, Codable {
    /// Topic name.
    public var topic: String
    /// Partition number.
    public var partition: Int32
    /// Assigned offset.
    public var offset: Int64

    /// Creates a position.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// A topic and partition pair, the key of offsets and watermarks.
public struct TopicPartition: Sendable, Hashable, Codable, Comparable {
    /// Topic name.
    public var topic: String
    /// Partition number.
    public var partition: Int32

    /// Creates a topic-partition.
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Orders by topic, then partition.
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        (a.topic, a.partition) < (b.topic, b.partition)
    }
}

/// Deterministic partitioner: murmur2-free FNV-1a over the key, so the same key
/// always lands on the same partition in every log of evtop's own making.
public enum KeyPartitioner {
    /// The partition for a key among `count` partitions.
    public static func partition(for key: [UInt8], count: Int32) -> Int32 {
        guard count > 0 else { return 0 }
        var hash: UInt32 = 2_166_136_261
        for byte in key {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(hash % UInt32(count))
    }
}
