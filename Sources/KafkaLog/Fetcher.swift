import Foundation
import EventModel
import CRdKafka

/// The browse consumer: reads partitions with assign() only. It never subscribes and never commits;
/// its group id is unique and unused, so evtop never joins or disturbs its users' groups.
///
/// Partitions once read stay assigned (up to `maxAssigned`, least recently used dropped), each with
/// its own queue: librdkafka keeps prefetching them, so reading on where the last read stopped costs
/// no round trip, and "caught up" is known from the watermarks fetch responses leave behind.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe, and the assignment state is only
/// touched on `queue`, a serial queue.
public final class KafkaFetcher: @unchecked Sendable {
    private let handle: KafkaHandle
    private let consumerQueue: OpaquePointer
    private let queue = DispatchQueue(label: "evtop.kafka.fetch")
    private let timeout: Int32
    private let settings: KafkaSettings
    /// Partitions kept assigned at most (each holds prefetched records up to librdkafka's limits).
    static let maxAssigned = 256

    /// An assigned partition: its own queue and the next offset that queue delivers.
    private struct Assigned {
        var queue: OpaquePointer
        var next: Int64
        var lastUse: UInt64
        /// Where librdkafka last said the partition ends (its PARTITION_EOF offset). It can be past `next`:
        /// a transactional producer's commit marker takes an offset but is no record, and librdkafka says
        /// EOF only once, so without this a partition ending in a marker would wait out every later fetch.
        var endSeen: Int64?
    }

    /// True when there is nothing to read at `next`: the high watermark is not past it, or not past
    /// where the partition was last seen to end (only control records in between).
    static func caughtUp(next: Int64, high: Int64?, endSeen: Int64?) -> Bool {
        guard let high else { return false }
        return high <= max(next, endSeen ?? next)
    }
    private var assigned: [TopicPartition: Assigned] = [:]
    private var uses: UInt64 = 0

