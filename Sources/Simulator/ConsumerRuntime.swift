import EventModel

/// The consumer side of the demo's services, as a Kafka client library would keep it: which member
/// reads which partitions, how far each group has read and committed, the retry state of a failing
/// record, each group's unused processing budget and when each member heartbeats next.
/// Synchronous bookkeeping only: `DemoSystem` does the reads and commits it asks for.
struct ConsumerRuntime: Sendable {
    /// One member of a group with the partitions assigned to it.
    struct Member: Sendable {
        let group: String
        let id: String
        let index: Int
        var partitions: [TopicPartition]
    }

    /// A record that failed: how often, and when it may be tried again.
    struct RetryState: Sendable {
        var offset: Int64
        var attempts: Int
        var nextAttemptMillis: Int64
    }

    /// What to do after a failed attempt.
    enum Retry {
        /// Stop reading the partition; the record is tried again after the back-off.
        case later
        /// Out of retries: dead-letter it and go on.
        case giveUp
    }

    let tuning: DemoTuning
    private(set) var members: [Member] = []
    private var positions: [String: [TopicPartition: Int64]] = [:]
    private var committed: [String: [TopicPartition: Int64]] = [:]
    private var retryStates: [String: [TopicPartition: RetryState]] = [:]
    private var tokens: [String: Double] = [:]
    private var nextHeartbeat: [String: Int64] = [:]

    init(tuning: DemoTuning) {
        self.tuning = tuning
    }

    // MARK: Assignment

    /// Spreads each service's subscribed partitions over its members (round robin, in topic order) and
    /// resumes each group from its committed offsets, or the log start where it has none.
    mutating func assign(_ snapshot: BrokerSnapshot, services: [DemoService]) {
        var partitionsByTopic: [String: [PartitionWatermarks]] = [:]
        for topic in snapshot.topics { partitionsByTopic[topic.name] = topic.partitions }
        members = []
        for service in services {
            var tps: [TopicPartition] = []
            for topic in service.topics {
                for p in partitionsByTopic[topic] ?? [] { tps.append(TopicPartition(topic, p.partition)) }
            }
            var group = (0..<service.members).map { i in
                Member(group: service.group, id: "\(service.group)-\(i + 1)", index: i, partitions: [])
            }
            for (i, tp) in tps.enumerated() { group[i % service.members].partitions.append(tp) }
            members += group

            let existing = snapshot.groups.first { $0.id == service.group }?.offsets ?? [:]
            var pos: [TopicPartition: Int64] = [:]
            for tp in tps {
                let low = partitionsByTopic[tp.topic]?.first { $0.partition == tp.partition }?.low ?? 0
                pos[tp] = existing[tp] ?? low
            }
            positions[service.group] = pos
            committed[service.group] = existing
        }
    }

    /// The members of `group`.
    func members(of group: String) -> [Member] {
        members.filter { $0.group == group }
    }

    /// A member's partitions in the order it reads them in step `step`: the start rotates so that
    /// no partition always goes last when the budget runs out.
    func readingOrder(_ member: Member, step: Int) -> [TopicPartition] {
        let n = member.partitions.count
        return (0..<n).map { k in member.partitions[(k + step) % n] }
    }

    // MARK: Reading

    /// Where `group` reads `tp` next.
    func position(_ group: String, _ tp: TopicPartition) -> Int64 {
        positions[group]?[tp] ?? 0
    }

    /// Records where `group` reads `tp` next.
    mutating func setPosition(_ position: Int64, _ group: String, _ tp: TopicPartition) {
        positions[group, default: [:]][tp] = position
    }

    /// The processing budget `group` left unused in the previous step.
    func carriedBudget(_ group: String) -> Double {
        tokens[group] ?? 0
    }

    /// Keeps what `group` left of its budget for the next step.
    mutating func carry(_ budget: Double, for group: String) {
        tokens[group] = budget
    }

    /// False while `record` is backing off after a failed attempt (reading the partition stops there).
    func mayAttempt(_ record: Record, group: String, _ tp: TopicPartition, now: Int64) -> Bool {
        guard let state = retryStates[group]?[tp], state.offset == record.offset else { return true }
        return now >= state.nextAttemptMillis
    }

    /// After a failed attempt at `record`: try again later (the first failure, or retries left), or give up.
    mutating func failed(_ record: Record, group: String, _ tp: TopicPartition, now: Int64, stats: inout DemoStats) -> Retry {
        guard var state = retryStates[group]?[tp], state.offset == record.offset else {
            retryStates[group, default: [:]][tp] = RetryState(
                offset: record.offset, attempts: 0, nextAttemptMillis: now + tuning.retryBackoffMillis)
            return .later
        }
        state.attempts += 1
        stats.retries += 1
        guard state.attempts < tuning.maxRetries else { return .giveUp }
        state.nextAttemptMillis = now + tuning.retryBackoffMillis
        retryStates[group, default: [:]][tp] = state
        return .later
    }

    /// `group` is done with the record it was retrying on `tp` (handled, ignored or dead-lettered).
    mutating func settled(_ group: String, _ tp: TopicPartition) {
        retryStates[group]?[tp] = nil
    }

    // MARK: Committing

    /// The member's positions that differ from what its group committed.
    func uncommitted(_ member: Member) -> [TopicPartition: Int64] {
        var changed: [TopicPartition: Int64] = [:]
        for tp in member.partitions {
            if let p = positions[member.group]?[tp], p != committed[member.group]?[tp] { changed[tp] = p }
        }
        return changed
    }

    /// Records a commit the log accepted.
    mutating func didCommit(_ offsets: [TopicPartition: Int64], group: String) {
        for (tp, p) in offsets { committed[group, default: [:]][tp] = p }
    }

    /// True when the member's next heartbeat is due at `now`.
    func isHeartbeatDue(_ member: Member, now: Int64) -> Bool {
        now >= nextHeartbeat[member.id] ?? 0
    }

    /// Records a heartbeat the log accepted at `now`.
    mutating func didHeartbeat(_ member: Member, now: Int64) {
        nextHeartbeat[member.id] = now + tuning.heartbeatMillis
    }

    /// Goes back to the committed offsets, as a restarted consumer would after a failed step.
    mutating func rewindToCommitted() {
        for (group, offsets) in committed {
            for (tp, offset) in offsets { positions[group, default: [:]][tp] = offset }
        }
    }
}
