import Foundation

/// A structured filter over a topic's records, as typed in the messages view's `/` prompt and given to
/// `evtop messages --filter`: space-separated terms that must all hold, each negated by a leading `!`.
///
/// - `key=VALUE`: the key is exactly VALUE (UTF-8); `key=` matches records without a key or with an empty one.
/// - `header:NAME=VALUE`: some header NAME has exactly VALUE; `header:NAME` alone: a header NAME exists.
/// - `type=NAME`: the event type, as the correlation rules find it (headers first, then the JSON pointers).
/// - `cid=ID`: the correlation ID, found the same way.
/// - `/json/pointer=VALUE`, `!=`, `>`, `>=`, `<`, `<=`: the value the pointer designates in a JSON payload;
///   the order comparisons are numeric; `=` compares strings as written, numbers by value, and `true`,
///   `false`, `null` as those literals.
///
/// A value holding spaces is written in double quotes (`header:reason="card declined"`). Pure.
public struct MessageFilter: Sendable, Hashable, CustomStringConvertible {
    /// One condition.
    public enum Condition: Sendable, Hashable {
        /// The key's bytes equal these (nil: no key or an empty one).
        case key([UInt8]?)
        /// A header with this name, and when `value` is given, with exactly this value.
        case header(name: String, value: [UInt8]?)
        /// The event type found by the correlation rules.
        case eventType(String)
        /// The correlation ID found by the correlation rules.
        case correlationID(String)
        /// A comparison of the JSON value at `pointer`.
        case json(JSONPointer, Comparison, String)
    }

