import Foundation
import EventModel
import CRdKafka

/// A consumer group as a listing reports it.
public struct GroupListing: Sendable, Equatable {
    /// Group id.
    public var id: String
    /// State name ("Stable", "Empty", ...).
    public var state: String
    /// True for groups of simple consumers (no membership, commits only).
    public var isSimple: Bool

    /// Creates a listing.
    public init(id: String, state: String, isSimple: Bool) {
        self.id = id
        self.state = state
        self.isSimple = isSimple
    }
}

/// Which groups a snapshot covers: pure, so both the listing path and the fallback path are testable.
public enum GroupSelection {
    /// The listed groups when the cluster could list them, plus every named group (context, `--group`),
    /// sorted and without duplicates; only the named groups when listing is not supported.
    public static func groups(listed: [GroupListing]?, named: [String]) -> [String] {
        var ids = Set(named.filter { !$0.isEmpty })
        for g in listed ?? [] { ids.insert(g.id) }
        return ids.sorted()
    }

    /// True for errors meaning "this broker does not have the API" (the fallback path), not an outage.
    static func isUnsupported(_ err: rd_kafka_resp_err_t) -> Bool {
        err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION
            || err == RD_KAFKA_RESP_ERR_INVALID_REQUEST
    }
}

/// A temporary result queue and admin options; destroyed together.
final class AdminCall {
    let queue: OpaquePointer
    let options: OpaquePointer?

    init(_ rk: OpaquePointer, op: rd_kafka_admin_op_t, timeoutMillis: Int32) {
        queue = rd_kafka_queue_new(rk)
        options = rd_kafka_AdminOptions_new(rk, op)
        var errstr = [CChar](repeating: 0, count: 256)
        _ = rd_kafka_AdminOptions_set_request_timeout(options, timeoutMillis, &errstr, errstr.count)
    }

    /// Waits for the next result event (caller destroys it), nil on timeout.
    func next(timeoutMillis: Int32) -> OpaquePointer? {
        rd_kafka_queue_poll(queue, timeoutMillis + 1000)
    }

    deinit {
        if let options { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_queue_destroy(queue)
    }
}

extension KafkaLog {
    /// Groups (listed, else named) with state, members and committed offsets for the given topics' partitions.
    func consumerGroups(topics: [TopicInfo]) throws -> [ConsumerGroup] {
        let listed = groupAPIs.withLock { $0.listing } ? try listGroups() : nil
        let ids = GroupSelection.groups(listed: listed, named: settings.groups)
        guard !ids.isEmpty else { return [] }
        // DescribeGroups only where ListGroups works (both date from Kafka 0.9): with librdkafka 2.0.2 a
        // DescribeConsumerGroups the broker refuses leaves the group coordinator request stuck, so every
        // later ListConsumerGroupOffsets (and rd_kafka_destroy) waits forever. Checked on the mock cluster.
        let described = listed != nil && groupAPIs.withLock({ $0.describing }) ? try describeGroups(ids) : [:]
        let offsets = try committedOffsets(groups: ids, topics: topics)
        return ids.map { id in
            let d = described[id]
            let state = d?.state ?? listed?.first { $0.id == id }?.state ?? "Unknown"
            return ConsumerGroup(id: id, state: state, members: d?.members ?? 0, offsets: offsets[id] ?? [:])
        }
    }

