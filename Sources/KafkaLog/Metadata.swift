import Foundation
import EventModel
import CRdKafka

/// One topic as the cluster's metadata describes it.
struct TopicMetadata: Sendable {
    var name: String
    var partitions: [PartitionWatermarks]
}

extension KafkaLog {
    /// Topics with partitions, leaders, replicas and ISRs (no watermarks yet). Internal `__` topics are left out.
    /// Fails fast when librdkafka reports every broker down, else after the request timeout.
    /// `controller`: the cluster's controller as the metadata response named it (`rd_kafka_controllerid`,
    /// non-blocking: the value cached from this response), nil when the cluster did not say.
    func metadata() throws -> (topics: [TopicMetadata], brokers: Int, brokerIDs: [Int32], controller: Int32?) {
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(settings.timeoutMillis) * 1_000_000
        var lastError = RD_KAFKA_RESP_ERR__TIMED_OUT
        while true {
            var md: UnsafePointer<rd_kafka_metadata_t>? = nil
            let err = rd_kafka_metadata(producer.rk, 1, nil, &md, 250)
            if err == RD_KAFKA_RESP_ERR_NO_ERROR, let md {
                defer { rd_kafka_metadata_destroy(md) }
                producer.health.markReachable()
                let listed = md.pointee.brokers.map { Array(UnsafeBufferPointer(start: $0, count: Int(max(0, md.pointee.broker_cnt)))) } ?? []
                let controller = rd_kafka_controllerid(producer.rk, 0)
                return (Self.topics(md.pointee), Int(md.pointee.broker_cnt), listed.map(\.id), controller >= 0 ? controller : nil)
            }
            lastError = err
            let now = DispatchTime.now().uptimeNanoseconds
            // After a first full slice, a cluster librdkafka knows to be all down is reported at once.
            if now >= deadline || (producer.health.allBrokersDown && now - start > 1_000_000_000) { break }
        }
        throw unavailable("no metadata", lastError)
    }

    static func topics(_ md: rd_kafka_metadata_t) -> [TopicMetadata] {
        var out: [TopicMetadata] = []
        guard let topics = md.topics else { return [] }
        for t in UnsafeBufferPointer(start: topics, count: Int(max(0, md.topic_cnt))) {
            guard let cname = t.topic else { continue }
            let name = String(cString: cname)
            guard !name.hasPrefix("__"), t.err == RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt > 0 else { continue }
            var parts: [PartitionWatermarks] = []
            if let ps = t.partitions {
                for p in UnsafeBufferPointer(start: ps, count: Int(max(0, t.partition_cnt))) {
                    var w = PartitionWatermarks(partition: p.id, low: 0, high: 0)
                    w.leader = p.leader >= 0 ? p.leader : nil
                    w.replicas = ids(p.replicas, p.replica_cnt)
                    w.inSyncReplicas = ids(p.isrs, p.isr_cnt)
                    parts.append(w)
                }
            }
            out.append(TopicMetadata(name: name, partitions: parts.sorted { $0.partition < $1.partition }))
        }
        return out.sorted { $0.name < $1.name }
    }

    /// Which brokers are down: leaders that answered no ListOffsets request, and brokers seen earlier in
    /// the session that the metadata no longer lists (a real cluster drops a dead broker from its metadata,
    /// and its partitions move to other leaders, so the silent-leader test alone would miss it).
    /// A broker removed from the cluster on purpose therefore shows as down until evtop restarts.
    public static func availability(known: Set<Int32>, listed: [Int32], silentLeaders: [Int32]) -> BrokerAvailability {
        let all = known.union(listed)
        let missing = known.subtracting(listed)
        return BrokerAvailability(total: all.count, down: Array(missing.union(silentLeaders)))
    }

    private static func ids(_ p: UnsafeMutablePointer<Int32>?, _ n: Int32) -> [Int32] {
        guard let p, n > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: p, count: Int(n)))
    }

    /// Low and high watermarks for every partition: per leader broker, two ListOffsets requests
    /// (`rd_kafka_offsets_for_times` with the EARLIEST/LATEST sentinels, all of that broker's partitions in
    /// each), the brokers queried in parallel. A broker that does not answer costs only its own partitions,
    /// which keep their last known figures; so does a partition without a leader.
    func watermarks(for meta: (topics: [TopicMetadata], brokers: Int)) -> [TopicInfo] {
        watermarksAndSilentLeaders(for: meta).topics
    }

    /// ``watermarks(for:)`` plus the leader brokers that answered neither ListOffsets request (down or unreachable), sorted.
    func watermarksAndSilentLeaders(for meta: (topics: [TopicMetadata], brokers: Int)) -> (topics: [TopicInfo], silent: [Int32]) {
        var byLeader: [Int32: [TopicPartition]] = [:]
        for t in meta.topics {
            for p in t.partitions {
                guard let leader = p.leader else { continue }
                byLeader[leader, default: []].append(TopicPartition(t.name, p.partition))
            }
        }
        let leaders = Array(byLeader.keys)
        let groups = leaders.map { byLeader[$0] ?? [] }
        let found = Locked<(lows: [TopicPartition: Int64], highs: [TopicPartition: Int64], silent: [Int32])>(([:], [:], []))
        DispatchQueue.concurrentPerform(iterations: groups.count) { i in
            let lows = listOffsets(groups[i], sentinel: Int64(RD_KAFKA_OFFSET_BEGINNING))
            let highs = listOffsets(groups[i], sentinel: Int64(RD_KAFKA_OFFSET_END))
            found.withLock { f in
                f.lows.merge(lows) { a, _ in a }
                f.highs.merge(highs) { a, _ in a }
                if lows.isEmpty && highs.isEmpty { f.silent.append(leaders[i]) }
            }
        }
        let (lows, highs, silent) = found.withLock { ($0.lows, $0.highs, $0.silent.sorted()) }
        let topics = watermarkCache.withLock { cache in
            meta.topics.map { t in
                TopicInfo(name: t.name, partitions: t.partitions.map { p in
                    var w = p
                    let tp = TopicPartition(t.name, p.partition)
                    let known = cache[tp]
                    w.high = highs[tp] ?? known?.high ?? 0
                    w.low = min(lows[tp] ?? known?.low ?? 0, w.high)
                    if highs[tp] != nil { cache[tp] = (w.low, w.high) }
                    return w
                })
            }
        }
        return (topics, silent)
    }

    /// One ListOffsets request per leader broker for `partitions`; nil for partitions that failed.
    func listOffsets(_ partitions: [TopicPartition], sentinel: Int64) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty, let list = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count)) else { return [:] }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)?.pointee.offset = sentinel }
        // A leader that is down holds the whole request for the timeout: keep it short, the cache covers the gap.
        _ = rd_kafka_offsets_for_times(producer.rk, list, min(settings.timeoutMillis, 2000))
        var out: [TopicPartition: Int64] = [:]
        guard let elems = list.pointee.elems else { return [:] }
        for e in UnsafeBufferPointer(start: elems, count: Int(max(0, list.pointee.cnt))) {
            guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR, e.offset >= 0, let topic = e.topic else { continue }
            out[TopicPartition(String(cString: topic), e.partition)] = e.offset
        }
        return out
    }
}
