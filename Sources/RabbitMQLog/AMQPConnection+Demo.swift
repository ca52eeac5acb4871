import Foundation
import CRabbitMQ
import EventModel

// The demo's AMQP operations (declaring its topology, publishing new messages, consuming with a prefetch,
// rejecting): kept apart from browsing and redrive, which never declare, consume or reject.
extension AMQPConnection {
    /// Declares a durable exchange of `kind` (`topic`, `direct`, `fanout`).
    func declareExchange(_ name: String, kind: String) throws {
        let ok = name.withCString { n in kind.withCString { k in
            amqp_exchange_declare(state, channel, amqp_cstring_bytes(n), amqp_cstring_bytes(k), 0, 1, 0, 0, amqp_empty_table)
        } }
        if ok == nil { throw Self.demoFailure("exchange.declare \(name)", amqp_get_rpc_reply(state)) }
    }

    /// Declares a durable queue with text-valued arguments.
    func declareQueue(_ name: String, arguments: [String: String]) throws {
        let ok = Self.withTable(arguments.sorted { $0.key < $1.key }.map { ($0.key, Array($0.value.utf8)) }) { table in
            name.withCString { amqp_queue_declare(state, channel, amqp_cstring_bytes($0), 0, 1, 0, 0, table) }
        }
        if ok == nil { throw Self.demoFailure("queue.declare \(name)", amqp_get_rpc_reply(state)) }
    }

    /// Binds `queue` to `exchange` with `routingKey`.
    func bind(queue: String, exchange: String, routingKey: String) throws {
        let ok = queue.withCString { q in exchange.withCString { x in routingKey.withCString { k in
            amqp_queue_bind(state, channel, amqp_cstring_bytes(q), amqp_cstring_bytes(x), amqp_cstring_bytes(k), amqp_empty_table)
        } } }
        if ok == nil { throw Self.demoFailure("queue.bind \(queue) to \(exchange)", amqp_get_rpc_reply(state)) }
    }

