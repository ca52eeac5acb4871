@testable import App
import FuzzSupport

/// The config loader on any UTF-8 text (`config.yaml`): a config or a `ConfigError`, never a crash;
/// then the context lookup the commands do, and the correlation rules a context configures.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let text = fuzzText(data, size) else { return 0 }
    do {
        let config = try ConfigParser.parse(text, file: "config.yaml")
        for name in [nil] + config.contexts.map(\.name) {
            _ = try? config.context(named: name)
        }
    } catch {
        _ = String(describing: error)  // the message the operator sees
    }
    return 0
}

runFuzzer(fuzzConfig)
