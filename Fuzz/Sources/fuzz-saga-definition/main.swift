@testable import App
import FuzzSupport

/// The saga definition loader on any UTF-8 text (a `sagas:` file named by a context): definitions or
/// a `ConfigError`, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSagaDefinition(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let text = fuzzText(data, size) else { return 0 }
    do {
        _ = try SagaDefinitionLoader.parse(text, file: "sagas.yaml")
    } catch {
        _ = String(describing: error)  // the message the operator sees
    }
    return 0
}

runFuzzer(fuzzSagaDefinition)
