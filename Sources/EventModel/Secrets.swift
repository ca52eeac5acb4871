import Synchronization

/// The one rule for what evtop never shows on a screen, in an error, a log line, JSON or the journal:
/// values of properties that could be secrets, credentials in URLs, and values nobody recognises.
///
/// Every source, error path and log line goes through these functions, so that a new source
/// (`amqp://user:password@host`, say) is covered without code of its own.
public enum Secrets {
    /// What stands in for a hidden value.
    public static let mask = "***"

    /// Secret values this process was given (a password among the client properties): masked in
    /// every text ``scrub(_:values:)`` cleans, wherever a library quotes them.
    private static let known = Mutex<Set<String>>([])

    /// Remembers secret values for every later ``scrub(_:values:)``. Values shorter than 4 characters
    /// are not remembered: masking every "ab" in every message would garble it, and they are masked
    /// where their names show (`password=…`) all the same.
    public static func remember(_ values: some Sequence<String>) {
        let kept = values.filter { $0.count >= 4 }
        guard !kept.isEmpty else { return }
        known.withLock { $0.formUnion(kept) }
    }

    /// Parts of a property name that mark its value as a secret (compared without `.`, `_` and `-`):
    /// passwords, secrets, tokens, credentials, JAAS lines, API and private keys.
    private static let secretWords = ["pass", "pwd", "secret", "token", "credential", "jaas", "apikey", "privatekey", "oauthbearerconfig"]

    /// True when a property of this name may hold a secret (its value is never shown).
    public static func isSecretName(_ name: String) -> Bool {
        if hasSecretWord(name) { return true }
        // `ssl.key.pem`, `ssl.key.location`, `api.key`, `private_key`: a key component (not `keystore`'s type or location).
        return name.lowercased().split(whereSeparator: { $0 == "." || $0 == "_" || $0 == "-" }).contains { $0 == "key" || $0 == "pem" }
    }

    /// True when `name` holds one of the words that always mean a secret. Free text is scrubbed by
    /// these only: a bare "key" there is too common ("-X takes key=value").
    private static func hasSecretWord(_ name: String) -> Bool {
        let joined = String(name.lowercased().filter { $0 != "." && $0 != "_" && $0 != "-" })
        return secretWords.contains { joined.contains($0) }
    }

    /// The value of property `name` as it may be shown: the mask for a secret, and for a property the
    /// client does not know (`known: false`), whatever its name, since a mistyped secret name still holds a secret.
    public static func shown(_ name: String, value: String, known: Bool = true) -> String {
        known && !isSecretName(name) ? value : mask
    }

    /// `key=value` lines sorted by key, every secret's value masked.
    public static func redacted(_ properties: [String: String]) -> [String] {
        properties.keys.sorted().map { key in key + "=" + shown(key, value: properties[key] ?? "") }
    }

    /// A URL as it may be shown: the user and password before `@` masked (`kafka://***@host:9092`),
    /// every query value masked (`?sasl.password=***`: evtop's URLs take no parameters, so none is
    /// known), the fragment masked. Text without a scheme is treated as if `SCHEME:` began it.
    public static func url(_ text: String) -> String {
        var rest = Substring(text)
        var out = ""
        // The scheme (letters, digits, + - .) and its colon, if any.
        if let colon = rest.firstIndex(of: ":"),
           rest[..<colon].allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }), !rest[..<colon].isEmpty {
            out += rest[...colon]
            rest = rest[rest.index(after: colon)...]
        }
        if rest.hasPrefix("//") {
            out += "//"
            rest = rest.dropFirst(2)
        }
        // The authority runs to the first `/`, `?` or `#`; its last `@` ends the user information.
        let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") {
            out += mask
            rest = rest[at...]
        }
        if let hash = rest.firstIndex(of: "#") {
            rest = rest[..<hash]
            return out + query(rest) + "#" + mask
        }
        return out + query(rest)
    }

    /// `path?k=v&…` with every value masked.
    private static func query(_ text: Substring) -> String {
        guard let question = text.firstIndex(of: "?") else { return String(text) }
        let pairs = text[text.index(after: question)...].split(separator: "&", omittingEmptySubsequences: false).map { pair in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            return String(pair[...eq]) + mask
        }
        return String(text[...question]) + pairs.joined(separator: "&")
    }

    /// Free text (an error from a library, a log line) with secrets masked: each of `values` (the
    /// secrets the caller knows of) and of the remembered ones, the user information of any `scheme://user:password@host`, and
    /// the value of any `name=value` or `name: value` whose name is a secret's.
    public static func scrub(_ text: String, values: some Sequence<String> = [String]()) -> String {
        var out = text
        let all = Set(values).union(known.withLock { $0 })
        // Longest first, so that a secret containing another is masked whole.
        for value in all.sorted(by: { $0.count > $1.count }) where !value.isEmpty {
            out = out.replacingOccurrences(of: value, with: mask)
        }
        return maskNamedValues(maskURLCredentials(out))
    }

    /// Characters that end a word of free text (a URL, a value).
    private static func endsWord(_ c: Character) -> Bool {
        c.isWhitespace || "\"'`<>()[]{}".contains(c)
    }

    /// `scheme://user:password@host` anywhere in `text` → `scheme://***@host`.
    private static func maskURLCredentials(_ text: String) -> String {
        guard text.contains("://") else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = rest.range(of: "://") {
            out += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let end = rest.firstIndex { endsWord($0) || "/?#".contains($0) } ?? rest.endIndex
            if let at = rest[..<end].lastIndex(of: "@") {
                out += mask
                rest = rest[at...]
            }
        }
        return out + rest
    }

    /// `sasl.password=hunter2`, `password=hunter2`, `password:hunter2`, `"password":"hunter2"` → the value
    /// masked (`password: text`, with a blank, is prose and left alone).
    private static func maskNamedValues(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let sep = rest.firstIndex(where: { $0 == "=" || $0 == ":" }) {
            // The name: the word just before the separator (quotes around it allowed).
            let before = rest[..<sep]
            let trimmedName = before.reversed().drop { $0 == "\"" || $0 == "'" }
            let name = String(trimmedName.prefix { !endsWord($0) && $0 != "&" && $0 != "?" && $0 != "," && $0 != ";" }.reversed())
            // `name: text` with a blank is prose ("wrong password: check it"), not a setting.
            let after = rest[rest.index(after: sep)...]
            let prose = rest[sep] == ":" && (after.first.map { $0 == " " } ?? true)
            guard !prose, !name.isEmpty, hasSecretWord(name), !after.hasPrefix("//") else {
                out += rest[...sep]
                rest = rest[rest.index(after: sep)...]
                continue
            }
            out += rest[...sep]
            rest = rest[rest.index(after: sep)...]
            // The value: after optional blanks and an opening quote, to the end of the word.
            let blanks = rest.prefix { $0 == " " }
            out += blanks
            rest = rest.dropFirst(blanks.count)
            var quote: Character?
            if let first = rest.first, first == "\"" || first == "'" {
                quote = first
                out.append(first)
                rest = rest.dropFirst()
            }
            let valueEnd: String.Index
            if let quote {
                valueEnd = rest.firstIndex(of: quote) ?? rest.endIndex
            } else {
                valueEnd = rest.firstIndex { endsWord($0) || "&,;".contains($0) } ?? rest.endIndex
            }
            if valueEnd > rest.startIndex { out += mask }
            rest = rest[valueEnd...]
        }
        return out + rest
    }
}