    init(settings: KafkaSettings, timeout: Int32) throws {
        do {
            let conf = try KafkaConf.make(settings, defaults: [
                "client.id": "evtop-browse",
                // Browsing wants fresh records soon; one fetch per broker every 20 ms at most when idle.
                "fetch.wait.max.ms": "20",
            ], overrides: [
                "group.id": "evtop-browse-" + UUID().uuidString.lowercased(),
                "enable.auto.commit": "false",
                "enable.auto.offset.store": "false",
                "enable.partition.eof": "true",
                "auto.offset.reset": "earliest",
            ])
            handle = try KafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, pollThread: false)
        } catch let error as KafkaError {
            throw BrokerError.unavailable(error.description)
        }
        guard let q = rd_kafka_queue_get_consumer(handle.rk) else {
            throw BrokerError.unavailable("the browse consumer has no queue")
        }
        consumerQueue = q
        self.timeout = timeout
        self.settings = settings
    }

    deinit {
        for a in assigned.values { rd_kafka_queue_destroy(a.queue) }
        _ = rd_kafka_assign(handle.rk, nil)
        rd_kafka_queue_destroy(consumerQueue)
        rd_kafka_consumer_close(handle.rk)
    }

    /// Up to `maxRecords` records of one partition from `offset` (clamped to the retained range).
    public func fetch(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> [Record] {
        try await read(topic: topic, partition: partition, from: offset, maxRecords: maxRecords).records
    }

    /// ``fetch(topic:partition:from:maxRecords:)`` plus where to read next: past the last record, or, when
    /// librdkafka said the partition ends further on (only control records in between), that end.
    public func read(topic: String, partition: Int32, from offset: Int64, maxRecords: Int) async throws -> (records: [Record], next: Int64) {
        try await Blocking.run(on: queue) { [self] in
            let tp = TopicPartition(topic, partition)
            let records = try fetchBlocking(tp, from: offset, maxRecords: maxRecords)
            var next = records.last.map { $0.offset + 1 } ?? offset
            if let a = assigned[tp], a.next == next, let end = a.endSeen, end > next,
               Self.caughtUp(next: next, high: cachedHigh(tp), endSeen: end) {
                // librdkafka's own position is already past the markers: keep ours with it, so the
                // next read from `end` goes on with this assignment instead of seeking afresh.
                next = end
                assigned[tp]?.next = end
            }
            return (records, next)
        }
    }

    private func cachedHigh(_ tp: TopicPartition) -> Int64? {
        var low: Int64 = 0, high: Int64 = 0
        guard rd_kafka_get_watermark_offsets(handle.rk, tp.topic, tp.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
              high >= 0 else { return nil }
        return high
    }

    private func fetchBlocking(_ tp: TopicPartition, from offset: Int64, maxRecords: Int) throws -> [Record] {
        uses += 1
        var current = assigned[tp]
        if let a = current, a.next == offset, Self.caughtUp(next: offset, high: cachedHigh(tp), endSeen: a.endSeen) {
            assigned[tp]?.lastUse = uses
            return []  // caught up, as the last fetch response said
        }
        if current == nil || current?.next != offset {
            var low: Int64 = 0, high: Int64 = 0
            let err = rd_kafka_query_watermark_offsets(handle.rk, tp.topic, tp.partition, &low, &high, timeout)
            if err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART {
                throw BrokerError.unknownPartition(tp.topic, tp.partition)
            }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw BrokerError.unavailable("cannot read \(tp.topic)[\(tp.partition)]: \(err.text)")
            }
            let start = max(offset, low)
            guard start < high else { return [] }
            if let old = current {
                // Elsewhere in the partition: re-assign it there (a fresh queue holds nothing stale).
                try changeAssignment([(tp, 0)], add: false)
                rd_kafka_queue_destroy(old.queue)
                assigned[tp] = nil
            }
            current = try add(tp, at: start)
        }
        guard var a = current else { return [] }
        a.lastUse = uses
        defer { assigned[tp] = a }

        var out: [Record] = []
        out.reserveCapacity(min(maxRecords, 10_000))
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout) * 1_000_000
        var batch = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: 1000)
        loop: while out.count < maxRecords, DispatchTime.now().uptimeNanoseconds < deadline {
            // Caught up as far as the last fetch response knows: return now, newer records come next time.
            // (Waiting for them here would cost every caught-up partition a fetch round trip.)
            if Self.caughtUp(next: a.next, high: cachedHigh(tp), endSeen: a.endSeen) { break loop }
            let want = min(batch.count, maxRecords - out.count)
            // What is there now (a batch call with a timeout waits until the batch is full).
            var n = rd_kafka_consume_batch_queue(a.queue, 0, &batch, want)
            if n <= 0 {
                // Nothing yet: wait for the first record only.
                guard let first = rd_kafka_consume_queue(a.queue, 20) else { continue }
                batch[0] = first
                n = 1
            }
            var eof = false
            for i in 0..<n {
                guard let m = batch[i] else { continue }
                defer { rd_kafka_message_destroy(m) }
                if m.pointee.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    eof = true
                    a.endSeen = m.pointee.offset
                    continue
                }
                if m.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    kafkaLogger.warning("browse consumer: \(m.pointee.err.text)")
                    continue
                }
                guard m.pointee.offset >= a.next else { continue }  // stale, from before a seek
                let r = Self.record(m, topic: tp.topic)
                out.append(r)
                a.next = r.offset + 1
            }
            if eof { break loop }
        }
        if out.isEmpty && DispatchTime.now().uptimeNanoseconds >= deadline {
            throw BrokerError.unavailable("no records from \(tp.topic)[\(tp.partition)] within \(timeout) ms")
        }
        return out
    }

    /// Adds a partition to the assignment at `offset`, with its own queue; drops the least recently used beyond the cap.
    private func add(_ tp: TopicPartition, at offset: Int64) throws -> Assigned {
        if assigned.count >= Self.maxAssigned, let oldest = assigned.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            try changeAssignment([(oldest, 0)], add: false)
            if let q = assigned.removeValue(forKey: oldest)?.queue { rd_kafka_queue_destroy(q) }
        }
        // The partition's own queue stops forwarding before the assignment starts fetching into it.
        guard let q = rd_kafka_queue_get_partition(handle.rk, tp.topic, tp.partition) else {
            throw BrokerError.unavailable("no queue for \(tp.topic)[\(tp.partition)]")
        }
        rd_kafka_queue_forward(q, nil)
        do { try changeAssignment([(tp, offset)], add: true) } catch {
            rd_kafka_queue_destroy(q)
            throw error
        }
        return Assigned(queue: q, next: offset, lastUse: uses)
    }

    private func changeAssignment(_ parts: [(TopicPartition, Int64)], add: Bool) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(clamping: parts.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in parts { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)?.pointee.offset = offset }
        if let error = add ? rd_kafka_incremental_assign(handle.rk, list) : rd_kafka_incremental_unassign(handle.rk, list) {
            let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? "unknown error"
            rd_kafka_error_destroy(error)
            throw BrokerError.unavailable("assign failed: \(text)")
        }
    }

    private func assign(_ parts: [(TopicPartition, Int64)]) throws {
        for a in assigned.values { rd_kafka_queue_destroy(a.queue) }
        assigned.removeAll()
        let list = rd_kafka_topic_partition_list_new(Int32(clamping: parts.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in parts { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)?.pointee.offset = offset }
        let err = rd_kafka_assign(handle.rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw BrokerError.unavailable("assign failed: \(err.text)") }
    }

    /// Copies a librdkafka message into a `Record`: key, value and headers byte for byte.
    /// (librdkafka finds a message's headers and timestamp from its address: pass the message itself, never a copy.)
    static func record(_ msg: UnsafeMutablePointer<rd_kafka_message_t>, topic: String) -> Record {
        var tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let m = msg.pointee
        let ts = rd_kafka_message_timestamp(msg, &tstype)
        var headers: [RecordHeader] = []
        var hdrs: OpaquePointer? = nil
        if rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            let n = rd_kafka_header_cnt(hdrs)
            headers.reserveCapacity(n)
            for i in 0..<n {
                var name: UnsafePointer<CChar>? = nil
                var value: UnsafeRawPointer? = nil
                var size = 0
                guard rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let name else { continue }
                headers.append(RecordHeader(name: String(cString: name), value: bytes(value, size) ?? []))
            }
        }
        return Record(topic: topic, partition: m.partition, offset: m.offset, timestampMillis: max(0, ts),
                      key: bytes(UnsafeRawPointer(m.key), m.key_len), headers: headers,
                      value: bytes(UnsafeRawPointer(m.payload), m.len))
    }

    private static func bytes(_ p: UnsafeRawPointer?, _ n: Int) -> [UInt8]? {
        guard let p else { return nil }
        return Array(UnsafeRawBufferPointer(start: p, count: max(0, n)))
    }
}
