import FuzzSupport
import OTLPReceiver

/// The receiver's decoders for `application/x-protobuf` bodies (after gzip): any bytes either decode
/// to a batch or throw `MalformedBody` (a 400), never crash; and the span-at-a-time walk the receiver
/// uses gives exactly what the whole decode gives (a difference traps, so the fuzzer reports it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOTLPProtobuf(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let body = fuzzBytes(data, size)
    let whole = try? OTLPConversion.decodeRequest(body, encoding: .protobuf)
    let walked = try? OTLPConversion.decodeProtobufInPieces(body, chunk: 3).batch
    if whole != walked { fatalError("the walk and the whole decode disagree") }
    return 0
}


runFuzzer(fuzzOTLPProtobuf)