    /// How a JSON value is compared.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case greater = ">"
        case greaterOrEqual = ">="
        case less = "<"
        case lessOrEqual = "<="
    }

    /// A condition and whether it is negated.
    public struct Term: Sendable, Hashable {
        /// The condition.
        public var condition: Condition
        /// True for `!term`: the record must not match the condition.
        public var negated: Bool
    }

    /// The terms; all must hold. Empty matches every record.
    public var terms: [Term]
    /// The filter as typed.
    public let text: String

    /// Parses a filter; throws a ``MessageFilterError`` naming the term it cannot read.
    public init(_ text: String) throws {
        self.text = text
        terms = try Self.split(text).map(Self.term)
    }

    /// True when `text` reads as a structured filter rather than a regex over the rows: every term
    /// starts with `key=`, `header:`, `type=`, `cid=` or `/` (each may be negated with `!`).
    public static func isStructured(_ text: String) -> Bool {
        guard let words = try? split(text), !words.isEmpty else { return false }
        return words.allSatisfy { word in
            let w = word.hasPrefix("!") ? String(word.dropFirst()) : word
            return ["key=", "header:", "type=", "cid="].contains { w.hasPrefix($0) } || (w.hasPrefix("/") && w.count > 1)
        }
    }

    /// The filter as typed.
    public var description: String { text }

    /// True when a term needs the correlation rules (type or correlation ID).
    public var needsExtraction: Bool {
        terms.contains {
            switch $0.condition {
            case .eventType, .correlationID: return true
            default: return false
            }
        }
    }

    /// Whether `record` passes every term; `extraction` is what the correlation rules found in it (asked
    /// only when ``needsExtraction``).
    public func matches(_ record: Record, extraction: @autoclosure () -> CorrelationRules.Extraction?) -> Bool {
        var extracted: CorrelationRules.Extraction??
        func found() -> CorrelationRules.Extraction? {
            if let e = extracted { return e }
            let e = extraction()
            extracted = .some(e)
            return e
        }
        var parsedValue: Any??
        func json() -> Any? {
            if let v = parsedValue { return v }
            let v = Self.decode(record.value)
            parsedValue = .some(v)
            return v
        }
        for term in terms {
            let hit: Bool
            switch term.condition {
            case .key(let bytes):
                if let bytes { hit = record.key == bytes } else { hit = record.key?.isEmpty ?? true }
            case .header(let name, let value):
                hit = record.headers.contains { $0.name == name && (value == nil || $0.value == value) }
            case .eventType(let name):
                hit = found()?.eventType == name
            case .correlationID(let id):
                hit = found()?.correlationID == id
            case .json(let pointer, let comparison, let literal):
                // Cheap refusal first: an equality whose literal text is nowhere in the bytes cannot hold.
                if comparison == .equal, let value = record.value, !Self.mayContain(value, literal) {
                    hit = false
                } else {
                    hit = Self.compare(Self.resolve(pointer, in: json()), comparison, literal)
                }
            }
            if hit == term.negated { return false }
        }
        return true
    }

    // MARK: - Parsing

    /// Words separated by spaces; double quotes group (and are dropped), `\"` and `\\` escape inside them.
    static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var started = false
        var chars = text.makeIterator()
        while let c = chars.next() {
            if inQuotes {
                if c == "\\" {
                    guard let next = chars.next() else { throw MessageFilterError(term: text, reason: "ends inside an escape") }
                    current.append(next)
                } else if c == "\"" {
                    inQuotes = false
                } else {
                    current.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
                started = true
            } else if c == " " || c == "\t" {
                if started { words.append(current) }
                current = ""
                started = false
            } else {
                current.append(c)
                started = true
            }
        }
        guard !inQuotes else { throw MessageFilterError(term: text, reason: "a quote is not closed") }
        if started { words.append(current) }
        return words
    }

    static func term(_ word: String) throws -> Term {
        let negated = word.hasPrefix("!")
        let body = negated ? String(word.dropFirst()) : word
        func fail(_ reason: String) -> MessageFilterError { MessageFilterError(term: word, reason: reason) }
        if body.hasPrefix("key=") {
            let value = String(body.dropFirst(4))
            return Term(condition: .key(value.isEmpty ? nil : Array(value.utf8)), negated: negated)
        }
        if body.hasPrefix("header:") {
            let rest = body.dropFirst(7)
            guard let eq = rest.firstIndex(of: "=") else {
                guard !rest.isEmpty else { throw fail("names no header") }
                return Term(condition: .header(name: String(rest), value: nil), negated: negated)
            }
            let name = String(rest[..<eq])
            guard !name.isEmpty else { throw fail("names no header") }
            return Term(condition: .header(name: name, value: Array(rest[rest.index(after: eq)...].utf8)), negated: negated)
        }
        if body.hasPrefix("type=") {
            let name = String(body.dropFirst(5))
            guard !name.isEmpty else { throw fail("names no event type") }
            return Term(condition: .eventType(name), negated: negated)
        }
        if body.hasPrefix("cid=") {
            let id = String(body.dropFirst(4))
            guard !id.isEmpty else { throw fail("names no correlation ID") }
            return Term(condition: .correlationID(id), negated: negated)
        }
        if body.hasPrefix("/") {
            // The operator is the first of `!=`, `>=`, `<=`, `=`, `>`, `<` after the pointer.
            guard let opStart = body.firstIndex(where: { "=<>!".contains($0) }) else {
                throw fail("needs a comparison: /pointer=VALUE, !=, >, >=, <, <=")
            }
            let pointerText = String(body[..<opStart])
            let afterOp = body[opStart...]
            let comparison = [Comparison.notEqual, .greaterOrEqual, .lessOrEqual, .equal, .greater, .less]
                .first { afterOp.hasPrefix($0.rawValue) }
            guard let comparison else { throw fail("needs a comparison: /pointer=VALUE, !=, >, >=, <, <=") }
            guard let pointer = JSONPointer(pointerText) else { throw fail("\(pointerText) is not a JSON pointer (RFC 6901)") }
            let literal = String(afterOp.dropFirst(comparison.rawValue.count))
            if comparison != .equal && comparison != .notEqual, Double(literal) == nil {
                throw fail("\(comparison.rawValue) compares numbers: \(literal.isEmpty ? "no value" : literal) is not one")
            }
            return Term(condition: .json(pointer, comparison, literal), negated: negated)
        }
        throw fail("is not key=, header:NAME[=VALUE], type=, cid= or /json/pointer=VALUE")
    }

    // MARK: - JSON

    /// Payloads larger than this are not decoded for a pointer (they never match one).
    public static let maxJSONBytes = 1 << 20

    static func decode(_ value: [UInt8]?) -> Any? {
        guard let value, value.count <= maxJSONBytes,
              let first = value.first(where: { !JSONScanner.isWhitespace($0) }),
              first == UInt8(ascii: "{") || first == UInt8(ascii: "[") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(value), options: [.fragmentsAllowed])
    }

    static func resolve(_ pointer: JSONPointer, in document: Any?) -> Any? {
        var current = document
        for token in pointer.tokens {
            switch current {
            case let object as [String: Any]: current = object[token]
            case let array as [Any]:
                guard let i = Int(token), i >= 0, String(i) == token, i < array.count else { return nil }
                current = array[i]
            default: return nil
            }
        }
        return current
    }

    /// A JSON value against the literal the operator wrote. A missing value satisfies only `!=`.
    static func compare(_ value: Any?, _ comparison: Comparison, _ literal: String) -> Bool {
        guard let value else { return comparison == .notEqual }
        let equal: Bool?
        let order: Int?  // -1, 0, 1: value against literal, numerically
        switch value {
        case let s as String:
            equal = s == literal
            order = nil
        case let n as NSNumber:
            // Foundation hands JSON's true and false over as NSNumbers of type `c` (a JSON number never is one).
            if String(cString: n.objCType) == "c" {
                equal = (n.boolValue ? "true" : "false") == literal
                order = nil
            } else if let l = Double(literal) {
                let d = n.doubleValue
                equal = d == l
                order = d < l ? -1 : (d > l ? 1 : 0)
            } else {
                equal = false
                order = nil
            }
        case is NSNull:
            equal = literal == "null"
            order = nil
        default:
            // Objects and arrays equal nothing an operator can type here.
            equal = false
            order = nil
        }
        switch comparison {
        case .equal: return equal ?? false
        case .notEqual: return !(equal ?? false)
        case .greater: return order.map { $0 > 0 } ?? false
        case .greaterOrEqual: return order.map { $0 >= 0 } ?? false
        case .less: return order.map { $0 < 0 } ?? false
        case .lessOrEqual: return order.map { $0 <= 0 } ?? false
        }
    }

    /// False only when `literal` (ASCII letters and digits, written as JSON writes them) cannot be in
    /// `bytes`: a number may be spelled `4.2e1`, and a string escaped, so anything else is let through.
    static func mayContain(_ bytes: [UInt8], _ literal: String) -> Bool {
        let needle = Array(literal.utf8)
        guard !needle.isEmpty, needle.count <= 64,
              needle.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F }) else { return true }
        // Letters only (no digits: numbers have other spellings): a plain substring search. A string
        // with escapes may spell a letter as `\u0041`: a value with a backslash is let through.
        guard !bytes.contains(0x5C) else { return true }
        guard bytes.count >= needle.count else { return false }
        let first = needle[0]
        var i = 0
        let last = bytes.count - needle.count
        while i <= last {
            if bytes[i] == first {
                var k = 1
                while k < needle.count, bytes[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            i += 1
        }
        return false
    }
}

/// A filter term evtop cannot read, and why.
public struct MessageFilterError: Error, CustomStringConvertible, Equatable {
    /// The term as typed.
    public var term: String
    /// What is wrong with it.
    public var reason: String

    /// `filter term 'x': reason`.
    public var description: String { "filter term '\(term)' \(reason)" }
}
