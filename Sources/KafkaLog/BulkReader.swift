import Foundation
import EventModel
import CRdKafka

/// Reads many partitions at once for the correlation index: librdkafka's simple consumer API, as
/// `kcat -C` does. No group at all, never a commit; every partition read is started into one queue, so
/// all of them fetch in parallel with large fetches, and one thread drains the queue in batches.
///
/// One consumer handle is kept for the session (a new one per read would connect to every broker again);
/// each read starts its ranges into a fresh queue and stops them at the end, so nothing of one read is
/// seen by the next. `@unchecked Sendable`: librdkafka handles are thread-safe, and the topic handles
/// are only touched on `queue`, a serial queue (one bulk read at a time).
final class KafkaBulkReader: @unchecked Sendable {
    private let handle: KafkaHandle
    private let queue = DispatchQueue(label: "evtop.kafka.bulk")
    private let timeout: Int32
    private var topics: [String: OpaquePointer] = [:]
    /// Records handed to `body` per batch at most.
    static let batchSize = 4096

    init(settings: KafkaSettings, timeout: Int32) throws {
        do {
            let conf = try KafkaConf.make(settings, defaults: [
                "client.id": "evtop-index",
                // Every partition is forwarded to one queue, and librdkafka measures that queue against
                // queued.min.messages for each partition; before 2.1 (no fetch.queue.backoff.ms) a partition over
                // the limit stops fetching for a whole second. With the default 100,000, a read that gets ahead
                // of the indexer stalled every partition at once; 300,000 keeps fetches flowing. Memory stays
                // bounded by queued.max.messages.kbytes (64 MB).
                "queued.min.messages": "300000",
                // A range that starts below the low watermark (retention deleted it meanwhile) starts at the low.
                "auto.offset.reset": "earliest",
            ], overrides: [
                "enable.auto.commit": "false", "enable.auto.offset.store": "false", "enable.partition.eof": "true",
            ])
            handle = try KafkaHandle(type: RD_KAFKA_CONSUMER, conf: conf, pollThread: false)
        } catch let error as KafkaError {
            throw BrokerError.unavailable(error.description)
        }
        self.timeout = timeout
    }

    deinit {
        for rkt in topics.values { rd_kafka_topic_destroy(rkt) }
    }

    /// Reads `ranges` (see ``LogReader/readRanges(_:body:)``). Throws `BrokerError.unavailable` when no record
    /// came for the client's timeout while ranges were still open: what was handed to `body` stays handed.
    func read(_ ranges: [ReadRange], body: @escaping @Sendable (BulkBatch) throws -> Bool) async throws {
        try await Blocking.run(on: queue) { [self] in try readBlocking(ranges, body: body) }
    }

    private func topic(_ name: String) throws -> OpaquePointer {
        if let rkt = topics[name] { return rkt }
        guard let rkt = rd_kafka_topic_new(handle.rk, name, nil) else { throw BrokerError.unknownTopic(name) }
        topics[name] = rkt
        return rkt
    }

    private struct Open {
        var rkt: OpaquePointer
        var next: Int64
        var to: Int64
    }

    private func readBlocking(_ ranges: [ReadRange], body: (BulkBatch) throws -> Bool) throws {
        guard let q = rd_kafka_queue_new(handle.rk) else { throw BrokerError.unavailable("cannot create a queue") }
        var open: [TopicPartition: Open] = [:]
        var started: [(OpaquePointer, Int32)] = []
        defer {
            for (rkt, p) in started { _ = rd_kafka_consume_stop(rkt, p) }
            rd_kafka_queue_destroy(q)
        }
        for r in ranges where r.from < r.to && open[r.partition] == nil {
            let rkt = try topic(r.partition.topic)
            guard rd_kafka_consume_start_queue(rkt, r.partition.partition, max(0, r.from), q) == 0 else {
                throw BrokerError.unavailable("cannot read \(r.partition.topic)[\(r.partition.partition)]: \(rd_kafka_last_error().text)")
            }
            started.append((rkt, r.partition.partition))
            open[r.partition] = Open(rkt: rkt, next: r.from, to: r.to)
        }
        var batch = [UnsafeMutablePointer<rd_kafka_message_t>?](repeating: nil, count: Self.batchSize)
        var records: [Record] = []
        records.reserveCapacity(batch.count)
        var idleSince = DispatchTime.now().uptimeNanoseconds
        while !open.isEmpty {
            // What is there now (with a timeout, a batch call waits until the batch is full) ...
            var n = rd_kafka_consume_batch_queue(q, 0, &batch, batch.count)
            if n <= 0, let first = rd_kafka_consume_queue(q, 100) {
                // ... else the first message to come.
                batch[0] = first
                n = 1
            }
            if n <= 0 {
                if DispatchTime.now().uptimeNanoseconds - idleSince > UInt64(timeout) * 1_000_000 {
                    throw BrokerError.unavailable("no records from \(open.count) partition(s) within \(timeout) ms")
                }
                continue
            }
            idleSince = DispatchTime.now().uptimeNanoseconds
            records.removeAll(keepingCapacity: true)
            var next: [TopicPartition: Int64] = [:]
            var finished: [TopicPartition] = []
            for i in 0..<n {
                guard let m = batch[i] else { continue }
                defer { rd_kafka_message_destroy(m) }
                guard let name = rd_kafka_topic_name(m.pointee.rkt) else { continue }
                let tp = TopicPartition(String(cString: name), m.pointee.partition)
                guard var o = open[tp] else { continue }  // finished earlier in this read
                let offset = m.pointee.offset
                switch m.pointee.err {
                case RD_KAFKA_RESP_ERR_NO_ERROR:
                    guard offset >= o.next else { continue }  // stale
                    guard offset < o.to else {
                        open[tp] = nil
                        finished.append(tp)
                        continue
                    }
                    records.append(KafkaFetcher.record(m, topic: tp.topic))
                    o.next = offset + 1
                case RD_KAFKA_RESP_ERR__PARTITION_EOF:
                    // The partition ends here for now; positions up to here held no record (markers).
                    o.next = min(max(o.next, offset), o.to)
                    next[tp] = o.next
                    open[tp] = nil
                    finished.append(tp)
                    continue
                case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
                    open[tp] = nil
                    finished.append(tp)
                    continue
                default:
                    kafkaLogger.warning("index reader: \(tp.topic)[\(tp.partition)]: \(m.pointee.err.text)")
                    continue
                }
                next[tp] = o.next
                if o.next >= o.to {
                    open[tp] = nil
                    finished.append(tp)
                } else {
                    open[tp] = o
                }
            }
            if records.isEmpty && next.isEmpty && finished.isEmpty { continue }
            guard try body(BulkBatch(records: records, next: next, finished: finished)) else { return }
        }
    }
}
