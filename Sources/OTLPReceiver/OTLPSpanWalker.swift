import EventModel
import Foundation
import SwiftProtobuf

typealias ProtoResourceSpans = Opentelemetry_Proto_Trace_V1_ResourceSpans
typealias ProtoScopeSpans = Opentelemetry_Proto_Trace_V1_ScopeSpans

/// Walks a binary ExportTraceServiceRequest one span at a time, so that a request of many spans never
/// has more than one of them decoded (issue 16: a 60,000-span request decoded whole took ~97 MB).
///
/// The request's own fields are read by hand with protobuf's wire format: `resource_spans` (field 1),
/// each one's `scope_spans` (field 2), each one's `spans` (field 2). Everything else at those three
/// levels (the resource, the scope, schema URLs, unknown fields, a listed field sent with another wire
/// type) is copied into a small "skeleton" of its message and decoded by swift-protobuf itself, so it
/// is merged and validated exactly as a whole decode would (a resource sent in pieces merges; a bad
/// UTF-8 schema URL is refused). Each span is decoded alone with the depth limit it would have had
/// inside the request. A body that the whole decode refuses, the walk refuses too (it may have returned
/// spans before; the receiver walks the body once to validate it before it stores anything).
struct OTLPSpanWalker {
    /// The decoding depth swift-protobuf allows by default, counted from the request.
    static let depthLimit = BinaryDecodingOptions().messageDepthLimit

    /// What the walk found wrong.
    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    private let body: [UInt8]
    private var position = 0
    private var requestSkeleton: [UInt8] = []
    private var scopes: (position: Int, end: Int, service: String)?
    private var spans: (position: Int, end: Int)?
    private var finished = false

    /// A walk over `body` (already inflated).
    init(_ body: [UInt8]) {
        self.body = body
    }

    /// The next span with its resource's `service.name` ("unknown" when it has none) and its encoded size,
    /// or nil at the end.
    mutating func next() throws -> (span: ProtoSpan, service: String, bytes: Int)? {
        while true {
            if var list = spans, let service = scopes?.service {
                while list.position < list.end {
                    let field = try Self.field(body, at: list.position, end: list.end)
                    list.position = field.next
                    if field.number == 2, let value = field.value {
                        spans = list
                        let span = try ProtoSpan(serializedBytes: Array(body[value]), options: Self.options(depth: 3))
                        return (span, service, value.count)
                    }
                }
                spans = nil
            }
            if var list = scopes {
                var entered = false
                while list.position < list.end {
                    let field = try Self.field(body, at: list.position, end: list.end)
                    list.position = field.next
                    if field.number == 2, let value = field.value {
                        // The scope and the schema URL, validated as the whole decode would.
                        _ = try ProtoScopeSpans(serializedBytes: try skeleton(of: value, without: 2), options: Self.options(depth: 2))
                        spans = (value.lowerBound, value.upperBound)
                        entered = true
                        break
                    }
                }
                scopes = entered ? list : nil
                if entered { continue }
            }
            guard position < body.count else {
                if !finished {
                    finished = true
                    _ = try ProtoRequest(serializedBytes: requestSkeleton, options: Self.options(depth: 0))
                }
                return nil
            }
            let field = try Self.field(body, at: position, end: body.count)
            if field.number == 1, let value = field.value {
                let resourceSpans = try ProtoResourceSpans(serializedBytes: try skeleton(of: value, without: 2), options: Self.options(depth: 1))
                scopes = (value.lowerBound, value.upperBound, OTLPConversion.serviceName(resourceSpans.resource))
            } else {
                requestSkeleton.append(contentsOf: body[position..<field.next])
            }
            position = field.next
        }
    }

    /// The fields of the message in `range` other than the length-delimited `field` ones, as they were.
    private func skeleton(of range: Range<Int>, without bulk: Int) throws -> [UInt8] {
        var out: [UInt8] = []
        var p = range.lowerBound
        while p < range.upperBound {
            let field = try Self.field(body, at: p, end: range.upperBound)
            if !(field.number == bulk && field.value != nil) { out.append(contentsOf: body[p..<field.next]) }
            p = field.next
        }
        return out
    }

    /// Decoding options for a message `depth` levels below the request.
    private static func options(depth: Int) -> BinaryDecodingOptions {
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = depthLimit - depth
        return options
    }

    // MARK: - Wire format

    /// One field: its number, where its bytes end, and for a length-delimited field its payload.
    struct Field {
        var number: UInt32
        var next: Int
        var value: Range<Int>?
    }

    /// The field at `start` (before `end`), as swift-protobuf's decoder delimits it: a tag of at most 32
    /// bits with a field number above 0, wire types 0, 1, 2, 3 (a group, skipped whole) and 5.
    static func field(_ b: [UInt8], at start: Int, end: Int) throws -> Field {
        var p = start
        let (number, wireType) = try tag(b, &p, end)
        var value: Range<Int>?
        switch wireType {
        case 3:
            // A group: nested fields up to the end-group tag of the same number.
            var open: [UInt32] = [number]
            while let current = open.last {
                let (n, w) = try tag(b, &p, end)
                if w == 4 {
                    guard n == current else { throw Malformed(description: "mismatched end of group \(n)") }
                    open.removeLast()
                } else if w == 3 {
                    open.append(n)
                } else {
                    _ = try skip(b, &p, end, wireType: w)
                }
            }
        default:
            value = try skip(b, &p, end, wireType: wireType)
        }
        return Field(number: number, next: p, value: value)
    }

    private static func tag(_ b: [UInt8], _ p: inout Int, _ end: Int) throws -> (UInt32, UInt8) {
        let raw = try varint(b, &p, end)
        guard raw <= UInt64(UInt32.max) else { throw Malformed(description: "a field tag above 32 bits") }
        let number = UInt32(raw >> 3), wireType = UInt8(raw & 7)
        guard number > 0 else { throw Malformed(description: "field number 0") }
        return (number, wireType)
    }

    /// Moves past a value of `wireType` (not a group); returns a length-delimited value's payload.
    private static func skip(_ b: [UInt8], _ p: inout Int, _ end: Int, wireType: UInt8) throws -> Range<Int>? {
        switch wireType {
        case 0:
            _ = try varint(b, &p, end)
            return nil
        case 1, 5:
            let size = wireType == 1 ? 8 : 4
            guard end - p >= size else { throw Malformed(description: "truncated fixed-size value") }
            p += size
            return nil
        case 2:
            let length = try varint(b, &p, end)
            guard length <= UInt64(end - p) else { throw Malformed(description: "a length past the end of its message") }
            let range = p..<(p + Int(length))
            p += Int(length)
            return range
        default:
            throw Malformed(description: "wire type \(wireType)")
        }
    }

    private static func varint(_ b: [UInt8], _ p: inout Int, _ end: Int) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard p < end else { throw Malformed(description: "truncated varint") }
            let byte = b[p]
            p += 1
            if shift < 64 { value |= UInt64(byte & 0x7f) << shift }
            if byte & 0x80 == 0 { return value }
            shift += 7
            guard shift < 70 else { throw Malformed(description: "a varint longer than 10 bytes") }
        }
    }
}
