import Foundation

/// Resolves a few JSON pointers in one pass over a JSON value's bytes, without building a document: what
/// `CorrelationRules.extract` needs per record, at Kafka consume speed.
///
/// It answers exactly what decoding with `JSONSerialization` (swift-corelibs-foundation) and walking the
/// result would answer, because the correlation index must not depend on which path read a record:
/// - the document is validated in full by Foundation's grammar (trailing commas allowed, nothing but
///   whitespace after the top value, at most 512 nested containers, strict `\u` surrogate pairs, numbers
///   Foundation can represent), and anything Foundation rejects resolves nothing;
/// - for a repeated key the last occurrence wins, and keys compare as Swift strings do (canonical
///   equivalence), as in the `[String: Any]` Foundation returns;
/// - strings keep Foundation's quirk of dropping a byte-order mark that starts an unescaped run;
/// - numbers become text only when Foundation's `NSNumber` for them is integral below 10^15;
/// - a value whose second byte is NUL is read as UTF-16LE or UTF-32LE, as Foundation's detection does.
/// No recursion: nesting is an explicit stack, bounded at 512 like Foundation's.
enum JSONScanner {
    /// Foundation's nesting limit (JSONParser: `depth < 512`).
    static let maxDepth = 512

    /// Pointers prepared for scanning: token bytes, array indices and per-depth masks.
    struct Plan: Sendable, Hashable {
        /// The pointers, in the order results are returned.
        let pointers: [JSONPointer]
        /// Per pointer, per token: the UTF-8 bytes.
        let tokenBytes: [[[UInt8]]]
        /// Per pointer, per token: true when ASCII (compared bytewise; others compare as Swift strings).
        let tokenASCII: [[Bool]]
        /// Per pointer, per token: the array index it names (RFC 6901 decimal, no leading zeros), or -1.
        let tokenIndex: [[Int]]
        /// Bit p set in `endsAt[d]` when pointer p has d tokens.
        let endsAt: [UInt64]

        /// Prepares at most 64 pointers (one bit each); `JSONScanner.resolve` splits longer lists.
        init(_ pointers: [JSONPointer]) {
            precondition(pointers.count <= 64, "a plan holds at most 64 pointers")
            self.pointers = pointers
            tokenBytes = pointers.map { $0.tokens.map { Array($0.utf8) } }
            tokenASCII = pointers.map { $0.tokens.map { $0.utf8.allSatisfy { $0 < 0x80 } } }
            tokenIndex = pointers.map { p in
                p.tokens.map { t in
                    // The oracle's rule: Int(token) that prints back as the token (so no sign, no leading zero).
                    guard let i = Int(t), i >= 0, String(i) == t else { return -1 }
                    return i
                }
            }
            let longest = pointers.map(\.tokens.count).max() ?? 0
            var ends = [UInt64](repeating: 0, count: longest + 1)
            for (p, pointer) in pointers.enumerated() { ends[pointer.tokens.count] |= 1 << UInt64(p) }
            endsAt = ends
        }
    }

    /// Plans for any number of pointers, 64 to a plan.
    static func plans(_ pointers: [JSONPointer]) -> [Plan] {
        stride(from: 0, to: pointers.count, by: 64).map { Plan(Array(pointers[$0..<min($0 + 64, pointers.count)])) }
    }

    /// For each pointer, the text `CorrelationRules` would take from the value it designates (a string as
    /// decoded; an integral number below 10^15 as its digits; anything else nil); nil when Foundation
    /// would not decode `bytes` as a JSON object or array.
    static func resolve(_ plans: [Plan], in bytes: [UInt8]) -> [String?]? {
        if plans.count == 1 { return resolve(plans[0], in: bytes) }
        var out: [String?] = []
        for plan in plans {
            guard let part = resolve(plan, in: bytes) else { return nil }
            out.append(contentsOf: part)
        }
        return out
    }

    /// `resolve` for a list of pointers.
    static func resolve(_ pointers: [JSONPointer], in bytes: [UInt8]) -> [String?]? {
        resolve(plans(pointers), in: bytes)
    }

    /// The texts for a prepared plan, or nil when Foundation would not decode `bytes` as an object or array.
    static func resolve(_ plan: Plan, in bytes: [UInt8]) -> [String?]? {
        scan(plan, bytes, keys: false)?.results
    }