    /// ListConsumerGroups; nil (and remembered) when the cluster does not support it.
    func listGroups() throws -> [GroupListing]? {
        let call = AdminCall(producer.rk, op: RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeoutMillis: settings.timeoutMillis)
        rd_kafka_ListConsumerGroups(producer.rk, call.options, call.queue)
        guard let event = call.next(timeoutMillis: settings.timeoutMillis) else {
            throw unavailable("no answer to ListConsumerGroups", RD_KAFKA_RESP_ERR__TIMED_OUT)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard let result = rd_kafka_event_ListConsumerGroups_result(event) else {
            throw unavailable("ListConsumerGroups", err)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if GroupSelection.isUnsupported(err) { groupAPIs.withLock { $0.listing = false }; return nil }
            throw unavailable("ListConsumerGroups", err)
        }
        var errorCount = 0
        _ = rd_kafka_ListConsumerGroups_result_errors(result, &errorCount)
        var count = 0
        var out: [GroupListing] = []
        if let valid = rd_kafka_ListConsumerGroups_result_valid(result, &count) {
            for g in UnsafeBufferPointer(start: valid, count: count) {
                guard let g, let cid = rd_kafka_ConsumerGroupListing_group_id(g) else { continue }
                out.append(GroupListing(id: String(cString: cid),
                                        state: Self.stateName(rd_kafka_ConsumerGroupListing_state(g)),
                                        isSimple: rd_kafka_ConsumerGroupListing_is_simple_consumer_group(g) != 0))
            }
        }
        if out.isEmpty && errorCount > 0 {
            // Every broker refused: the mock cluster and old brokers answer "not supported".
            groupAPIs.withLock { $0.listing = false }
            return nil
        }
        return out
    }

    /// DescribeConsumerGroups: state and member count per group; empty (and remembered) when unsupported.
    func describeGroups(_ ids: [String]) throws -> [String: (state: String, members: Int)] {
        let call = AdminCall(producer.rk, op: RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeoutMillis: settings.timeoutMillis)
        var cstrings = ids.map { strdup($0) }
        defer { cstrings.forEach { free($0) } }
        cstrings.withUnsafeMutableBufferPointer { buf in
            buf.withMemoryRebound(to: UnsafePointer<CChar>?.self) { p in
                rd_kafka_DescribeConsumerGroups(producer.rk, p.baseAddress, p.count, call.options, call.queue)
            }
        }
        guard let event = call.next(timeoutMillis: settings.timeoutMillis) else {
            throw unavailable("no answer to DescribeConsumerGroups", RD_KAFKA_RESP_ERR__TIMED_OUT)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_DescribeConsumerGroups_result(event) else {
            if GroupSelection.isUnsupported(err) { groupAPIs.withLock { $0.describing = false }; return [:] }
            throw unavailable("DescribeConsumerGroups", err)
        }
        var count = 0
        var out: [String: (state: String, members: Int)] = [:]
        var unsupported = 0
        if let groups = rd_kafka_DescribeConsumerGroups_result_groups(result, &count) {
            for g in UnsafeBufferPointer(start: groups, count: count) {
                guard let g, let cid = rd_kafka_ConsumerGroupDescription_group_id(g) else { continue }
                if let e = rd_kafka_ConsumerGroupDescription_error(g) {
                    if GroupSelection.isUnsupported(rd_kafka_error_code(e)) { unsupported += 1 }
                    continue
                }
                out[String(cString: cid)] = (Self.stateName(rd_kafka_ConsumerGroupDescription_state(g)),
                                             Int(rd_kafka_ConsumerGroupDescription_member_count(g)))
            }
        }
        if out.isEmpty && unsupported > 0 { groupAPIs.withLock { $0.describing = false } }
        return out
    }

    /// ListConsumerGroupOffsets for each group, given every partition (one request per group, all in flight at once).
    func committedOffsets(groups: [String], topics: [TopicInfo]) throws -> [String: [TopicPartition: Int64]] {
        let partitions = topics.flatMap { t in t.partitions.map { TopicPartition(t.name, $0.partition) } }
        guard !partitions.isEmpty else { return [:] }
        let call = AdminCall(producer.rk, op: RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeoutMillis: settings.timeoutMillis)
        for group in groups {
            let list = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for tp in partitions { _ = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
            var request: OpaquePointer? = rd_kafka_ListConsumerGroupOffsets_new(group, list)
            rd_kafka_ListConsumerGroupOffsets(producer.rk, &request, 1, call.options, call.queue)
            rd_kafka_ListConsumerGroupOffsets_destroy(request)
        }
        var out: [String: [TopicPartition: Int64]] = [:]
        for _ in groups {
            guard let event = call.next(timeoutMillis: settings.timeoutMillis) else {
                throw unavailable("no answer to ListConsumerGroupOffsets", RD_KAFKA_RESP_ERR__TIMED_OUT)
            }
            defer { rd_kafka_event_destroy(event) }
            let err = rd_kafka_event_error(event)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_ListConsumerGroupOffsets_result(event) else {
                throw unavailable("ListConsumerGroupOffsets", err)
            }
            var count = 0
            guard let results = rd_kafka_ListConsumerGroupOffsets_result_groups(result, &count) else { continue }
            for r in UnsafeBufferPointer(start: results, count: count) {
                guard let r, let cname = rd_kafka_group_result_name(r) else { continue }
                let name = String(cString: cname)
                var offsets: [TopicPartition: Int64] = [:]
                if rd_kafka_group_result_error(r) == nil, let list = rd_kafka_group_result_partitions(r), let elems = list.pointee.elems {
                    for e in UnsafeBufferPointer(start: elems, count: Int(max(0, list.pointee.cnt))) {
                        guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR, e.offset >= 0, let t = e.topic else { continue }
                        offsets[TopicPartition(String(cString: t), e.partition)] = e.offset
                    }
                }
                out[name] = offsets
            }
        }
        return out
    }

    /// CreateTopics with replication min(3, brokers); TOPIC_ALREADY_EXISTS is success. A cluster without
    /// a controller (librdkafka's mock cluster) cannot create topics that way: the topic is then created
    /// by the broker's auto-creation (its default partition count), and later calls go there directly.
    func createTopicBlocking(_ name: String, partitions: Int32) throws {
        let meta = try metadata()
        if meta.topics.contains(where: { $0.name == name }) { return }
        if groupAPIs.withLock({ $0.noController }) { return try autoCreate(name) }
        let replication = Int32(max(1, min(3, meta.brokers)))
        var errstr = [CChar](repeating: 0, count: 512)
        guard let topic = rd_kafka_NewTopic_new(name, max(1, partitions), replication, &errstr, errstr.count) else {
            throw BrokerError.writeRefused("cannot create topic '\(name)': \(cText(errstr))")
        }
        defer { rd_kafka_NewTopic_destroy(topic) }
        let call = AdminCall(producer.rk, op: RD_KAFKA_ADMIN_OP_CREATETOPICS, timeoutMillis: settings.timeoutMillis)
        var topics: [OpaquePointer?] = [topic]
        rd_kafka_CreateTopics(producer.rk, &topics, 1, call.options, call.queue)
        guard let event = call.next(timeoutMillis: settings.timeoutMillis) else {
            throw unavailable("no answer to CreateTopics", RD_KAFKA_RESP_ERR__TIMED_OUT)
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        if err == RD_KAFKA_RESP_ERR__TIMED_OUT || GroupSelection.isUnsupported(err) {
            kafkaLogger.warning("CreateTopics failed (\(err.text)): creating '\(name)' by auto-creation instead")
            groupAPIs.withLock { $0.noController = true }
            return try autoCreate(name)
        }
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let result = rd_kafka_event_CreateTopics_result(event) else {
            throw unavailable("CreateTopics", err)
        }
        var count = 0
        if let results = rd_kafka_CreateTopics_result_topics(result, &count) {
            for r in UnsafeBufferPointer(start: results, count: count) {
                guard let r else { continue }
                let e = rd_kafka_topic_result_error(r)
                if e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                    let msg = rd_kafka_topic_result_error_string(r).map { String(cString: $0) } ?? e.text
                    throw BrokerError.writeRefused("cannot create topic '\(name)': \(msg)")
                }
            }
        }
    }

    /// Asks for the topic's metadata as a producer does, which makes a broker with auto-creation create it.
    private func autoCreate(_ name: String) throws {
        guard let rkt = rd_kafka_topic_new(producer.rk, name, nil) else {
            throw BrokerError.writeRefused("cannot create topic '\(name)': \(rd_kafka_last_error().text)")
        }
        defer { rd_kafka_topic_destroy(rkt) }
        for _ in 0..<20 {
            var md: UnsafePointer<rd_kafka_metadata_t>? = nil
            let err = rd_kafka_metadata(producer.rk, 0, rkt, &md, settings.timeoutMillis)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR, let md {
                defer { rd_kafka_metadata_destroy(md) }
                if Self.topics(md.pointee).contains(where: { $0.name == name && !$0.partitions.isEmpty }) { return }
            } else if err != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw unavailable("cannot create topic '\(name)'", err)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BrokerError.writeRefused("cannot create topic '\(name)': the cluster neither created it nor allows auto-creation")
    }

    static func stateName(_ s: rd_kafka_consumer_group_state_t) -> String {
        switch s {
        case RD_KAFKA_CONSUMER_GROUP_STATE_STABLE: return "Stable"
        case RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY: return "Empty"
        case RD_KAFKA_CONSUMER_GROUP_STATE_DEAD: return "Dead"
        case RD_KAFKA_CONSUMER_GROUP_STATE_PREPARING_REBALANCE: return "PreparingRebalance"
        case RD_KAFKA_CONSUMER_GROUP_STATE_COMPLETING_REBALANCE: return "CompletingRebalance"
        default: return "Unknown"
        }
    }
}
