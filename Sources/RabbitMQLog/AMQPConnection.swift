import Foundation
import CRabbitMQ
import EventModel

/// A value of an AMQP field table (message headers), as the wire types it.
indirect enum AMQPValue: Sendable, Hashable {
    case text([UInt8]), bytes([UInt8]), int(Int64), uint(UInt64), double(Double), bool(Bool)
    case timestamp(UInt64), decimal(scale: UInt8, value: UInt32), table([(String, AMQPValue)]), array([AMQPValue]), void

    static func == (a: AMQPValue, b: AMQPValue) -> Bool { a.json == b.json }
    func hash(into h: inout Hasher) { h.combine(json) }

    /// Header bytes as a Kafka-style header carries them: strings and bytes as they are, numbers as
    /// decimal text, tables and arrays as JSON.
    var headerBytes: [UInt8] {
        switch self {
        case .text(let b), .bytes(let b): return b
        default: return Array(json.utf8)
        }
    }

    /// JSON text (bytes that are not UTF-8 become `\ufffd`; a timestamp is seconds since the epoch).
    var json: String {
        switch self {
        case .text(let b), .bytes(let b): return Self.quote(String(decoding: b, as: UTF8.self))
        case .int(let v): return String(v)
        case .uint(let v), .timestamp(let v): return String(v)
        case .double(let v): return v.isFinite ? String(v) : "null"
        case .bool(let v): return v ? "true" : "false"
        case .decimal(let scale, let value): return String(Double(value) / pow(10, Double(scale)))
        case .void: return "null"
        case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
        case .table(let t): return "{" + t.map { Self.quote($0.0) + ":" + $0.1.json }.joined(separator: ",") + "}"
        }
    }

    static func quote(_ s: String) -> String { JSONString.quote(s) }
}

/// One message taken with `basic.get` and not yet acknowledged.
struct AMQPDelivery: Sendable {
    var deliveryTag: UInt64
    var redelivered: Bool
    var exchange: String
    var routingKey: [UInt8]
    /// Messages left in the queue after this one, as the server counted them.
    var remaining: UInt32
    /// Basic properties that were set, by their AMQP names (`correlation-id`, `type`, …); headers excluded.
    var properties: [(String, AMQPValue)]
    /// The `timestamp` property in seconds, when set.
    var timestampSeconds: UInt64?
    var headers: [(String, AMQPValue)]
    var body: [UInt8]
}

/// A message as librabbitmq read it (properties, typed header table and body in the message's own pool),
/// kept to publish it again unchanged.
final class AMQPContent: @unchecked Sendable {
    // @unchecked: used by one thread at a time, as its connection is.
    var message = amqp_message_t()
    var read = false

    deinit {
        if read { amqp_destroy_message(&message) }
    }
}

/// One AMQP 0-9-1 connection through librabbitmq, with one channel. Blocking and not thread-safe: use it
/// from one thread at a time (``RabbitMQLog`` runs each operation on its own connection, off the
/// cooperative pool). Closing it returns every unacknowledged message to its queue.
final class AMQPConnection: @unchecked Sendable {
    // @unchecked: handed between threads, used by one at a time (a serial DispatchQueue).
    /// Internal, not private: the connection's operations are split over files by purpose (browse and
    /// redrive here, the demo's and the tap's in their own files).
    let state: amqp_connection_state_t
    private var open = false
    let channel: amqp_channel_t = 1