    /// ``resolve(_:in:)-(Plan,_)`` and, in the same pass, the keys of the root object sorted, as
    /// `(JSONSerialization.jsonObject(with:) as? [String: Any])?.keys.sorted()` gives them (keys equal as
    /// Swift strings are one key; nil for a root array). Nil when Foundation would not decode `bytes`.
    static func resolveWithKeys(_ plan: Plan, in bytes: [UInt8]) -> (results: [String?], keys: [String]?)? {
        guard let scanned = scan(plan, bytes, keys: true) else { return nil }
        return (scanned.results, scanned.keys.map { $0.sorted() })
    }

    private static func scan(_ plan: Plan, _ bytes: [UInt8], keys: Bool) -> (results: [String?], keys: Set<String>?)? {
        guard let first = bytes.first(where: { !isWhitespace($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else {
            return nil
        }
        // Foundation's encoding detection: a NUL second byte means UTF-16LE, or UTF-32LE when the third and
        // fourth are NUL too (the first byte is never NUL here). With a non-NUL fourth byte it stays UTF-8,
        // where a NUL outside a string fails the scan anyway.
        if bytes.count >= 2, bytes[1] == 0 {
            guard String(validating: bytes, as: UTF8.self) != nil else { return nil }  // parseJSON's own check
            if bytes.count >= 4, bytes[2] == 0, bytes[3] == 0 {
                guard let utf8 = transcodeUTF32LE(bytes) else { return nil }
                return scanUTF8(plan, utf8, keys: keys)
            }
            if bytes.count < 4 || bytes[3] == 0 {
                guard let utf8 = transcodeUTF16LE(bytes) else { return nil }
                return scanUTF8(plan, utf8, keys: keys)
            }
        }
        return scanUTF8(plan, bytes, keys: keys)
    }

    private static func scanUTF8(_ plan: Plan, _ bytes: [UInt8], keys: Bool) -> (results: [String?], keys: Set<String>?)? {
        bytes.withUnsafeBufferPointer { buffer in
            var scanner = Scanner(buffer: buffer, plan: plan)
            if keys, buffer.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{") { scanner.rootKeys = [] }
            return scanner.run() ? (scanner.results, scanner.rootKeys) : nil
        }
    }

    @inline(__always) static func isWhitespace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09
    }

    // MARK: - Scanner

    /// One container on the path from the root to the current value.
    private struct Frame {
        var isObject: Bool
        /// Pointers whose tokens matched the path to this container and continue into it.
        var mask: UInt64
        /// Index of the current element (arrays).
        var index: Int = 0
        /// The current key (objects): where it lies, and whether its bytes are its text.
        var keyStart = 0
        var keyEnd = 0
        var keyPlain = true
        /// Index in `Scanner.poisonedKeys` of this object's keys whose value, as it stands, holds a number
        /// Foundation cannot represent (-1: none yet); kept outside so that a frame stays plain data.
        var poisonSet: Int32 = -1
        /// An element (arrays) holds such a number; elements are never replaced.
        var poisonedElement = false
    }

    private struct Scanner {
        let b: UnsafeBufferPointer<UInt8>
        let n: Int
        let plan: Plan
        var i = 0
        var results: [String?]
        var frames: ContiguousArray<Frame> = []
        /// Per poisoned object (see `Frame.poisonSet`): keys whose value fails the document unless a later
        /// duplicate of the key replaces it.
        var poisonedKeys: [[String]] = []
        /// The root object's keys, when asked for (nil: not collected).
        var rootKeys: Set<String>?

        init(buffer: UnsafeBufferPointer<UInt8>, plan: Plan) {
            b = buffer
            n = buffer.count
            self.plan = plan
            results = [String?](repeating: nil, count: plan.pointers.count)
        }

        @inline(__always) mutating func skipWhitespace() {
            while i < n, JSONScanner.isWhitespace(b[i]) { i += 1 }
        }

        /// The current value holds a number Foundation cannot represent. Foundation parses the whole
        /// document first and converts numbers afterwards, in the dictionaries as they ended up, so such a
        /// number fails the document only if no later duplicate key replaced it: remember it on the current
        /// key, and let the enclosing containers pass it up when they close. False when it reaches the top.
        mutating func poisonCurrentValue() -> Bool {
            guard let d = frames.indices.last else { return false }
            if frames[d].isObject {
                let key = decodeString(ScannedString(start: frames[d].keyStart, end: frames[d].keyEnd, plain: frames[d].keyPlain))
                if frames[d].poisonSet < 0 {
                    frames[d].poisonSet = Int32(poisonedKeys.count)
                    poisonedKeys.append([])
                }
                let set = Int(frames[d].poisonSet)
                if !poisonedKeys[set].contains(key) { poisonedKeys[set].append(key) }
            } else {
                frames[d].poisonedElement = true
            }
            return true
        }

        /// Closes the innermost container; false when an unreplaced unrepresentable number fails the document.
        mutating func closeContainer() -> Bool {
            i += 1
            let closed = frames.removeLast()
            let poisoned = closed.poisonedElement || (closed.poisonSet >= 0 && !poisonedKeys[Int(closed.poisonSet)].isEmpty)
            return !poisoned || poisonCurrentValue()
        }

        /// Pointers in `mask` with exactly `depth` tokens.
        @inline(__always) func ending(_ mask: UInt64, at depth: Int) -> UInt64 {
            depth < plan.endsAt.count ? mask & plan.endsAt[depth] : 0
        }

        /// Validates the whole document; fills `results` on the way. False when Foundation would reject it.
        mutating func run() -> Bool {
            var allPointers: UInt64 = 0
            for p in 0..<plan.pointers.count where !plan.pointers[p].tokens.isEmpty { allPointers |= 1 << UInt64(p) }
            // The empty pointer designates the root, an object or array: never a scalar, so left out.
            var mask = allPointers
            frames.reserveCapacity(8)

            // States of an explicit-stack parser: `value` starts a value whose path matched `mask`;
            // `afterValue` looks for `,` or the close of the enclosing container; `key` reads an object key.
            enum State { case value, afterValue, key }
            var state = State.value

            while true {
                switch state {
                case .value:
                    skipWhitespace()
                    guard i < n else { return false }
                    let depth = frames.count
                    let terminal = ending(mask, at: depth)
                    let deeper = mask & ~terminal
                    switch b[i] {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        guard depth < JSONScanner.maxDepth else { return false }
                        let isObject = b[i] == UInt8(ascii: "{")
                        i += 1
                        frames.append(Frame(isObject: isObject, mask: deeper))
                        skipWhitespace()
                        guard i < n else { return false }
                        if b[i] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                            i += 1
                            frames.removeLast()  // empty: nothing to pass up
                            state = .afterValue
                        } else if isObject {
                            state = .key
                        } else {
                            mask = childMask(deeper, index: 0, depth: depth)
                            state = .value
                        }
                    case UInt8(ascii: "\""):
                        guard let s = scanString() else { return false }
                        if terminal != 0 {
                            let text = decodeString(s)
                            Self.forEachBit(terminal) { results[$0] = text }
                        }
                        state = .afterValue
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        let start = i
                        guard let representable = scanNumber() else { return false }
                        if !representable { guard poisonCurrentValue() else { return false } }
                        if terminal != 0 {
                            let text = JSONScanner.integerText(UnsafeBufferPointer(rebasing: b[start..<i]))
                            Self.forEachBit(terminal) { results[$0] = text }
                        }
                        state = .afterValue
                    case UInt8(ascii: "t"):
                        guard literal("true") else { return false }
                        state = .afterValue
                    case UInt8(ascii: "f"):
                        guard literal("false") else { return false }
                        state = .afterValue
                    case UInt8(ascii: "n"):
                        guard literal("null") else { return false }
                        state = .afterValue
                    default:
                        return false
                    }
                    // Containers, literals and null resolve to nil: the key that led here reset them already.

                case .afterValue:
                    guard !frames.isEmpty else {
                        skipWhitespace()
                        return i == n
                    }
                    let top = frames[frames.count - 1]
                    skipWhitespace()
                    guard i < n else { return false }
                    let close = top.isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if b[i] == close {
                        guard closeContainer() else { return false }
                        state = .afterValue
                    } else if b[i] == UInt8(ascii: ",") {
                        i += 1
                        skipWhitespace()
                        guard i < n else { return false }
                        if b[i] == close {  // Foundation accepts one trailing comma
                            guard closeContainer() else { return false }
                            state = .afterValue
                        } else if top.isObject {
                            state = .key
                        } else {
                            let depth = frames.count - 1
                            frames[depth].index += 1
                            mask = childMask(top.mask, index: frames[depth].index, depth: depth)
                            state = .value
                        }
                    } else {
                        return false
                    }

                case .key:
                    // Whitespace is skipped; the key must start here.
                    guard i < n, b[i] == UInt8(ascii: "\"") else { return false }
                    let depth = frames.count - 1
                    let parent = frames[depth].mask
                    guard let s = scanString() else { return false }
                    let matched = parent == 0 ? 0 : matchKey(s, among: parent, depth: depth)
                    if depth == 0, rootKeys != nil {
                        let key = decodeString(s)
                        rootKeys?.insert(key)
                    }
                    frames[depth].keyStart = s.start
                    frames[depth].keyEnd = s.end
                    frames[depth].keyPlain = s.plain
                    if frames[depth].poisonSet >= 0 {
                        // This key's new value replaces a poisoned one.
                        let key = decodeString(s)
                        poisonedKeys[Int(frames[depth].poisonSet)].removeAll { $0 == key }
                    }
                    // A later occurrence of a key replaces the earlier value (the dictionary keeps the last).
                    Self.forEachBit(matched) { results[$0] = nil }
                    skipWhitespace()
                    guard i < n, b[i] == UInt8(ascii: ":") else { return false }
                    i += 1
                    mask = matched
                    state = .value
                }
            }
        }

        @inline(__always) static func forEachBit(_ mask: UInt64, _ body: (Int) -> Void) {
            var m = mask
            while m != 0 {
                body(m.trailingZeroBitCount)
                m &= m - 1
            }
        }

        /// Pointers of `mask` whose token at `depth` names array element `index`.
        func childMask(_ mask: UInt64, index: Int, depth: Int) -> UInt64 {
            var out: UInt64 = 0
            Self.forEachBit(mask) { p in if plan.tokenIndex[p][depth] == index { out |= 1 << UInt64(p) } }
            return out
        }

        /// Pointers of `mask` whose token at `depth` equals the key (as Swift strings compare).
        func matchKey(_ s: ScannedString, among mask: UInt64, depth: Int) -> UInt64 {
            var out: UInt64 = 0
            var decoded: String?
            Self.forEachBit(mask) { p in
                let token = plan.tokenBytes[p][depth]
                if s.plain, plan.tokenASCII[p][depth] {
                    // Both ASCII: equal exactly when the bytes are.
                    guard token.count == s.end - s.start else { return }
                    var k = 0
                    while k < token.count, token[k] == b[s.start + k] { k += 1 }
                    if k == token.count { out |= 1 << UInt64(p) }
                } else {
                    // Escapes, non-ASCII or a byte-order mark: compare decoded strings, canonical equivalence included.
                    if decoded == nil { decoded = decodeString(s) }
                    if decoded == plan.pointers[p].tokens[depth] { out |= 1 << UInt64(p) }
                }
            }
            return out
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard n - i >= count else { return false }
            let w = word.utf8Start
            for k in 0..<count where b[i + k] != w[k] { return false }
            i += count
            return true
        }

        /// Where a string's content lies: `start..<end`, between the quotes.
        struct ScannedString {
            var start: Int
            var end: Int
            /// No escapes and ASCII only: the bytes are the string.
            var plain: Bool
        }

        /// Validates a string at `i` (on its opening quote) the way Foundation does: no raw control
        /// characters, known escapes, `\u` with four hex digits and surrogates only in high-low pairs,
        /// valid UTF-8. Moves past the closing quote.
        mutating func scanString() -> ScannedString? {
            i += 1
            let start = i
            var plain = true
            while i < n {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return ScannedString(start: start, end: i - 1, plain: plain)
                } else if c == UInt8(ascii: "\\") {
                    plain = false
                    guard i + 1 < n else { return nil }
                    switch b[i + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                         UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 2
                    case UInt8(ascii: "u"):
                        guard let unit = hex4(at: i + 2) else { return nil }
                        i += 6
                        if unit & 0xFC00 == 0xD800 {
                            guard i + 1 < n, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u"),
                                  let low = hex4(at: i + 2), low & 0xFC00 == 0xDC00 else { return nil }
                            i += 6
                        } else if unit & 0xFC00 == 0xDC00 {
                            return nil
                        }
                    default:
                        return nil
                    }
                } else if c < 0x20 {
                    return nil
                } else if c < 0x80 {
                    i += 1
                } else {
                    plain = false
                    guard let length = JSONScanner.utf8SequenceLength(b, at: i) else { return nil }
                    i += length
                }
            }
            return nil
        }

        @inline(__always) func hex4(at j: Int) -> UInt16? {
            guard j + 4 <= n else { return nil }
            var v: UInt16 = 0
            for k in 0..<4 {
                let c = b[j + k]
                let d: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
                default: return nil
                }
                v = v << 4 | UInt16(d)
            }
            return v
        }

        /// The string's text, as Foundation builds it: escapes decoded, and a byte-order mark dropped where
        /// it starts an unescaped run (Foundation makes each run with `String(bytes:encoding:)`, which drops it).
        func decodeString(_ s: ScannedString) -> String {
            let raw = UnsafeBufferPointer(rebasing: b[s.start..<s.end])
            if s.plain { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var j = s.start
            var runStart = true
            while j < s.end {
                if runStart, j + 2 < s.end, b[j] == 0xEF, b[j + 1] == 0xBB, b[j + 2] == 0xBF {
                    j += 3
                }
                runStart = false
                guard j < s.end else { break }
                let c = b[j]
                guard c == UInt8(ascii: "\\") else {
                    out.append(c)
                    j += 1
                    continue
                }
                runStart = true
                let e = b[j + 1]
                j += 2
                switch e {
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    // Validated by scanString: four hex digits, a high surrogate always followed by a low one.
                    let unit = hex4(at: j) ?? 0
                    j += 4
                    var scalar = UInt32(unit)
                    if unit & 0xFC00 == 0xD800 {
                        let low = hex4(at: j + 2) ?? 0xDC00
                        j += 6
                        scalar = 0x10000 + (UInt32(unit) - 0xD800) * 0x400 + (UInt32(low) - 0xDC00)
                    }
                    JSONScanner.appendUTF8(scalar, to: &out)
                default: out.append(e)  // " \ /
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        /// Validates a number at `i` by Foundation's grammar (`-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`,
        /// then whitespace, `,`, `]` or `}`): nil when invalid, else whether Foundation can represent it.
        mutating func scanNumber() -> Bool? {
            let start = i
            if b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < n else { return nil }
            let intStart = i
            if b[i] == UInt8(ascii: "0") {
                i += 1
            } else if b[i] >= UInt8(ascii: "1"), b[i] <= UInt8(ascii: "9") {
                while i < n, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
            } else {
                return nil
            }
            let intDigits = i - intStart
            if i < n, b[i] == UInt8(ascii: ".") {
                i += 1
                let fracStart = i
                while i < n, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
                guard i > fracStart else { return nil }
            }
            var exponent = 0
            var hasExponent = false
            if i < n, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                hasExponent = true
                i += 1
                var negative = false
                if i < n, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                    negative = b[i] == UInt8(ascii: "-")
                    i += 1
                }
                let expStart = i
                while i < n, b[i] &- UInt8(ascii: "0") < 10 {
                    exponent = min(exponent * 10 + Int(b[i] - UInt8(ascii: "0")), 1_000_000)
                    i += 1
                }
                guard i > expStart else { return nil }
                if negative { exponent = -exponent }
            }
            if i < n {
                let c = b[i]
                guard JSONScanner.isWhitespace(c) || c == UInt8(ascii: ",") || c == UInt8(ascii: "]") || c == UInt8(ascii: "}") else {
                    return nil
                }
            }
            // Below 10^300 a Double is finite, and Foundation keeps any number whose Double is finite.
            // Beyond that ask Foundation's own rule (rare: huge exponents or hundreds of digits).
            if hasExponent ? intDigits + exponent <= 300 : i - start <= 300 { return true }
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            return JSONScanner.foundationNumber(text) != nil
        }
    }

    // MARK: - Numbers

    /// The text the oracle (`scalarText` on Foundation's `NSNumber`) gives for a JSON number: the
    /// integer when the number's `doubleValue` is integral and below 10^15 in magnitude, else nil.
    static func integerText(_ number: UnsafeBufferPointer<UInt8>) -> String? {
        // Fast path: a plain integer of at most 15 digits is an Int64 Foundation converts exactly.
        var plain = number.count <= 16
        var value: Int64 = 0
        var negative = false
        if plain {
            for (k, c) in number.enumerated() {
                if k == 0, c == UInt8(ascii: "-") { negative = true; continue }
                guard c &- UInt8(ascii: "0") < 10 else { plain = false; break }
                value = value * 10 + Int64(c - UInt8(ascii: "0"))
            }
        }
        if plain {
            guard value < 1_000_000_000_000_000 else { return nil }
            return String(negative ? -value : value)
        }
        guard let n = foundationNumber(String(decoding: number, as: UTF8.self)) else { return nil }
        let d = n.doubleValue
        guard d.rounded() == d, abs(d) < 1e15 else { return nil }
        return String(Int64(d))
    }

    /// The `NSNumber` swift-corelibs-foundation's JSONSerialization makes of a number's text (its
    /// `NSNumber.fromJSONNumber`): Int64 or UInt64 for integers that fit, an `NSDecimalNumber` for more than
    /// 17 characters before a lowercase `e` with a small exponent, else a finite Double; nil when none fits,
    /// which makes the whole document invalid.
    static func foundationNumber(_ string: String) -> NSNumber? {
        let decIndex = string.firstIndex(of: ".")
        let expIndex = string.firstIndex(of: "e")
        let isInteger = decIndex == nil && expIndex == nil
        let isNegative = string.utf8.first == UInt8(ascii: "-")
        let digitCount = string[string.startIndex..<(expIndex ?? string.endIndex)].count
        if isInteger {
            if isNegative {
                if digitCount <= 19, let v = Int64(string) { return NSNumber(value: v) }
            } else {
                if digitCount <= 20, let v = UInt64(string) { return NSNumber(value: v) }
            }
        }
        var exp = 0
        if let expIndex, let parsed = Int(string[string.index(after: expIndex)...]) { exp = parsed }
        if digitCount > 17, exp >= -128, exp <= 127, let decimal = Decimal(string: string), decimal.isFinite {
            return NSDecimalNumber(decimal: decimal)
        }
        if let d = Double(string), d.isFinite { return NSNumber(value: d) }
        return nil
    }

    // MARK: - UTF-8

    /// Length of the valid UTF-8 sequence at `j` (a byte >= 0x80), or nil (overlong, surrogate, > U+10FFFF, truncated).
    @inline(__always) static func utf8SequenceLength(_ b: UnsafeBufferPointer<UInt8>, at j: Int) -> Int? {
        let n = b.count
        let c = b[j]
        @inline(__always) func cont(_ k: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            j + k < n && b[j + k] >= lo && b[j + k] <= hi
        }
        switch c {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    static func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
        switch v {
        case ..<0x80:
            out.append(UInt8(v))
        case ..<0x800:
            out.append(UInt8(0xC0 | v >> 6)); out.append(UInt8(0x80 | v & 0x3F))
        case ..<0x10000:
            out.append(UInt8(0xE0 | v >> 12)); out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        default:
            out.append(UInt8(0xF0 | v >> 18)); out.append(UInt8(0x80 | v >> 12 & 0x3F))
            out.append(UInt8(0x80 | v >> 6 & 0x3F)); out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// UTF-16LE to UTF-8, strict (an unpaired surrogate fails, as Foundation's conversion does); a
    /// trailing odd byte is ignored, as Foundation ignores it.
    static func transcodeUTF16LE(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2)
        let units = bytes.count / 2
        var k = 0
        while k < units {
            let u = UInt32(bytes[2 * k]) | UInt32(bytes[2 * k + 1]) << 8
            k += 1
            if u & 0xFC00 == 0xD800 {
                guard k < units else { return nil }
                let low = UInt32(bytes[2 * k]) | UInt32(bytes[2 * k + 1]) << 8
                guard low & 0xFC00 == 0xDC00 else { return nil }
                k += 1
                appendUTF8(0x10000 + (u - 0xD800) << 10 + (low - 0xDC00), to: &out)
            } else if u & 0xFC00 == 0xDC00 {
                return nil
            } else {
                appendUTF8(u, to: &out)
            }
        }
        return out
    }

    /// UTF-32LE to UTF-8, strict (surrogates and values past U+10FFFF fail); trailing bytes short of a
    /// unit are ignored.
    static func transcodeUTF32LE(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 4)
        for k in 0..<(bytes.count / 4) {
            let v = UInt32(bytes[4 * k]) | UInt32(bytes[4 * k + 1]) << 8 | UInt32(bytes[4 * k + 2]) << 16 | UInt32(bytes[4 * k + 3]) << 24
            guard Unicode.Scalar(v) != nil else { return nil }
            appendUTF8(v, to: &out)
        }
        return out
    }
}
