import XCTest
import Foundation
@testable import EventModel

/// The one-pass JSON scanner against the former JSONSerialization path (CorrelationOracle): same texts for
/// every pointer, same extraction for every record, on generated valid, odd and broken documents.
final class CorrelationScannerTests: XCTestCase {
    /// Deterministic SplitMix64, so a failure reproduces.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A generated JSON value: strings and keys carry their text as written (escapes included) and as decoded.
    private indirect enum Node {
        case object([(raw: String, key: String, value: Node)])
        case array([Node])
        case string(raw: String)
        case number(String)
        case literal(String)
    }

    private struct Generator {
        var rng: SplitMix64

        mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
        mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < p }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

        static let keys = ["correlationId", "correlation_id", "payload", "type", "eventType", "orderId", "a", "b", "items",
                           "a/b", "m~n", "~1", "", " ", "0", "1", "é", "e\u{301}", "\u{212A}", "K", "日本", "\u{FEFF}type"]
        static let numbers = ["0", "-0", "1", "-1", "42", "1e5", "1E5", "1e+2", "1E-2", "1.50", "1.0", "-0.0", "0.1e1", "2.5",
                              "12345678901234567890", "-9223372036854775808", "9223372036854775807", "18446744073709551616",
                              "999999999999999", "-999999999999999", "1000000000000000", "999999999999999.5",
                              "123456789012345.99999999", "541508311857382.869352809265267557", "1e-400", "1e308", "1e309",
                              "-1e400", "0e999", "1e0000000000000000000001", "0.000000000000000000000000000000000000000000001e45",
                              "9007199254740993", "100000000000000.4", "1" + String(repeating: "0", count: 310),
                              "1." + String(repeating: "0", count: 40) + "1", "1e15", "9.99999999999999e14", "-1E15",
                              "3593931283861339929319039.3373826039388641983728643314833e-10", "-83681524634840708298E-5"]
        static let texts = ["ord-1", "OrderPlaced", "  padded  ", "", " ", "\u{A0}nbsp", "é", "e\u{301}", "😀", "日本語",
                            "\u{FEFF}bom", "\u{2028}", "\u{85}next", "x\u{7F}y", "tab\there", String(repeating: "long", count: 70)]

