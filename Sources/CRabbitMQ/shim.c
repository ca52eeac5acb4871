#include "CRabbitMQ.h"

amqp_rpc_reply_t evtop_amqp_login_plain(amqp_connection_state_t state, const char *vhost, int heartbeat,
                                        const char *user, const char *password) {
    // 2047 channels, 128 KiB frames: the library's defaults, as rabbitmq-c's own examples use them.
    return amqp_login(state, vhost, 0, 131072, heartbeat, AMQP_SASL_METHOD_PLAIN, user, password);
}
