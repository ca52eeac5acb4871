import FuzzSupport
import OTLPReceiver

/// The receiver's decoder for `application/json` bodies (OTLP/JSON, hex ids): any bytes either
/// decode to a batch or throw `MalformedBody` (a 400), never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLPJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    _ = try? OTLPConversion.decodeRequest(fuzzBytes(data, size), encoding: .json)
    return 0
}

runFuzzer(fuzzOTLPJSON)
