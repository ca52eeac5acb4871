// librabbitmq (rabbitmq-c), the canonical C client of AMQP 0-9-1, as Debian's librabbitmq-dev packages it.
#ifndef EVTOP_CRABBITMQ_H
#define EVTOP_CRABBITMQ_H

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>

/// amqp_login with the PLAIN mechanism: the library's own function is variadic, which Swift cannot call.
amqp_rpc_reply_t evtop_amqp_login_plain(amqp_connection_state_t state, const char *vhost, int heartbeat,
                                        const char *user, const char *password);

// Method ids: the library's macros are casts over several lines, which Swift does not import.
static const amqp_method_number_t evtop_basic_get = AMQP_BASIC_GET_METHOD;
static const amqp_method_number_t evtop_basic_get_ok = AMQP_BASIC_GET_OK_METHOD;
static const amqp_method_number_t evtop_basic_get_empty = AMQP_BASIC_GET_EMPTY_METHOD;
static const amqp_method_number_t evtop_basic_ack = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t evtop_basic_nack = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t evtop_basic_return = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t evtop_connection_close = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t evtop_channel_close = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t evtop_basic_deliver = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t evtop_basic_consume_ok = AMQP_BASIC_CONSUME_OK_METHOD;
static const amqp_method_number_t evtop_basic_cancel = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t evtop_basic_cancel_ok = AMQP_BASIC_CANCEL_OK_METHOD;
static const amqp_method_number_t evtop_basic_qos_ok = AMQP_BASIC_QOS_OK_METHOD;
static const amqp_method_number_t evtop_queue_declare_ok = AMQP_QUEUE_DECLARE_OK_METHOD;
static const amqp_method_number_t evtop_queue_bind_ok = AMQP_QUEUE_BIND_OK_METHOD;
static const amqp_method_number_t evtop_exchange_declare_ok = AMQP_EXCHANGE_DECLARE_OK_METHOD;
static const amqp_flags_t evtop_flag_content_type = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t evtop_flag_content_encoding = AMQP_BASIC_CONTENT_ENCODING_FLAG;
static const amqp_flags_t evtop_flag_headers = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t evtop_flag_delivery_mode = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t evtop_flag_priority = AMQP_BASIC_PRIORITY_FLAG;
static const amqp_flags_t evtop_flag_correlation_id = AMQP_BASIC_CORRELATION_ID_FLAG;
static const amqp_flags_t evtop_flag_reply_to = AMQP_BASIC_REPLY_TO_FLAG;
static const amqp_flags_t evtop_flag_expiration = AMQP_BASIC_EXPIRATION_FLAG;
static const amqp_flags_t evtop_flag_message_id = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t evtop_flag_timestamp = AMQP_BASIC_TIMESTAMP_FLAG;
static const amqp_flags_t evtop_flag_type = AMQP_BASIC_TYPE_FLAG;
static const amqp_flags_t evtop_flag_user_id = AMQP_BASIC_USER_ID_FLAG;
static const amqp_flags_t evtop_flag_app_id = AMQP_BASIC_APP_ID_FLAG;

#endif
