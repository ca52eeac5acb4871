import FuzzSupport
import OTLPReceiver

/// The receiver's decoder for `application/x-protobuf` bodies (after gzip): any bytes either decode
/// to a batch or throw `MalformedBody` (a 400), never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLPProtobuf(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = try? OTLPConversion.decodeRequest(fuzzBytes(data, size), encoding: .protobuf)
    return 0
}


runFuzzer(fuzzOTLPProtobuf)
