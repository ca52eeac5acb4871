import Foundation
import CRdKafka

/// librdkafka's mock cluster: the Kafka protocol on loopback TCP, for tests and benchmarks.
///
/// `@unchecked Sendable`: the mock cluster and its owning handle are thread-safe librdkafka objects.
public final class KafkaMockCluster: @unchecked Sendable {
    private let rk: OpaquePointer
    private let cluster: OpaquePointer
    /// `host:port,host:port,...` of the mock brokers.
    public let bootstrap: String
    /// How many brokers the cluster has (ids 1...brokers).
    public let brokers: Int32

    /// Starts a mock cluster with `brokers` brokers (ids 1...brokers) owned by a dummy producer handle.
    public init(brokers: Int32 = 3) throws {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError.client("cannot allocate a configuration") }
        var errstr = [CChar](repeating: 0, count: 512)
        // The owning handle must never talk to anything: no bootstrap servers, quiet logs.
        _ = rd_kafka_conf_set(conf, "log_level", "0", &errstr, errstr.count)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.client("cannot create the mock cluster's handle: \(cText(errstr))")
        }
        guard let cluster = rd_kafka_mock_cluster_new(rk, Int32(brokers)), let b = rd_kafka_mock_cluster_bootstraps(cluster) else {
            rd_kafka_destroy(rk)
            throw KafkaError.client("cannot start the mock cluster")
        }
        self.rk = rk
        self.cluster = cluster
        self.brokers = brokers
        self.bootstrap = String(cString: b)
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(rk)
    }

    /// Creates a topic with `partitions` partitions, partition p led by broker `p % brokers + 1`.
    ///
    /// The mock itself picks each leader at random among the replicas, so a test that takes
    /// broker 1 down would find it leading nothing in about one run in four (with 3 partitions).
    public func createTopic(_ name: String, partitions: Int32, replication: Int32 = 3) throws {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replication)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError.client("mock topic \(name): \(err.text)") }
        guard brokers > 0 else { return }
        for p in 0..<partitions { setLeader(topic: name, partition: p, leader: p % brokers + 1) }
    }

    /// Takes broker `id` down (its connections are closed and refused) or brings it back up.
    public func setBroker(_ id: Int32, up: Bool) {
        _ = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
    }

    /// Makes the next `count` requests of Kafka API `apiKey` (e.g. 0 = Produce) fail with error code `error`.
    public func pushRequestErrors(apiKey: Int16, count: Int, error: Int32) {
        evtop_mock_push_errors(cluster, apiKey, count, rd_kafka_resp_err_t(rawValue: error))
    }

    /// Moves the leadership of a partition to broker `leader`.
    public func setLeader(topic: String, partition: Int32, leader: Int32) {
        _ = rd_kafka_mock_partition_set_leader(cluster, topic, partition, leader)
    }
}
