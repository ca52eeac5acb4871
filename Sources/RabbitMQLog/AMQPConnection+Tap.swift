import Foundation
import CRabbitMQ
import EventModel

/// The tap's AMQP operations: its own queue, bindings to exchanges, and a consumer read with timeouts.
extension AMQPConnection {
    /// Declares the tap queue: exclusive (only this connection uses it, and it goes when the connection
    /// does, however evtop ends), auto-delete, holding at most `maxLength` messages on the server: when
    /// evtop falls behind, the oldest are dropped (`x-overflow: drop-head`) rather than the server's memory
    /// growing or publishers being refused. Returns the queue's name.
    func declareTapQueue(name: String, maxLength: Int) throws -> String {
        let ok = "x-max-length".withCString { lengthKey in "x-overflow".withCString { overflowKey in "drop-head".withCString { dropHead in
            var length = amqp_field_value_t()
            length.kind = UInt8(ascii: "l")
            length.value.i64 = Int64(maxLength)
            var overflow = amqp_field_value_t()
            overflow.kind = UInt8(ascii: "S")
            overflow.value.bytes = amqp_cstring_bytes(dropHead)
            var entries = [amqp_table_entry_t(key: amqp_cstring_bytes(lengthKey), value: length),
                           amqp_table_entry_t(key: amqp_cstring_bytes(overflowKey), value: overflow)]
            return entries.withUnsafeMutableBufferPointer { table in
                name.withCString { n in
                    amqp_queue_declare(state, channel, amqp_cstring_bytes(n), 0, 0, 1, 1,
                                       amqp_table_t(num_entries: Int32(table.count), entries: table.baseAddress))
                }
            }
        } } }
        guard let ok else {
            throw BrokerError.unavailable(Self.failure(amqp_get_rpc_reply(state), doing: "declaring the tap queue") ?? "declaring the tap queue failed")
        }
        return String(decoding: Self.bytes(ok.pointee.queue), as: UTF8.self)
    }

    /// Binds the tap queue to an exchange (a headers binding carries `x-match: all` and nothing else).
    func bindTap(queue: String, _ binding: TapBinding) throws {
        let ok = "x-match".withCString { matchKey in "all".withCString { all in
            var match = amqp_field_value_t()
            match.kind = UInt8(ascii: "S")
            match.value.bytes = amqp_cstring_bytes(all)
            var entries = [amqp_table_entry_t(key: amqp_cstring_bytes(matchKey), value: match)]
            return entries.withUnsafeMutableBufferPointer { table in
                queue.withCString { q in binding.exchange.withCString { x in binding.routingKey.withCString { k in
                    amqp_queue_bind(state, channel, amqp_cstring_bytes(q), amqp_cstring_bytes(x), amqp_cstring_bytes(k),
                                    binding.headersMatchAll ? amqp_table_t(num_entries: 1, entries: table.baseAddress) : amqp_empty_table)
                } } }
            }
        } }
        guard ok != nil else {
            throw BrokerError.unavailable(Self.failure(amqp_get_rpc_reply(state), doing: "binding the tap to '\(binding.exchange)'") ?? "queue.bind failed")
        }
    }

    /// Starts consuming the tap queue with manual acknowledgement, at most `prefetch` messages unacknowledged
    /// (what bounds the tap's memory: the server sends no more until a batch is written and acknowledged).
    func consumeTap(queue: String, prefetch: UInt16) throws {
        guard amqp_basic_qos(state, channel, 0, prefetch, 0) != nil else {
            throw BrokerError.unavailable(Self.failure(amqp_get_rpc_reply(state), doing: "basic.qos") ?? "basic.qos failed")
        }
        let ok = queue.withCString { q in
            amqp_basic_consume(state, channel, amqp_cstring_bytes(q), amqp_empty_bytes, 0, 0, 1, amqp_empty_table)
        }
        guard ok != nil else {
            throw BrokerError.unavailable(Self.failure(amqp_get_rpc_reply(state), doing: "basic.consume") ?? "basic.consume failed")
        }
    }

    /// The next message delivered to the tap, waiting at most `timeoutMillis` (nil when none came: the
    /// caller looks at its stop flag and comes back). Throws `BrokerError.unavailable` when the broker goes
    /// away or closes the channel.
    func nextTapDelivery(timeoutMillis: Int) throws -> AMQPDelivery? {
        var envelope = amqp_envelope_t()
        var timeout = timeval(tv_sec: timeoutMillis / 1000, tv_usec: Int((timeoutMillis % 1000) * 1000))
        amqp_maybe_release_buffers(state)
        let reply = amqp_consume_message(state, &envelope, &timeout, 0)
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            defer { amqp_destroy_envelope(&envelope) }
            let ok = amqp_basic_get_ok_t(delivery_tag: envelope.delivery_tag, redelivered: envelope.redelivered,
                                         exchange: envelope.exchange, routing_key: envelope.routing_key, message_count: 0)
            return Self.delivery(ok, envelope.message)
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_TIMEOUT.rawValue:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION where reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue:
            // A frame other than a delivery is waiting: read it to learn what the server said.
            var frame = amqp_frame_t()
            var wait = timeval(tv_sec: 1, tv_usec: 0)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &wait)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw BrokerError.unavailable("the tap's connection: \(String(cString: amqp_error_string2(status)))")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else { return nil }
            switch frame.payload.method.id {
            case evtop_channel_close, evtop_connection_close:
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw BrokerError.unavailable("the server closed the tap's channel: \(c.reply_code) \(String(decoding: Self.bytes(c.reply_text), as: UTF8.self))")
            case evtop_basic_cancel:
                throw BrokerError.unavailable("the server cancelled the tap's consumer (was its queue deleted?)")
            default:
                return nil
            }
        default:
            throw BrokerError.unavailable(Self.failure(reply, doing: "consuming the tap") ?? "consuming the tap failed")
        }
    }

    /// Acknowledges every delivery up to and including `tag` (written locally: they may go).
    func ackTap(upTo tag: UInt64) throws {
        guard amqp_basic_ack(state, channel, tag, 1) == AMQP_STATUS_OK.rawValue else {
            throw BrokerError.unavailable("basic.ack failed: the tap's connection went away")
        }
    }
}