        /// A string's content as written: raw characters and escapes mixed.
        mutating func rawString() -> String {
            var s = ""
            for _ in 0..<int(0...6) {
                switch int(0...13) {
                case 0...4: s += pick(Self.texts)
                case 5: s += pick(["\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r"])
                case 6: s += String(format: "\\u%04X", int(0x20...0xD7FF))
                case 7: s += pick(["\\u00e9", "\\u0041", "\\u0000", "\\uFEFF", "\\u0020", "\\u2028", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\\uDBFF\\uDFFF"])
                case 8 where chance(0.1):  // invalid: the whole document fails
                    s += pick(["\\ud800", "\\udc00", "\\ud800\\u0041", "\\x", "\\u12", "\\uZZZZ", "\u{1}", "\\"])
                case 8: s += pick(["\\u00E9", "\\uD83D\\uDE00", "\\u005C", "\\u0022"])
                case 9: s += String(repeating: pick([" ", "x", "é"]), count: int(1...300))
                case 10: s += "\u{FEFF}"
                case 11: s += pick(["\\n\u{FEFF}x", "\u{FEFF}\u{FEFF}y", "\\u0065\u{301}"])
                default: s += pick(Self.keys)
                }
            }
            return s
        }

        /// A key as written and as decoded (its decoded text feeds the pointers).
        mutating func key() -> (raw: String, key: String) {
            let k = pick(Self.keys)
            if chance(0.15), let first = k.unicodeScalars.first, first.isASCII {
                // The same key with its first character escaped.
                return (String(format: "\\u%04x", first.value) + String(String.UnicodeScalarView(k.unicodeScalars.dropFirst())), k)
            }
            var raw = ""
            for c in k.unicodeScalars {
                switch c {
                case "\"": raw += "\\\""
                case "\\": raw += "\\\\"
                default: raw.unicodeScalars.append(c)
                }
            }
            return (raw, k)
        }

        mutating func number() -> String {
            if chance(0.6) { return pick(Self.numbers) }
            var t = chance(0.3) ? "-" : ""
            t += chance(0.2) ? "0" : String(int(1...9)) + String((0..<int(0...18)).map { _ in Character(String(int(0...9))) })
            if chance(0.4) { t += "." + String((0..<int(1...25)).map { _ in Character(String(int(0...9))) }) }
            if chance(0.3) { t += pick(["e", "E"]) + pick(["", "+", "-"]) + String(int(0...20)) }
            return t
        }

        mutating func node(depth: Int) -> Node {
            let containers = depth < 6
            switch int(0...(containers ? 9 : 5)) {
            case 0, 1: return .string(raw: rawString())
            case 2: return .string(raw: pick(Self.texts))
            case 3: return .number(number())
            case 4: return .literal(pick(["true", "false", "null"]))
            case 5: return .number(String(int(-1000...1_000_000)))
            case 6, 7, 8:
                return .object((0..<int(0...6)).map { _ in
                    let k = key()
                    return (k.raw, k.key, node(depth: depth + 1))
                })
            default: return .array((0..<int(0...5)).map { _ in node(depth: depth + 1) })
            }
        }

        mutating func space() -> String {
            chance(0.7) ? "" : String((0..<int(1...3)).map { _ in pick([" ", "\n", "\t", "\r"]) })
        }

        mutating func render(_ node: Node) -> String {
            switch node {
            case .string(let raw): return "\"" + raw + "\""
            case .number(let t): return t
            case .literal(let t): return t
            case .array(let items):
                var parts = items.map { space() + render($0) + space() }
                if !parts.isEmpty, chance(0.05) { parts.append(space()) }  // trailing comma
                return "[" + parts.joined(separator: ",") + space() + "]"
            case .object(let members):
                var parts = members.map { space() + "\"" + $0.raw + "\"" + space() + ":" + space() + render($0.value) + space() }
                if !parts.isEmpty, chance(0.05) { parts.append(space()) }
                return "{" + parts.joined(separator: ",") + space() + "}"
            }
        }

        /// Pointers into the document (often to values that exist), plus the defaults and odd ones.
        mutating func pointers(into root: Node) -> [String] {
            var out: [String] = []
            for _ in 0..<int(1...5) {
                var path = ""
                var node = root
                walk: while chance(0.85) {
                    switch node {
                    case .object(let members) where !members.isEmpty:
                        let m = pick(members)
                        path += "/" + m.key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                        node = m.value
                    case .array(let items) where !items.isEmpty:
                        let i = int(0...(items.count - 1))
                        path += "/" + (chance(0.1) ? pick(["0\(i)", "-\(i)", "+\(i)", "\(items.count)"]) : "\(i)")
                        node = items[i]
                    default:
                        break walk
                    }
                }
                if chance(0.1) { path += "/" + pick(["x", "0", "type", ""]) }
                out.append(path)
            }
            if chance(0.5) { out += CorrelationRules.defaultPointers + CorrelationRules.defaultEventTypePointers }
            if chance(0.1) { out.append(pick(["", "/", "/é", "/e\u{301}", "/K", "/~1", "/~0", "/a~1b", "/m~0n"])) }
            return out
        }

        /// Breaks or disguises a document: truncation, stray or non-UTF-8 bytes, garbage, deep nesting, UTF-16/32.
        mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var b = bytes
            switch int(0...11) {
            case 0 where !b.isEmpty: b = Array(b.prefix(int(0...(b.count - 1))))
            case 1 where !b.isEmpty: b.insert(pick([0xFF, 0xC3, 0x80, 0xED, 0x00, 0x22, 0x5C, 0x2C, 0x7D, 0x5D, 0x0C]), at: int(0...b.count))
            case 2 where !b.isEmpty: b[int(0...(b.count - 1))] = UInt8(truncatingIfNeeded: int(0...255))
            case 3: b += pick([Array("x".utf8), Array("}".utf8), Array(" \n\t".utf8), Array("{}".utf8), [0], [0x0C]])
            case 4: b = pick([[0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]) + b
            case 5 where b.count > 2:
                let at = int(1...(b.count - 1))
                b.insert(contentsOf: pick([[0xC3, 0x28], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xEF, 0xBB, 0xBF]]), at: at)
            case 6:
                let depth = pick([510, 511, 512, 513, 600])
                let open = chance(0.5) ? "[" : "{\"a\":"
                let close = open == "[" ? "]" : "}"
                b = Array((String(repeating: open, count: depth) + "\"deep\"" + String(repeating: close, count: depth)).utf8)
            case 7:
                // UTF-16LE of the document (Foundation detects it by the NUL second byte).
                let s = String(decoding: bytes, as: UTF8.self)
                b = s.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } + (chance(0.2) ? [0x20] : [])
            case 8:
                let s = String(decoding: bytes, as: UTF8.self)
                b = s.unicodeScalars.flatMap { v -> [UInt8] in
                    (0..<4).map { UInt8(truncatingIfNeeded: v.value >> (8 * UInt32($0))) }
                }
            case 9: b = Array(" \n".utf8) + b + Array("\r\n".utf8)
            default: break
            }
            return b
        }
    }

    private func record(_ value: [UInt8]?, headers: [RecordHeader] = []) -> Record {
        Record(topic: "t", partition: 0, offset: 0, timestampMillis: 0, key: nil, headers: headers, value: value)
    }

    /// Thousands of generated documents and pointer sets: the scanner's texts and `extract` equal the oracle's.
    func testScannerMatchesJSONSerializationOnGeneratedDocuments() throws {
        var gen = Generator(rng: SplitMix64(state: 0xC0_44E1_A7E5))
        var cases = 0, invalid = 0, resolved = 0
        var mismatches: [String] = []
        for n in 0..<8_000 {
            let root: Node = gen.chance(0.85) ? .object((0..<gen.int(0...7)).map { _ in
                let k = gen.key()
                return (k.raw, k.key, gen.node(depth: 1))
            }) : gen.node(depth: 0)
            var bytes = Array((gen.space() + gen.render(root) + gen.space()).utf8)
            if gen.chance(0.3) { bytes = gen.mutate(bytes) }
            let pointers = gen.pointers(into: root).compactMap(JSONPointer.init)

            // Scanner level: every pointer's text before `accept`.
            let expected = CorrelationOracle.texts(pointers, bytes)
            let actual = CorrelationRules.scanJSON(bytes, JSONScanner.plans(pointers))
            cases += 1
            if expected == nil { invalid += 1 }
            resolved += expected?.compactMap { $0 }.count ?? 0
            if actual != expected {
                mismatches.append("#\(n) texts: \(pointers.map(\.text)) in \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription) \(bytes.prefix(24)): scanner \(String(describing: actual)) oracle \(String(describing: expected))")
            }

            // The root object's keys, read in the same pass (what the insights sampler records as a shape).
            if bytes.first(where: { !JSONScanner.isWhitespace($0) }) == UInt8(ascii: "{") {
                // The oracle's reading (valid UTF-8 first, as for the pointers), which the sampler now shares.
                let oracleKeys = (CorrelationOracle.parseJSON(bytes) as? [String: Any])?.keys.sorted()
                let scanned = JSONScanner.resolveWithKeys(JSONScanner.Plan(Array(pointers.prefix(64))), in: bytes)
                cases += 1
                if (scanned?.keys ?? nil) != oracleKeys {
                    mismatches.append("#\(n) keys in \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription): scanner \(String(describing: scanned?.keys)) oracle \(String(describing: oracleKeys))")
                }
            }

            // Record level: configured rules, headers sometimes in front.
            let rules = try CorrelationRules.configured(headers: gen.chance(0.5) ? nil : ["h"], pointers: pointers.map(\.text))
            var headers: [RecordHeader] = []
            if gen.chance(0.2) { headers.append(RecordHeader("correlation-id", gen.pick(["hdr", " ", ""]))) }
            if gen.chance(0.1) { headers.append(RecordHeader(name: "type", value: [0xFF])) }
            let r = record(bytes, headers: headers)
            let want = CorrelationOracle.extract(rules, r)
            let got = rules.extract(r)
            cases += 1
            if got != want {
                mismatches.append("#\(n) extract: \(pointers.map(\.text)) in \(String(decoding: bytes.prefix(300), as: UTF8.self).debugDescription): scanner \(got) oracle \(want)")
            }
        }
        print("CorrelationScannerTests: \(cases) differential cases (\(invalid) documents the oracle rejects, \(resolved) pointer texts resolved), \(mismatches.count) mismatches")
        for m in mismatches.prefix(15) { print(m) }
        XCTAssertEqual(mismatches.count, 0)
        // The generator must exercise both sides, or the comparison proves little.
        XCTAssertGreaterThan(invalid, 1_000)
        XCTAssertGreaterThan(resolved, 3_000)
    }

    /// Numbers in every form, alone and nested: the text Foundation's NSNumber yields, or nil.
    func testNumbersMatchFoundation() throws {
        var gen = Generator(rng: SplitMix64(state: 0x4E_4B3E))
        var mismatches: [String] = []
        var cases = 0
        let pointer = try XCTUnwrap(JSONPointer("/n"))
        for k in 0..<4_000 {
            let t = k < Generator.numbers.count ? Generator.numbers[k] : gen.number()
            let bytes = Array("{\"n\":\(t)}".utf8)
            let expected = CorrelationOracle.texts([pointer], bytes)
            let actual = JSONScanner.resolve([pointer], in: bytes)
            cases += 1
            if actual != expected { mismatches.append("\(t): scanner \(String(describing: actual)) oracle \(String(describing: expected))") }
        }
        print("CorrelationScannerTests: \(cases) number cases, \(mismatches.count) mismatches")
        for m in mismatches.prefix(15) { print(m) }
        XCTAssertEqual(mismatches.count, 0)
    }

    private func texts(_ json: String, _ pointers: String...) -> [String?]? {
        JSONScanner.resolve(pointers.compactMap(JSONPointer.init), in: Array(json.utf8))
    }

    private func assertSameAsOracle(_ bytes: [UInt8], _ pointers: [String], file: StaticString = #filePath, line: UInt = #line) {
        let ps = pointers.compactMap(JSONPointer.init)
        XCTAssertEqual(CorrelationRules.scanJSON(bytes, JSONScanner.plans(ps)), CorrelationOracle.texts(ps, bytes), file: file, line: line)
    }

    func testDuplicateKeysKeepTheLastOccurrence() {
        XCTAssertEqual(texts(#"{"a":"1","a":"2"}"#, "/a"), ["2"])
        // The later "a" replaces the whole earlier object: /a/b no longer exists.
        XCTAssertEqual(texts(#"{"a":{"b":"1"},"a":{"c":"2"}}"#, "/a/b", "/a/c"), [nil, "2"])
        XCTAssertEqual(texts(#"{"a":"x","\u0061":"y"}"#, "/a"), ["y"])
        XCTAssertEqual(texts(#"{"a":"x","a":null}"#, "/a"), [nil])
        assertSameAsOracle(Array(#"{"a":{"b":"1"},"a":{"c":"2"}}"#.utf8), ["/a/b", "/a/c"])
    }

    func testKeysCompareAsSwiftStrings() {
        // NFC and NFD spellings are one dictionary key, and a pointer in either spelling finds it.
        XCTAssertEqual(texts("{\"e\u{301}\":\"x\"}", "/\u{e9}"), ["x"])
        XCTAssertEqual(texts("{\"\u{e9}\":\"x\",\"e\u{301}\":\"y\"}", "/\u{e9}"), ["y"])
        // KELVIN SIGN is canonically K.
        XCTAssertEqual(texts("{\"K\":\"k\"}", "/\u{212A}"), ["k"])
        // A raw byte-order mark at the start of a key is dropped by Foundation.
        XCTAssertEqual(texts("{\"\u{FEFF}type\":\"t\"}", "/type"), ["t"])
        assertSameAsOracle(Array("{\"\u{FEFF}type\":\"\u{FEFF}t\\n\u{FEFF}u\"}".utf8), ["/type"])
    }

    func testPointerEscapesAndArrayIndices() {
        XCTAssertEqual(texts(#"{"a/b":{"m~n":["x","y"]}}"#, "/a~1b/m~0n/1", "/a~1b/m~0n/01", "/a~1b/m~0n/-1", "/a~1b/m~0n/2"),
                       ["y", nil, nil, nil])
        XCTAssertEqual(texts(#"[{"0":"obj"},["arr"]]"#, "/0/0", "/1/0", "/"), [
            "obj", "arr", nil])
        XCTAssertEqual(texts(#"{"":"empty"}"#, "/", ""), ["empty", nil])
    }

    func testStringsDecodeEscapesAndSurrogates() {
        XCTAssertEqual(texts(#"{"a":"\u00e9\ud83d\ude00\n\/\"\\"}"#, "/a"), ["é😀\n/\"\\"])
        XCTAssertNil(texts(#"{"a":"\ud800"}"#, "/a"))  // a lone surrogate makes the document invalid
        XCTAssertNil(texts(#"{"a":"\udc00x"}"#, "/a"))
        XCTAssertNil(texts("{\"a\":\"\u{1}\"}", "/a"))  // raw control character
        XCTAssertEqual(texts(#"{"a":"\u0000"}"#, "/a"), ["\u{0}"])
    }

    func testNumbersAsTheOracleReadsThem() {
        XCTAssertEqual(texts(#"{"a":1,"b":-0,"c":1e5,"d":1.50,"e":12345678901234567890,"f":true,"g":null,"h":1.0,"i":999999999999999}"#,
                             "/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h", "/i"),
                       ["1", "0", "100000", nil, nil, nil, nil, "1", "999999999999999"])
        XCTAssertNil(texts(#"{"a":1e400}"#, "/a"))  // not representable: Foundation rejects the document
        XCTAssertNil(texts(#"{"a":"x","b":01}"#, "/a"))
    }

    func testFoundationGrammarAndLimits() {
        XCTAssertEqual(texts(#"{"a":"x",}"#, "/a"), ["x"])  // trailing comma accepted
        XCTAssertEqual(texts(#"[ "x" , ]"#, "/0"), ["x"])
        XCTAssertNil(texts(#"{"a":"x"}x"#, "/a"))  // trailing garbage
        XCTAssertNil(texts(#"{"a":"x"}}"#, "/a"))
        XCTAssertNil(texts("{\"a\":\"x\"}\u{0C}", "/a"))  // form feed is not JSON whitespace
        XCTAssertNil(texts(#"{"a":"x",,}"#, "/a"))
        XCTAssertNil(texts(#"{,}"#, "/a"))
        XCTAssertNil(texts(#"{"a":"x""#, "/a"))  // truncated
        let ok = String(repeating: "[", count: 512) + "\"d\"" + String(repeating: "]", count: 512)
        let deep = String(repeating: "[", count: 513) + "\"d\"" + String(repeating: "]", count: 513)
        XCTAssertEqual(texts(ok, "/0"), [nil])
        XCTAssertNil(texts(deep, "/0"))
        assertSameAsOracle(Array(ok.utf8), ["/0"])
        assertSameAsOracle(Array(deep.utf8), ["/0"])
    }

    func testUTF16AndUTF32LittleEndianValuesAreReadLikeFoundation() {
        let json = #"{"correlationId":"ord-16"}"#
        let utf16 = json.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let utf32 = json.unicodeScalars.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.value >> (8 * UInt32($0))) } }
        XCTAssertEqual(JSONScanner.resolve([JSONPointer("/correlationId")!], in: utf16), ["ord-16"])
        assertSameAsOracle(utf16, ["/correlationId"])
        assertSameAsOracle(utf32, ["/correlationId"])
        assertSameAsOracle(utf16 + [0x20], ["/correlationId"])
        assertSameAsOracle(Array(utf16.dropLast()), ["/correlationId"])
    }

    func testNonUTF8AndHugeValuesResolveNothingWithoutCrashing() {
        XCTAssertNil(JSONScanner.resolve([JSONPointer("/a")!], in: Array(#"{"a":"x"#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)))
        XCTAssertNil(JSONScanner.resolve([JSONPointer("/a")!], in: Array(#"{"a":"x"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)))
        // 10 MB: past maxJSONBytes the rules do not read it; the scanner itself copes without recursion.
        let nesting = [UInt8](repeating: UInt8(ascii: "["), count: 10 * 1024 * 1024)
        XCTAssertNil(CorrelationRules.default.correlationID(of: record(nesting)))
        XCTAssertNil(JSONScanner.resolve([JSONPointer("/0")!], in: nesting))
        var big = Array(#"{"pad":""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 10 * 1024 * 1024) + Array(#"","correlationId":"ord-big"}"#.utf8)
        XCTAssertEqual(JSONScanner.resolve([JSONPointer("/correlationId")!], in: big), ["ord-big"])
        XCTAssertNil(CorrelationRules.default.correlationID(of: record(big)))
        big.removeLast()
        XCTAssertNil(JSONScanner.resolve([JSONPointer("/correlationId")!], in: big))
    }

    func testMoreThanSixtyFourPointers() {
        let pointers = (0..<70).map { "/k\($0)" }.compactMap(JSONPointer.init)
        let json = "{" + (0..<70).map { "\"k\($0)\":\"v\($0)\"" }.joined(separator: ",") + "}"
        XCTAssertEqual(JSONScanner.resolve(pointers, in: Array(json.utf8)), (0..<70).map { "v\($0)" })
    }
}
