import CFuzzerDriver
import EventModel
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Fuzzer bytes read as a Kafka record, in a text form that seed files can be written in by hand:
///
///     name: value          one header per line (the value runs to the end of the line)
///     name: hex:0000002a   a header whose value is the hex bytes (binary numbers, bytes with a newline)
///     #directive: text     a line for the target itself (e.g. `#pointers:` for the correlation target)
///                          an empty line ends the headers
///     {"payload": ...}     everything after it is the record's value (none when there is no empty line)
///
/// Any bytes decode to some record (a line without `:` is a header with an empty value), so the
/// fuzzer's mutations never stop at the reader.
public struct FuzzRecordInput {
    /// The record built from the input.
    public var record: Record
    /// `#name: value` lines, in order (name without the `#`).
    public var directives: [(name: String, value: String)]

    /// Reads `bytes` as described above.
    public init(_ bytes: UnsafeRawBufferPointer) {
        var headers: [RecordHeader] = []
        var directives: [(String, String)] = []
        var value: [UInt8]?
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count && bytes[end] != 0x0A { end += 1 }
            if end == start {
                // The empty line: the rest is the value.
                value = Array(bytes[(start + 1 < count ? start + 1 : count)..<count])
                break
            }
            let line = Array(bytes[start..<end])
            start = end + 1
            let colon = line.firstIndex(of: UInt8(ascii: ":")) ?? line.count
            let name = String(decoding: line[..<colon], as: UTF8.self)
            var rest = Array(line[min(colon + 1, line.count)...])
            if rest.first == UInt8(ascii: " ") { rest.removeFirst() }
            if name.hasPrefix("#") {
                directives.append((String(name.dropFirst()), String(decoding: rest, as: UTF8.self)))
                continue
            }
            headers.append(RecordHeader(name: name, value: Self.hexValue(rest) ?? rest))
        }
        record = Record(topic: "orders.DLT", partition: 0, offset: 0, timestampMillis: 0,
                        key: nil, headers: headers, value: value)
        self.directives = directives
    }

    /// The bytes of `hex:…` text, or nil when the value is not that.
    static func hexValue(_ text: [UInt8]) -> [UInt8]? {
        let prefix = Array("hex:".utf8)
        guard text.count >= prefix.count, Array(text[..<prefix.count]) == prefix else { return nil }
        let digits = text[prefix.count...]
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var high: UInt8?
        for c in digits {
            guard let v = nibble(c) else { return nil }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// The input as a byte array (libFuzzer hands a pointer that may be null when the size is 0).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// The input as text, the way a file read with `String(contentsOfFile:encoding: .utf8)` would give it;
/// nil for bytes that are not UTF-8 (the loaders refuse those before parsing).
public func fuzzText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String? {
    String(validating: fuzzBytes(data, size), as: UTF8.self)
}

/// Hands the process to libFuzzer with `testOneInput` as the target, and exits with its status.
///
/// An executable target's entry point is its own top-level code (SwiftPM points `main` at it), so
/// libFuzzer's `main` never runs; its driver is started from here instead.
public func runFuzzer(_ testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Never {
    exit(evtop_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv, testOneInput))
}
