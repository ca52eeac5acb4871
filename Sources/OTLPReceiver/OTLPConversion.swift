import EventModel
import Foundation
import SwiftProtobuf

typealias ProtoRequest = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest
typealias ProtoResponse = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse
typealias ProtoSpan = Opentelemetry_Proto_Trace_V1_Span
typealias ProtoAnyValue = Opentelemetry_Proto_Common_V1_AnyValue
typealias ProtoKeyValue = Opentelemetry_Proto_Common_V1_KeyValue

/// The wire encodings of OTLP/HTTP.
public enum OTLPEncoding: Sendable, Equatable {
    /// `application/x-protobuf`: binary protobuf.
    case protobuf
    /// `application/json`: protobuf's JSON mapping with OTLP's exceptions (hex ids).
    case json

    /// The Content-Type header value.
    public var contentType: String {
        switch self {
        case .protobuf: return "application/x-protobuf"
        case .json: return "application/json"
        }
    }

    /// The encoding a Content-Type header names (parameters such as `charset` ignored), or nil.
    public init?(contentType: String) {
        let base = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        switch base.trimmingCharacters(in: .whitespaces).lowercased() {
        case "application/x-protobuf", "application/protobuf": self = .protobuf
        case "application/json": self = .json
        default: return nil
        }
    }
}

/// What one export request turned into: the spans to store and the ones refused, with the first reason.
public struct OTLPDecodedBatch: Sendable, Equatable {
    /// Valid spans, converted.
    public var spans: [Span]
    /// How many spans were refused.
    public var rejected: Int
    /// Why (the first refusal), empty when none was.
    public var rejectionMessage: String
}

/// Converts between OTLP trace messages and EventModel spans. Pure.
public enum OTLPConversion {
    /// Deepest nesting of array/map attribute values kept; deeper values become their text.
    static let maxValueDepth = 8

    /// A malformed body: the whole request is refused with 400.
    public struct MalformedBody: Error, CustomStringConvertible {
        /// What was wrong.
        public var description: String
    }

    /// Decodes an ExportTraceServiceRequest body (already inflated) into spans.
    public static func decodeRequest(_ body: [UInt8], encoding: OTLPEncoding) throws -> OTLPDecodedBatch {
        let request: ProtoRequest
        do {
            switch encoding {
            case .protobuf:
                request = try ProtoRequest(serializedBytes: body)
            case .json:
                var options = JSONDecodingOptions()
                options.ignoreUnknownFields = true
                request = try ProtoRequest(jsonUTF8Bytes: body, options: options)
            }
        } catch {
            throw malformed(error, encoding)
        }
        return convert(request, idsAsJSONHex: encoding == .json)
    }

    /// Converts a decoded request. With `idsAsJSONHex`, id fields hold what swift-protobuf's JSON decoder
    /// made of OTLP/JSON's hex strings (it reads them as base64, which hex always is); re-encoding as
    /// base64 gives the hex text back.
    static func convert(_ request: ProtoRequest, idsAsJSONHex: Bool) -> OTLPDecodedBatch {
        var converter = Converter(jsonHex: idsAsJSONHex)
        for resourceSpans in request.resourceSpans {
            let service = serviceName(resourceSpans.resource)
            for scopeSpans in resourceSpans.scopeSpans {
                for proto in scopeSpans.spans { converter.add(proto, service: service) }
            }
        }
        var batch = converter.take()
        batch.rejectionMessage = converter.rejectionMessage
        return batch
    }

    /// A resource's `service.name` (the last non-empty string one), "unknown" without one.
    static func serviceName(_ resource: Opentelemetry_Proto_Resource_V1_Resource) -> String {
        resource.attributes.last { $0.key == "service.name" }.flatMap { kv -> String? in
            if case .stringValue(let s)? = kv.value.value, !s.isEmpty { return s }
            return nil
        } ?? "unknown"
    }

    /// Converts spans one at a time, counting the ones refused and keeping the first reason; the spans
    /// converted so far can be taken in pieces.
    struct Converter {
        let jsonHex: Bool
        private(set) var spans: [Span] = []
        private(set) var rejected = 0
        private var firstReason = ""

        init(jsonHex: Bool) {
            self.jsonHex = jsonHex
        }