    /// Connects, logs in and opens channel 1; throws `BrokerError.unavailable` with the server's reason.
    init(settings: RabbitMQSettings, timeoutSeconds: Int = 5, properties: [String: String] = [:]) throws {
        guard let state = amqp_new_connection() else { throw BrokerError.unavailable("cannot allocate an AMQP connection") }
        // From here on every stored property is set, so a throw runs deinit, which destroys the connection.
        self.state = state
        let where_ = "\(settings.host):\(settings.port)"
        let socket: OpaquePointer?
        if settings.tls {
            socket = amqp_ssl_socket_new(state)
            if let socket {
                let ca = properties["ssl.ca.location"] ?? "/etc/ssl/certs/ca-certificates.crt"
                if FileManager.default.fileExists(atPath: ca) { _ = amqp_ssl_socket_set_cacert(socket, ca) }
                let verify: amqp_boolean_t = properties["enable.ssl.certificate.verification"] == "false" ? 0 : 1
                amqp_ssl_socket_set_verify_peer(socket, verify)
                amqp_ssl_socket_set_verify_hostname(socket, verify)
            }
        } else {
            socket = amqp_tcp_socket_new(state)
        }
        guard let socket else {
            throw BrokerError.unavailable("cannot create a socket for \(where_)")
        }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        let status = amqp_socket_open_noblock(socket, settings.host, Int32(settings.port), &timeout)
        let cause = errno  // the library's own text for a failed connect is only "a socket error occurred"
        guard status == AMQP_STATUS_OK.rawValue else {
            throw BrokerError.unavailable("\(where_): " + Self.connectFailure(status: status, errno: cause))
        }
        _ = amqp_set_rpc_timeout(state, &timeout)
        let login = evtop_amqp_login_plain(state, settings.vhost, 30, settings.user, settings.password)
        if let failure = Self.failure(login, doing: "login") {
            throw BrokerError.unavailable("\(where_): " + Self.loginReason(failure, vhost: settings.vhost))
        }
        amqp_channel_open(state, channel)
        if let failure = Self.failure(amqp_get_rpc_reply(state), doing: "channel.open") {
            throw BrokerError.unavailable("\(where_): \(failure)")
        }
        open = true
    }

