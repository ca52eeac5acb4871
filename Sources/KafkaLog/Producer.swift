import Foundation
import EventModel
import CRdKafka

/// One `produce` call's records waiting for their delivery reports.
final class DeliveryBatch: @unchecked Sendable {
    // @unchecked: the mutable state is touched only under `lock`; the continuation is resumed once.
    private let lock = NSLock()
    private var positions: [RecordPosition?]
    private var failure: String?
    private var permanentFailure = false
    private var remaining: Int
    private var continuation: CheckedContinuation<[RecordPosition], Error>?
    private let topics: [String]

    init(topics: [String], continuation: CheckedContinuation<[RecordPosition], Error>) {
        self.topics = topics
        self.positions = Array(repeating: nil, count: topics.count)
        self.remaining = topics.count
        self.continuation = continuation
    }

    /// Records one record's outcome; resumes the caller after the last one.
    func settle(index: Int, partition: Int32, offset: Int64, error: String?, transient: Bool = false) {
        lock.lock()
        if let error {
            if failure == nil { failure = error }
            if !transient { permanentFailure = true }
        } else if index < positions.count {
            positions[index] = RecordPosition(topic: topics[index], partition: partition, offset: offset)
        }
        remaining -= 1
        let done = remaining == 0
        let result = done ? finish() : nil
        let c = done ? continuation : nil
        if done { continuation = nil }
        lock.unlock()
        if let c, let result { c.resume(with: result) }
    }

    private func finish() -> Result<[RecordPosition], Error> {
        // A timeout or an outage may or may not have written the record: the caller must treat it
        // as "unavailable" (wait, then look) rather than as a refusal of this record.
        if let failure { return .failure(permanentFailure ? BrokerError.writeRefused(failure) : BrokerError.unavailable(failure)) }
        let all = positions.compactMap { $0 }
        guard all.count == positions.count else { return .failure(BrokerError.writeRefused("a delivery report had no position")) }
        return .success(all)
    }
}

/// What a message's opaque points to: its batch and index.
final class DeliveryTicket {
    let batch: DeliveryBatch
    let index: Int
    init(batch: DeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
}

/// The delivery report callback: settles the record's ticket (retained once per message).
let deliveryReportCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let ticket = Unmanaged<DeliveryTicket>.fromOpaque(opaque).takeRetainedValue()
    let m = message.pointee
    if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
        let transientErrors: Set<Int32> = [
            RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue, RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, RD_KAFKA_RESP_ERR__TRANSPORT.rawValue,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS.rawValue, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND.rawValue,
            RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE.rawValue, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION.rawValue,
        ]
        let possiblyWritten = rd_kafka_message_status(message) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED
        ticket.batch.settle(index: ticket.index, partition: m.partition, offset: m.offset,
                            error: "delivery failed: \(m.err.text) (\(m.err.name))",
                            transient: possiblyWritten || transientErrors.contains(m.err.rawValue))
    } else {
        ticket.batch.settle(index: ticket.index, partition: m.partition, offset: m.offset, error: nil)
    }
}

/// A byte every empty buffer points at: librdkafka reads a NULL pointer as "no value" (null),
/// while an empty array must stay an empty value. Never written to, so sharing it is safe.
nonisolated(unsafe) private let emptyByte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

/// Calls `body` with a pointer and length for optional bytes: nil stays NULL, empty stays non-NULL.
func withBytes<T>(_ bytes: [UInt8]?, _ body: (UnsafeRawPointer?, Int) -> T) -> T {
    guard let bytes else { return body(nil, 0) }
    if bytes.isEmpty { return body(UnsafeRawPointer(emptyByte), 0) }
    return bytes.withUnsafeBytes { body($0.baseAddress, $0.count) }
}

extension KafkaLog {
    /// Enqueues every record on the idempotent producer; resumes with positions from the delivery reports.
    func enqueue(_ records: [OutgoingRecord], continuation: CheckedContinuation<[RecordPosition], Error>) {
        let batch = DeliveryBatch(topics: records.map(\.topic), continuation: continuation)
        for (index, record) in records.enumerated() {
            let ticket = Unmanaged.passRetained(DeliveryTicket(batch: batch, index: index))
            var headers: OpaquePointer? = nil
            if !record.headers.isEmpty {
                headers = rd_kafka_headers_new(record.headers.count)
                for h in record.headers {
                    withBytes(h.value) { ptr, len in _ = rd_kafka_header_add(headers, h.name, -1, ptr, len) }
                }
            }
            var attempts = 0
            while true {
                let err = withBytes(record.key) { kp, kl in
                    withBytes(record.value) { vp, vl in
                        evtop_produce(producer.rk, record.topic, record.partition ?? RD_KAFKA_PARTITION_UA,
                                      kp, kl, vp, vl, headers, record.timestampMillis, ticket.toOpaque())
                    }
                }
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                if err == RD_KAFKA_RESP_ERR__QUEUE_FULL, attempts < 600 {
                    // The poll thread drains delivery reports; wait for room (bounded memory).
                    attempts += 1
                    Thread.sleep(forTimeInterval: 0.05)
                    continue
                }
                if let headers { rd_kafka_headers_destroy(headers) }
                ticket.release()
                batch.settle(index: index, partition: -1, offset: -1,
                             error: "cannot produce to \(record.topic): \(err.text)")
                break
            }
        }
    }
}