    /// Publishes a new message, persistent and not mandatory (an event no service binds, such as
    /// OrderCancelled, is dropped by the broker as any unrouted event is).
    func publish(_ message: QueueMessage) throws {
        var owned: [amqp_bytes_t] = []
        defer { for var b in owned { amqp_bytes_free(b); b.len = 0 } }
        func copy(_ bytes: [UInt8]) -> amqp_bytes_t {
            let b = bytes.withUnsafeBytes { raw in
                amqp_bytes_malloc_dup(amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
            owned.append(b)
            return b
        }
        var props = amqp_basic_properties_t()
        props._flags = evtop_flag_delivery_mode
        props.delivery_mode = 2
        func text(_ value: String?, _ flag: amqp_flags_t, _ set: (inout amqp_basic_properties_t, amqp_bytes_t) -> Void) {
            guard let value else { return }
            props._flags |= flag
            set(&props, copy(Array(value.utf8)))
        }
        text(message.correlationID, evtop_flag_correlation_id) { $0.correlation_id = $1 }
        text(message.messageID, evtop_flag_message_id) { $0.message_id = $1 }
        text(message.type, evtop_flag_type) { $0.type = $1 }
        text(message.contentType, evtop_flag_content_type) { $0.content_type = $1 }
        if let millis = message.timestampMillis, millis >= 0 {
            props._flags |= evtop_flag_timestamp
            props.timestamp = UInt64(millis / 1000)
        }
        var entries: [amqp_table_entry_t] = message.headers.map { header in
            var field = amqp_field_value_t()
            field.kind = UInt8(ascii: "S")
            field.value.bytes = copy(header.value ?? [])
            return amqp_table_entry_t(key: copy(Array(header.name.utf8)), value: field)
        }
        let body = copy(message.body)
        if !entries.isEmpty { props._flags |= evtop_flag_headers }
        let status = entries.withUnsafeMutableBufferPointer { table -> Int32 in
            props.headers = amqp_table_t(num_entries: Int32(table.count), entries: table.baseAddress)
            return message.exchange.withCString { x in message.routingKey.withCString { k in
                amqp_basic_publish(state, channel, amqp_cstring_bytes(x), amqp_cstring_bytes(k), 0, 0, &props, body)
            } }
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BrokerError.unavailable("basic.publish to \(message.exchange): \(String(cString: amqp_error_string2(status)))")
        }
    }

    /// Starts a consumer on `queue` with manual acknowledgements and at most `prefetch` unacknowledged deliveries.
    func startConsumer(queue: String, tag: String, prefetch: Int) throws {
        let count = UInt16(clamping: max(1, prefetch))
        if amqp_basic_qos(state, channel, 0, count, 0) == nil {
            throw Self.demoFailure("basic.qos", amqp_get_rpc_reply(state))
        }
        let ok = queue.withCString { q in tag.withCString { t in
            amqp_basic_consume(state, channel, amqp_cstring_bytes(q), amqp_cstring_bytes(t), 0, 0, 0, amqp_empty_table)
        } }
        if ok == nil { throw Self.demoFailure("basic.consume \(queue)", amqp_get_rpc_reply(state)) }
    }

    /// The next delivery that has already arrived, or nil when none is waiting (never blocks for one;
    /// reading also answers the server's heartbeats). Throws when the server cancelled the consumer or
    /// the connection went away.
    func nextDelivery() throws -> AMQPDelivery? {
        // Frames decoded for earlier deliveries are freed before the next: a demo runs for hours.
        amqp_maybe_release_buffers(state)
        var envelope = amqp_envelope_t()
        var zero = timeval(tv_sec: 0, tv_usec: 0)
        let reply = amqp_consume_message(state, &envelope, &zero, 0)
        if reply.reply_type == AMQP_RESPONSE_NORMAL {
            defer { amqp_destroy_envelope(&envelope) }
            let ok = amqp_basic_get_ok_t(delivery_tag: envelope.delivery_tag, redelivered: envelope.redelivered,
                                         exchange: envelope.exchange, routing_key: envelope.routing_key, message_count: 0)
            return Self.delivery(ok, envelope.message)
        }
        if reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
            if reply.library_error == AMQP_STATUS_TIMEOUT.rawValue { return nil }
            if reply.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                // Another frame than a delivery came first: a close or a cancel from the server ends this consumer.
                var frame = amqp_frame_t()
                let status = amqp_simple_wait_frame_noblock(state, &frame, &zero)
                guard status == AMQP_STATUS_OK.rawValue else {
                    throw BrokerError.unavailable("consuming: \(String(cString: amqp_error_string2(status)))")
                }
                guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else { return nil }
                switch frame.payload.method.id {
                case evtop_channel_close, evtop_connection_close:
                    // Both methods start with reply-code and reply-text.
                    let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                    let what = frame.payload.method.id == evtop_connection_close ? "connection" : "channel"
                    throw BrokerError.unavailable("RabbitMQ closed the \(what) (\(c.reply_code) \(String(decoding: Self.bytes(c.reply_text), as: UTF8.self)))")
                case evtop_basic_cancel:
                    throw BrokerError.unavailable("the server cancelled the consumer (its queue was deleted)")
                default:
                    return nil
                }
            }
        }
        throw BrokerError.unavailable(Self.failure(reply, doing: "consuming") ?? "consuming failed")
    }

    /// Rejects a delivery without requeueing it: the server dead-letters it (reason `rejected`).
    func reject(_ tag: UInt64) throws {
        guard amqp_basic_reject(state, channel, tag, 0) == AMQP_STATUS_OK.rawValue else {
            throw BrokerError.unavailable("basic.reject failed: the connection went away (the message goes back to its queue)")
        }
    }

    // MARK: Pieces

    /// A field table of long strings for the duration of `body` (the names and values live in malloc'd copies).
    static func withTable<T>(_ pairs: [(String, [UInt8])], _ body: (amqp_table_t) -> T) -> T {
        var owned: [amqp_bytes_t] = []
        defer { for var b in owned { amqp_bytes_free(b); b.len = 0 } }
        func copy(_ bytes: [UInt8]) -> amqp_bytes_t {
            let b = bytes.withUnsafeBytes { raw in
                amqp_bytes_malloc_dup(amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress)))
            }
            owned.append(b)
            return b
        }
        var entries: [amqp_table_entry_t] = pairs.map { name, value in
            var field = amqp_field_value_t()
            field.kind = UInt8(ascii: "S")
            field.value.bytes = copy(value)
            return amqp_table_entry_t(key: copy(Array(name.utf8)), value: field)
        }
        return entries.withUnsafeMutableBufferPointer { table in
            body(amqp_table_t(num_entries: Int32(table.count), entries: table.baseAddress))
        }
    }

    /// A refused declaration or bind, as one sentence (a 406 is a queue or exchange that exists with other settings).
    static func demoFailure(_ what: String, _ reply: amqp_rpc_reply_t) -> BrokerError {
        let reason = failure(reply, doing: what) ?? "\(what) failed"
        if reason.contains("406") {
            return .unavailable("\(reason): it exists with other settings; run the demo on a fresh vhost or delete it")
        }
        return .unavailable(reason)
    }
}