        mutating func add(_ proto: ProtoSpan, service: String) {
            do {
                spans.append(try span(proto, service: service, jsonHex: jsonHex))
            } catch let error as InvalidSpan {
                reject("span '\(proto.name.prefix(80))': \(error.reason)")
            } catch {
                reject("span '\(proto.name.prefix(80))': \(error)")
            }
        }

        private mutating func reject(_ why: String) {
            rejected += 1
            if firstReason.isEmpty { firstReason = why }
        }

        /// The spans converted since the last take (with the rejections so far).
        mutating func take() -> OTLPDecodedBatch {
            defer { spans = [] }
            return OTLPDecodedBatch(spans: spans, rejected: rejected, rejectionMessage: rejectionMessage)
        }

        /// The first reason, and how many more there were.
        var rejectionMessage: String {
            rejected > 1 ? firstReason + " (and \(rejected - 1) more)" : firstReason
        }
    }

    /// Decodes a binary request a span at a time (``OTLPSpanWalker``), handing the converted spans to
    /// `body` in pieces of at most `chunk` spans and (but for a single larger span) `chunkBytes` encoded
    /// bytes; returns the rejections of the whole request. The same spans, in the same order, with the
    /// same rejections as ``decodeRequest(_:encoding:)``; at most one decoded protobuf span and one piece
    /// of converted spans are alive at a time. A malformed body throws ``MalformedBody``, possibly after
    /// pieces were handed over: walk it with ``validateProtobuf(_:)`` first.
    static func decodeProtobuf(_ body: [UInt8], chunk: Int, chunkBytes: Int = .max,
                               _ piece: ([Span]) async throws -> Void) async throws -> (rejected: Int, message: String) {
        var walker = OTLPSpanWalker(body)
        var converter = Converter(jsonHex: false)
        var bytes = 0
        while true {
            let next: (span: ProtoSpan, service: String, bytes: Int)?
            do { next = try walker.next() } catch { throw malformed(error, .protobuf) }
            guard let (proto, service, size) = next else { break }
            converter.add(proto, service: service)
            bytes += size
            if converter.spans.count >= max(1, chunk) || (bytes >= chunkBytes && !converter.spans.isEmpty) {
                try await piece(converter.take().spans)
                bytes = 0
            }
        }
        let rest = converter.take()
        if !rest.spans.isEmpty { try await piece(rest.spans) }
        return (rest.rejected, rest.rejectionMessage)
    }

    /// The receiver's path for a binary body, synchronously, for fuzzing and tests: validates it, then
    /// decodes it in pieces of at most `chunk` spans; the pieces joined are what ``decodeRequest(_:encoding:)``
    /// gives (a fuzz target checks exactly that).
    public static func decodeProtobufInPieces(_ body: [UInt8], chunk: Int) throws -> (batch: OTLPDecodedBatch, pieces: Int) {
        _ = try validateProtobuf(body)
        var walker = OTLPSpanWalker(body)
        var converter = Converter(jsonHex: false)
        var spans: [Span] = []
        var pieces = 0
        do {
            while let (proto, service, _) = try walker.next() {
                converter.add(proto, service: service)
                if converter.spans.count >= max(1, chunk) {
                    spans += converter.take().spans
                    pieces += 1
                }
            }
        } catch {
            throw malformed(error, .protobuf)
        }
        let rest = converter.take()
        if !rest.spans.isEmpty { pieces += 1 }
        return (OTLPDecodedBatch(spans: spans + rest.spans, rejected: rest.rejected, rejectionMessage: rest.rejectionMessage), pieces)
    }

    /// Walks a binary request as ``decodeProtobuf(_:chunk:_:)`` does, keeping nothing: throws
    /// ``MalformedBody`` exactly where a whole decode would; returns how many spans it holds.
    static func validateProtobuf(_ body: [UInt8]) throws -> Int {
        var walker = OTLPSpanWalker(body)
        var count = 0
        do {
            while try walker.next() != nil { count += 1 }
        } catch {
            throw malformed(error, .protobuf)
        }
        return count
    }

    static func malformed(_ error: any Error, _ encoding: OTLPEncoding) -> MalformedBody {
        MalformedBody(description: "not a valid OTLP ExportTraceServiceRequest (\(encoding.contentType)): \(error)")
    }

    struct InvalidSpan: Error { var reason: String }

