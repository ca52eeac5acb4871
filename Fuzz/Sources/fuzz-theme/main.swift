import FuzzSupport
import TerminalUI

/// The theme loader on any UTF-8 text (a user's theme file): a theme or a `ThemeError`, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTheme(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let text = fuzzText(data, size) else { return 0 }
    do {
        _ = try ThemeLoader.parse(yaml: text, name: "fuzz")
    } catch {
        _ = String(describing: error)  // the message the operator sees
    }
    return 0
}

runFuzzer(fuzzTheme)
