/* librdkafka for Swift: the client API, the mock cluster (tests, benchmarks) and a few
 * non-variadic wrappers, since Swift cannot call C variadic functions such as rd_kafka_producev. */
#ifndef EVTOP_CRDKAFKA_H
#define EVTOP_CRDKAFKA_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Produces one record with key, value, headers (ownership passes to librdkafka on success),
 * timestamp (0: now) and a per-message opaque handed back in the delivery report.
 * Values are copied (RD_KAFKA_MSG_F_COPY). partition may be RD_KAFKA_PARTITION_UA. */
static inline rd_kafka_resp_err_t evtop_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                                const void *key, size_t key_len,
                                                const void *value, size_t value_len,
                                                rd_kafka_headers_t *headers, int64_t timestamp,
                                                void *opaque) {
    return rd_kafka_producev(rk,
                             RD_KAFKA_V_TOPIC(topic),
                             RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_KEY(key, key_len),
                             RD_KAFKA_V_VALUE(value, value_len),
                             RD_KAFKA_V_HEADERS(headers),
                             RD_KAFKA_V_TIMESTAMP(timestamp),
                             RD_KAFKA_V_OPAQUE(opaque),
                             RD_KAFKA_V_END);
}

/* Pushes `count` copies of `error` for the next requests of `api_key` (fault injection). */
static inline void evtop_mock_push_errors(rd_kafka_mock_cluster_t *mcluster, int16_t api_key,
                                          size_t count, rd_kafka_resp_err_t error) {
    rd_kafka_resp_err_t errors[64];
    if (count > 64) count = 64;
    for (size_t i = 0; i < count; i++) errors[i] = error;
    rd_kafka_mock_push_request_errors_array(mcluster, api_key, count, errors);
}

#endif
