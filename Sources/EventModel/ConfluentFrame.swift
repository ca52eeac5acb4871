/// A value in the Confluent wire format, as Schema Registry serializers write it: a zero magic byte, a
/// 4-byte big-endian schema id, then the encoded payload (Avro, JSON Schema, or Protobuf after its
/// message indexes). Shown as the schema id and the payload after it, not as garbage; decoding it
/// with the registry's schema is left to a registry-aware reader.
public struct ConfluentFrame: Sendable, Hashable {
    /// The schema id the registry knows the writer's schema by.
    public var schemaID: UInt32
    /// The bytes after the five-byte frame.
    public var payload: ArraySlice<UInt8>

    /// The frame of `value`, or nil when it does not start with the magic byte and a schema id. A value
    /// that is text (JSON, or anything else starting with a printable byte) never does.
    public init?(_ value: [UInt8]) {
        guard value.count >= 5, value[0] == 0 else { return nil }
        schemaID = value[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        payload = value[5...]
    }
}
