import EventModel
import FuzzSupport

/// The dead-letter header parser on any headers (see `FuzzRecordInput` for the input form): it is
/// documented as total, so every input yields a letter.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDeadLetter(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let input = FuzzRecordInput(UnsafeRawBufferPointer(start: data, count: size))
    _ = DeadLetterParser.hasDeadLetterHeaders(input.record)
    _ = DeadLetterParser.parse(input.record)
    return 0
}

runFuzzer(fuzzDeadLetter)