    deinit {
        if open {
            _ = amqp_channel_close(state, channel, Int32(AMQP_REPLY_SUCCESS))
            _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS))
        }
        amqp_destroy_connection(state)
    }

    /// Takes up to `count` messages from the queue's head without acknowledging them, asking for them all
    /// before reading the answers (one round trip instead of `count`). Fewer come back when the queue runs
    /// empty. With `keepingContent`, each comes with the message as the server sent it, so that it can be
    /// published again with its properties and typed headers exactly as they were.
    func takeMany(queue: String, count: Int, keepingContent: Bool) throws -> [(delivery: AMQPDelivery, content: AMQPContent?)] {
        guard count > 0 else { return [] }
        let sent = queue.withCString { name -> Int32 in
            var request = amqp_basic_get_t(ticket: 0, queue: amqp_cstring_bytes(name), no_ack: 0)
            for _ in 0..<count {
                let status = amqp_send_method(state, channel, evtop_basic_get, &request)
                if status != AMQP_STATUS_OK.rawValue { return status }
            }
            return AMQP_STATUS_OK.rawValue
        }
        guard sent == AMQP_STATUS_OK.rawValue else {
            open = false
            throw BrokerError.unavailable("basic.get: \(String(cString: amqp_error_string2(sent)))")
        }
        var out: [(delivery: AMQPDelivery, content: AMQPContent?)] = []
        defer { amqp_maybe_release_buffers(state) }
        for _ in 0..<count {
            var frame = amqp_frame_t()
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            guard status == AMQP_STATUS_OK.rawValue else {
                open = false
                throw BrokerError.unavailable("basic.get: \(String(cString: amqp_error_string2(status)))")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else {
                open = false
                throw BrokerError.unavailable("basic.get: an unexpected frame (type \(frame.frame_type))")
            }
            switch frame.payload.method.id {
            case evtop_basic_get_empty:
                continue
            case evtop_basic_get_ok:
                let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
                let content = AMQPContent()
                let read = amqp_read_message(state, channel, &content.message, 0)
                if let failure = Self.failure(read, doing: "reading a message") {
                    open = false
                    throw BrokerError.unavailable(failure)
                }
                content.read = true
                out.append((Self.delivery(ok, content.message), keepingContent ? content : nil))
            case evtop_channel_close, evtop_connection_close:
                open = false
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                let text = String(decoding: Self.bytes(c.reply_text), as: UTF8.self)
                if c.reply_code == 404 { throw BrokerError.unknownTopic(queue) }
                if c.reply_code == 540 {  // NOT_IMPLEMENTED: a stream queue, which is read from an offset, never taken
                    throw BrokerError.unsupported("'\(queue)' is a RabbitMQ stream: streams are read by offset, not browsed with basic.get, and evtop does not read them yet")
                }
                throw BrokerError.unavailable("basic.get: \(c.reply_code) \(text)")
            default:
                open = false
                throw BrokerError.unavailable("basic.get: unexpected answer \(frame.payload.method.id)")
            }
        }
        return out
    }

    /// A delivery's fields and its message's properties, copied out of librabbitmq's buffers.
    static func delivery(_ ok: amqp_basic_get_ok_t, _ message: amqp_message_t) -> AMQPDelivery {
        var delivery = AMQPDelivery(deliveryTag: ok.delivery_tag, redelivered: ok.redelivered != 0,
                                    exchange: String(decoding: Self.bytes(ok.exchange), as: UTF8.self),
                                    routingKey: Self.bytes(ok.routing_key), remaining: ok.message_count,
                                    properties: [], timestampSeconds: nil, headers: [], body: Self.bytes(message.body))
        let p = message.properties
        let flags = p._flags
        func text(_ flag: amqp_flags_t, _ name: String, _ value: amqp_bytes_t) {
            if flags & flag != 0 { delivery.properties.append((name, .text(Self.bytes(value)))) }
        }
        text(evtop_flag_content_type, "content-type", p.content_type)
        text(evtop_flag_content_encoding, "content-encoding", p.content_encoding)
        if flags & evtop_flag_delivery_mode != 0 { delivery.properties.append(("delivery-mode", .uint(UInt64(p.delivery_mode)))) }
        if flags & evtop_flag_priority != 0 { delivery.properties.append(("priority", .uint(UInt64(p.priority)))) }
        text(evtop_flag_correlation_id, "correlation-id", p.correlation_id)
        text(evtop_flag_reply_to, "reply-to", p.reply_to)
        text(evtop_flag_expiration, "expiration", p.expiration)
        text(evtop_flag_message_id, "message-id", p.message_id)
        if flags & evtop_flag_timestamp != 0 {
            delivery.timestampSeconds = p.timestamp
            delivery.properties.append(("timestamp", .timestamp(p.timestamp)))
        }
        text(evtop_flag_type, "type", p.type)
        text(evtop_flag_user_id, "user-id", p.user_id)
        text(evtop_flag_app_id, "app-id", p.app_id)
        if flags & evtop_flag_headers != 0 { delivery.headers = Self.table(p.headers, depth: 0) }
        return delivery
    }

    /// Acknowledges one taken message (no answer comes back: a later synchronous call on this channel
    /// proves the server processed it).
    func ack(_ tag: UInt64) throws {
        guard amqp_basic_ack(state, channel, tag, 0) == AMQP_STATUS_OK.rawValue else {
            open = false
            throw BrokerError.unavailable("basic.ack failed: the connection went away (the message goes back to its queue)")
        }
    }

    // MARK: Publishing with confirms

    /// Puts the channel in confirm mode: every publish is then acknowledged by the server once routed
    /// and stored (`basic.ack`), or refused (`basic.nack`); an unroutable mandatory publish comes back first.
    func selectConfirms() throws {
        guard amqp_confirm_select(state, channel) != nil else {
            open = false
            throw BrokerError.unavailable(Self.failure(amqp_get_rpc_reply(state), doing: "confirm.select") ?? "confirm.select failed")
        }
    }

    /// Whether an exchange exists, by a passive declare ("" is the default exchange, which always does);
    /// a missing one closes the channel, so the connection is spent then.
    func exchangeExists(_ name: String) throws -> Bool {
        if name.isEmpty { return true }
        let ok = name.withCString { n in "direct".withCString { t in
            amqp_exchange_declare(state, channel, amqp_cstring_bytes(n), amqp_cstring_bytes(t), 1, 0, 0, 0, amqp_empty_table)
        } }
        if ok != nil { return true }
        let failure = Self.failure(amqp_get_rpc_reply(state), doing: "exchange.declare") ?? "exchange.declare failed"
        open = false
        if failure.contains("404") { return false }
        throw BrokerError.unavailable(failure)
    }

    /// Publishes a taken message again, mandatory (an unroutable one comes back rather than vanishing), with
    /// its properties and typed headers as they were, less `removing`, plus `adding` (as text). The
    /// `user-id` property is dropped unless it is this connection's user: the server refuses any other.
    func publish(_ content: AMQPContent, exchange: String, routingKey: String, removing: Set<String>,
                 adding: [(String, [UInt8])], user: String) throws {
        var props = content.message.properties
        if props._flags & evtop_flag_user_id != 0, Self.bytes(props.user_id) != Array(user.utf8) {
            props._flags &= ~evtop_flag_user_id
        }
        var entries: [amqp_table_entry_t] = []
        if props._flags & evtop_flag_headers != 0, props.headers.num_entries > 0, let e = props.headers.entries {
            for i in 0..<Int(props.headers.num_entries) where !removing.contains(String(decoding: Self.bytes(e[i].key), as: UTF8.self)) {
                entries.append(e[i])
            }
        }
        // The added names and values live in malloc'd copies until the frame is written.
        var owned: [amqp_bytes_t] = []
        defer { for var b in owned { amqp_bytes_free(b); b.len = 0 } }
        func copy(_ bytes: [UInt8]) -> amqp_bytes_t {
            let b = bytes.withUnsafeBytes { raw in amqp_bytes_malloc_dup(amqp_bytes_t(len: raw.count, bytes: UnsafeMutableRawPointer(mutating: raw.baseAddress))) }
            owned.append(b)
            return b
        }
        for (name, value) in adding {
            var field = amqp_field_value_t()
            field.kind = UInt8(ascii: "S")
            field.value.bytes = copy(value)
            entries.append(amqp_table_entry_t(key: copy(Array(name.utf8)), value: field))
        }
        props._flags |= evtop_flag_headers
        let status = entries.withUnsafeMutableBufferPointer { table -> Int32 in
            props.headers = amqp_table_t(num_entries: Int32(table.count), entries: table.baseAddress)
            return exchange.withCString { x in routingKey.withCString { k in
                amqp_basic_publish(state, channel, amqp_cstring_bytes(x), amqp_cstring_bytes(k), 1, 0, &props, content.message.body)
            } }
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            open = false
            throw BrokerError.unavailable("basic.publish: \(String(cString: amqp_error_string2(status)))")
        }
    }

    /// What the server said about the publishes of a confirm-mode channel.
    struct ConfirmEvents {
        /// Publish sequence numbers (from 1) the server confirmed.
        var acked: [(tag: UInt64, multiple: Bool)] = []
        /// Sequence numbers it refused.
        var nacked: [(tag: UInt64, multiple: Bool)] = []
        /// Publishes that came back unroutable: the `evtop-redrive-id` header they carry, and why.
        var returned: [(redriveID: String?, reason: String)] = []
    }

    /// Reads confirms until `isDone` says enough was seen, or `timeoutSeconds` pass without a frame
    /// (then throws `BrokerError.unavailable`: what was not confirmed is in doubt).
    func awaitConfirms(timeoutSeconds: Int, redriveIDHeader: String, isDone: (ConfirmEvents) -> Bool) throws -> ConfirmEvents {
        var events = ConfirmEvents()
        while !isDone(events) {
            // A long-lived publisher (the demo's) would otherwise keep every decoded confirm frame.
            amqp_maybe_release_buffers(state)
            var frame = amqp_frame_t()
            var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue {
                throw BrokerError.unavailable("no confirm from the server for \(timeoutSeconds) s")
            }
            guard status == AMQP_STATUS_OK.rawValue else {
                open = false
                throw BrokerError.unavailable("waiting for confirms: \(String(cString: amqp_error_string2(status)))")
            }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else { continue }
            switch frame.payload.method.id {
            case evtop_basic_ack:
                let a = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                events.acked.append((a.delivery_tag, a.multiple != 0))
            case evtop_basic_nack:
                let n = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                events.nacked.append((n.delivery_tag, n.multiple != 0))
            case evtop_basic_return:
                let r = decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
                let reason = "\(r.reply_code) \(String(decoding: Self.bytes(r.reply_text), as: UTF8.self))"
                var returned = amqp_message_t()
                let read = amqp_read_message(state, frame.channel, &returned, 0)
                defer { amqp_destroy_message(&returned) }
                if let failure = Self.failure(read, doing: "reading a returned message") {
                    open = false
                    throw BrokerError.unavailable(failure)
                }
                var id: String?
                if returned.properties._flags & evtop_flag_headers != 0,
                   case .text(let value)? = Self.table(returned.properties.headers, depth: 0).first(where: { $0.0 == redriveIDHeader })?.1 {
                    id = String(decoding: value, as: UTF8.self)
                }
                events.returned.append((id, reason))
            case evtop_channel_close, evtop_connection_close:
                open = false
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                throw BrokerError.unavailable("the server closed the channel: \(c.reply_code) \(String(decoding: Self.bytes(c.reply_text), as: UTF8.self))")
            default:
                continue
            }
        }
        return events
    }

    /// A queue's ready messages and consumers, by a passive `queue.declare` (what AMQP alone can tell);
    /// nil when the queue does not exist (the server then closes the channel, so this connection is spent).
    func declarePassive(queue: String) throws -> (ready: Int64, consumers: Int)? {
        let ok = queue.withCString { amqp_queue_declare(state, channel, amqp_cstring_bytes($0), 1, 0, 0, 0, amqp_empty_table) }
        if let ok { return (Int64(ok.pointee.message_count), Int(ok.pointee.consumer_count)) }
        let failure = Self.failure(amqp_get_rpc_reply(state), doing: "queue.declare") ?? "queue.declare failed"
        open = false
        if failure.contains("404") { return nil }
        throw BrokerError.unavailable(failure)
    }

    /// Returns every unacknowledged message of this channel to its queue, in its place.
    func returnAll() throws {
        guard amqp_basic_nack(state, channel, 0, 1, 1) == AMQP_STATUS_OK.rawValue else {
            open = false
            throw BrokerError.unavailable("basic.nack failed: the connection went away (the server returns the messages itself)")
        }
    }

    // MARK: Decoding

    static func bytes(_ b: amqp_bytes_t) -> [UInt8] {
        guard b.len > 0, let base = b.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: b.len))
    }

    /// Tables nest; a hostile message could nest them deeply, so depth is bounded.
    static func table(_ t: amqp_table_t, depth: Int) -> [(String, AMQPValue)] {
        guard t.num_entries > 0, let entries = t.entries else { return [] }
        return (0..<Int(t.num_entries)).map { i in
            (String(decoding: bytes(entries[i].key), as: UTF8.self), value(entries[i].value, depth: depth))
        }
    }

    static func value(_ v: amqp_field_value_t, depth: Int) -> AMQPValue {
        switch UInt8(v.kind) {
        case UInt8(ascii: "t"): return .bool(v.value.boolean != 0)
        case UInt8(ascii: "b"): return .int(Int64(v.value.i8))
        case UInt8(ascii: "B"): return .uint(UInt64(v.value.u8))
        case UInt8(ascii: "s"): return .int(Int64(v.value.i16))
        case UInt8(ascii: "u"): return .uint(UInt64(v.value.u16))
        case UInt8(ascii: "I"): return .int(Int64(v.value.i32))
        case UInt8(ascii: "i"): return .uint(UInt64(v.value.u32))
        case UInt8(ascii: "l"): return .int(v.value.i64)
        case UInt8(ascii: "L"): return .uint(v.value.u64)
        case UInt8(ascii: "f"): return .double(Double(v.value.f32))
        case UInt8(ascii: "d"): return .double(v.value.f64)
        case UInt8(ascii: "D"): return .decimal(scale: v.value.decimal.decimals, value: v.value.decimal.value)
        case UInt8(ascii: "S"): return .text(bytes(v.value.bytes))
        case UInt8(ascii: "x"): return .bytes(bytes(v.value.bytes))
        case UInt8(ascii: "T"): return .timestamp(v.value.u64)
        case UInt8(ascii: "F"): return depth < 16 ? .table(table(v.value.table, depth: depth + 1)) : .void
        case UInt8(ascii: "A"):
            let a = v.value.array
            guard depth < 16, a.num_entries > 0, let entries = a.entries else { return .array([]) }
            return .array((0..<Int(a.num_entries)).map { value(entries[$0], depth: depth + 1) })
        default: return .void
        }
    }

    /// The reason a reply failed, or nil when it is normal.
    static func failure(_ reply: amqp_rpc_reply_t, doing what: String) -> String? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL: return nil
        case AMQP_RESPONSE_NONE: return "\(what): no answer (the connection closed)"
        case AMQP_RESPONSE_LIBRARY_EXCEPTION: return "\(what): \(String(cString: amqp_error_string2(reply.library_error)))"
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let decoded = reply.reply.decoded else { return "\(what): refused by the server" }
            if reply.reply.id == evtop_connection_close {
                let c = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
                return "\(what): \(c.reply_code) \(String(decoding: bytes(c.reply_text), as: UTF8.self))"
            }
            if reply.reply.id == evtop_channel_close {
                let c = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
                return "\(what): \(c.reply_code) \(String(decoding: bytes(c.reply_text), as: UTF8.self))"
            }
            return "\(what): refused by the server"
        default: return "\(what): failed"
        }
    }

    /// RabbitMQ closes the socket on a bad password without saying why; a missing vhost it names.
    /// Why a connect failed, worded for an operator: the system's reason (connection refused, no route to
    /// host) rather than librabbitmq's generic one.
    static func connectFailure(status: Int32, errno cause: Int32) -> String {
        if status == AMQP_STATUS_SOCKET_ERROR.rawValue {
            // A refused non-blocking connect leaves EINPROGRESS in errno (the library does not pass on SO_ERROR).
            let hint = "is RabbitMQ listening there? (AMQP's port is 5672, 5671 for amqps)"
            if cause == 0 || cause == EINPROGRESS || cause == ECONNREFUSED { return "connection refused: " + hint }
            return String(cString: strerror(cause)).lowercased() + ": " + hint
        }
        if status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue { return "the host name does not resolve" }
        if status == AMQP_STATUS_TIMEOUT.rawValue { return "no answer within the timeout" }
        return String(cString: amqp_error_string2(status))
    }

    static func loginReason(_ failure: String, vhost: String) -> String {
        if failure.contains("530") || failure.lowercased().contains("vhost") {
            return "vhost '\(vhost)' does not exist or the user may not use it"
        }
        if failure.contains("403") || failure.contains("ACCESS_REFUSED") || failure.contains("connection closed") || failure.contains("socket") {
            return "login refused: check the user and password (\(failure))"
        }
        return failure
    }
}