    /// Lowercase hex of an id of `length` bytes; nil for an empty id when `optional`.
    static func id(_ data: Data, length: Int, field: String, jsonHex: Bool, optional: Bool = false) throws -> String? {
        if data.isEmpty {
            if optional { return nil }
            throw InvalidSpan(reason: "\(field) is missing")
        }
        let hex: String
        if jsonHex {
            let text = data.base64EncodedString()
            guard text.utf8.allSatisfy({ $0 < 128 && isHexDigit($0) }) else {
                throw InvalidSpan(reason: "\(field) is not a hex string")
            }
            hex = text.lowercased()
        } else {
            hex = lowerHex(data)
        }
        guard hex.utf8.count == length * 2 else {
            throw InvalidSpan(reason: "\(field) must be \(length) bytes (\(length * 2) hex digits), got \(hex.utf8.count / 2)")
        }
        guard hex.utf8.contains(where: { $0 != UInt8(ascii: "0") }) else {
            throw InvalidSpan(reason: "\(field) is all zeroes")
        }
        return hex
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of bytes (String(format:) costs microseconds per byte on Linux).
    static func lowerHex(_ data: Data) -> String {
        String(unsafeUninitializedCapacity: data.count * 2) { buffer in
            var k = 0
            for byte in data {
                buffer[k] = hexDigits[Int(byte >> 4)]
                buffer[k + 1] = hexDigits[Int(byte & 0x0f)]
                k += 2
            }
            return k
        }
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
    }

    static func span(_ p: ProtoSpan, service: String, jsonHex: Bool) throws -> Span {
        guard let traceID = try id(p.traceID, length: 16, field: "trace_id", jsonHex: jsonHex),
              let spanID = try id(p.spanID, length: 8, field: "span_id", jsonHex: jsonHex) else {
            throw InvalidSpan(reason: "missing id")
        }
        let parent = try id(p.parentSpanID, length: 8, field: "parent_span_id", jsonHex: jsonHex, optional: true)
        let links: [SpanLink] = try p.links.map { link in
            guard let t = try id(link.traceID, length: 16, field: "link trace_id", jsonHex: jsonHex),
                  let s = try id(link.spanID, length: 8, field: "link span_id", jsonHex: jsonHex) else {
                throw InvalidSpan(reason: "link without ids")
            }
            return SpanLink(traceID: t, spanID: s, attributes: attributes(link.attributes))
        }
        let code: SpanStatus.Code
        switch p.status.code {
        case .ok: code = .ok
        case .error: code = .error
        default: code = .unset
        }
        return Span(traceID: traceID, spanID: spanID, parentSpanID: parent, service: service, name: p.name,
                    kind: SpanKind(rawValue: p.kind.rawValue) ?? .unspecified,
                    startUnixNano: p.startTimeUnixNano, endUnixNano: p.endTimeUnixNano,
                    status: SpanStatus(code: code, message: p.status.message),
                    attributes: attributes(p.attributes),
                    events: p.events.map { SpanEvent(timeUnixNano: $0.timeUnixNano, name: $0.name, attributes: attributes($0.attributes)) },
                    links: links)
    }

    static func attributes(_ list: [ProtoKeyValue], depth: Int = 0) -> [SpanAttribute] {
        list.map { SpanAttribute($0.key, value($0.value, depth: depth)) }
    }

    static func value(_ v: ProtoAnyValue, depth: Int) -> AttributeValue {
        switch v.value {
        case .stringValue(let s)?: return .string(s)
        case .boolValue(let b)?: return .bool(b)
        case .intValue(let i)?: return .int(i)
        case .doubleValue(let d)?: return .double(d)
        case .bytesValue(let d)?: return .bytes(Array(d))
        case .arrayValue(let a)?:
            guard depth < maxValueDepth else { return .string("[…]") }
            return .array(a.values.map { value($0, depth: depth + 1) })
        case .kvlistValue(let kv)?:
            guard depth < maxValueDepth else { return .string("{…}") }
            return .keyValues(attributes(kv.values, depth: depth + 1))
        case nil: return .string("")
        }
    }

    // MARK: - Span -> OTLP (the exporter)

    /// An ExportTraceServiceRequest holding `spans`, one ResourceSpans per service, serialized as protobuf.
    public static func encodeRequest(_ spans: [Span], scopeName: String = "evtop") throws -> [UInt8] {
        var request = ProtoRequest()
        var order: [String] = []
        var byService: [String: [ProtoSpan]] = [:]
        for span in spans {
            if byService[span.service] == nil { order.append(span.service) }
            byService[span.service, default: []].append(proto(span))
        }
        for service in order {
            var rs = Opentelemetry_Proto_Trace_V1_ResourceSpans()
            rs.resource.attributes = [keyValue(SpanAttribute("service.name", .string(service)))]
            var ss = Opentelemetry_Proto_Trace_V1_ScopeSpans()
            ss.scope.name = scopeName
            ss.spans = byService[service] ?? []
            rs.scopeSpans = [ss]
            request.resourceSpans.append(rs)
        }
        return try request.serializedBytes()
    }

    static func bytes(hex: String) -> Data {
        var data = Data(capacity: hex.utf8.count / 2)
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: continue
            }
            if let h = high { data.append(h << 4 | v); high = nil } else { high = v }
        }
        return data
    }

    static func proto(_ s: Span) -> ProtoSpan {
        var p = ProtoSpan()
        p.traceID = bytes(hex: s.traceID)
        p.spanID = bytes(hex: s.spanID)
        if let parent = s.parentSpanID { p.parentSpanID = bytes(hex: parent) }
        p.name = s.name
        p.kind = ProtoSpan.SpanKind(rawValue: s.kind.rawValue) ?? .unspecified
        p.startTimeUnixNano = s.startUnixNano
        p.endTimeUnixNano = s.endUnixNano
        p.attributes = s.attributes.map(keyValue)
        p.events = s.events.map { e in
            var pe = ProtoSpan.Event()
            pe.timeUnixNano = e.timeUnixNano
            pe.name = e.name
            pe.attributes = e.attributes.map(keyValue)
            return pe
        }
        p.links = s.links.map { l in
            var pl = ProtoSpan.Link()
            pl.traceID = bytes(hex: l.traceID)
            pl.spanID = bytes(hex: l.spanID)
            pl.attributes = l.attributes.map(keyValue)
            return pl
        }
        p.status.code = Opentelemetry_Proto_Trace_V1_Status.StatusCode(rawValue: s.status.code.rawValue) ?? .unset
        p.status.message = s.status.message
        return p
    }

    static func keyValue(_ a: SpanAttribute) -> ProtoKeyValue {
        var kv = ProtoKeyValue()
        kv.key = a.key
        kv.value = anyValue(a.value)
        return kv
    }

    static func anyValue(_ v: AttributeValue) -> ProtoAnyValue {
        var p = ProtoAnyValue()
        switch v {
        case .string(let s): p.stringValue = s
        case .bool(let b): p.boolValue = b
        case .int(let i): p.intValue = i
        case .double(let d): p.doubleValue = d
        case .bytes(let b): p.bytesValue = Data(b)
        case .array(let values):
            var a = Opentelemetry_Proto_Common_V1_ArrayValue()
            a.values = values.map(anyValue)
            p.arrayValue = a
        case .keyValues(let pairs):
            var kv = Opentelemetry_Proto_Common_V1_KeyValueList()
            kv.values = pairs.map(keyValue)
            p.kvlistValue = kv
        }
        return p
    }

    // MARK: - Responses

    /// An ExportTraceServiceResponse (with partial_success when spans were rejected) in `encoding`.
    static func response(rejected: Int, message: String, encoding: OTLPEncoding) -> [UInt8] {
        var response = ProtoResponse()
        if rejected > 0 {
            response.partialSuccess.rejectedSpans = Int64(rejected)
            response.partialSuccess.errorMessage = message
        }
        return serialize(response, encoding: encoding)
    }

    /// A google.rpc.Status body for an error response.
    static func status(code: Int32, message: String, encoding: OTLPEncoding) -> [UInt8] {
        var status = Google_Rpc_Status()
        status.code = code
        status.message = message
        return serialize(status, encoding: encoding)
    }

    static func serialize<M: SwiftProtobuf.Message>(_ message: M, encoding: OTLPEncoding) -> [UInt8] {
        switch encoding {
        case .protobuf: return (try? message.serializedBytes()) ?? []
        case .json: return (try? message.jsonUTF8Bytes()) ?? Array("{}".utf8)
        }
    }
}
