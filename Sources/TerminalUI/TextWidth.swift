/// Display widths of text in terminal columns, and the escaping of untrusted text.
///
/// Widths follow wcwidth: combining marks and zero-width joiners take 0 columns,
/// East Asian Wide/Fullwidth characters and emoji presentation sequences take 2,
/// everything else 1. Control characters never reach a buffer: `sanitized` turns
/// them into visible symbols first.
public enum TextWidth {
    /// Columns the grapheme cluster occupies (0, 1 or 2).
    public static func of(_ character: Character) -> Int {
        // Printable ASCII, nearly every character a screen draws: one column, no Unicode tables.
        if let a = character.asciiValue, a >= 0x20, a < 0x7F { return 1 }
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        // Emoji presentation selector forces width 2 on a text-default emoji (e.g. "❤️").
        if scalars.contains(where: { $0.value == 0xFE0F }) && first.properties.isEmoji { return 2 }
        // Regional indicator pairs (flags) are drawn two columns wide.
        if (0x1F1E6...0x1F1FF).contains(first.value) { return 2 }
        return of(first)
    }

    /// Columns a single scalar occupies on its own.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v == 0 { return 0 }
        if v < 0x20 || (0x7F..<0xA0).contains(v) { return 1 } // shown escaped, one symbol
        // Latin-1 and Latin Extended (before the combining marks), general punctuation (`…`, `·`), box drawing
        // and block elements (every border and bar): one column, answered without the Unicode tables.
        if v < 0x300 || (0x2010...0x2027).contains(v) || (0x2500...0x259F).contains(v) { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark: return 0
        case .format where v != 0x00AD: return 0
        default: break
        }
        if (0x1160...0x11FF).contains(v) || v == 0x200B { return 0 }
        if isWide(v) { return 2 }
        if scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// Columns the whole string occupies once drawn (that is, after `sanitized`).
    public static func of(_ text: String) -> Int {
        if isPrintableASCII(text) { return text.utf8.count }
        if let simple = simpleNarrowWidth(text) { return simple }
        var total = 0
        for ch in sanitized(text) { total += of(ch) }
        return total
    }

    /// East Asian Wide and Fullwidth ranges (Unicode 15, EastAsianWidth.txt W and F).
    static func isWide(_ v: UInt32) -> Bool {
        if v < 0x1100 { return false }
        for range in wideRanges where range.contains(v) { return true }
        return false
    }

    static let wideRanges: [ClosedRange<UInt32>] = [
        0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0...0x23F0,
        0x23F3...0x23F3, 0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F...0x267F,
        0x2693...0x2693, 0x26A1...0x26A1, 0x26AA...0x26AB, 0x26BD...0x26BE, 0x26C4...0x26C5,
        0x26CE...0x26CE, 0x26D4...0x26D4, 0x26EA...0x26EA, 0x26F2...0x26F3, 0x26F5...0x26F5,
        0x26FA...0x26FA, 0x26FD...0x26FD, 0x2705...0x2705, 0x270A...0x270B, 0x2728...0x2728,
        0x274C...0x274C, 0x274E...0x274E, 0x2753...0x2755, 0x2757...0x2757, 0x2795...0x2797,
        0x27B0...0x27B0, 0x27BF...0x27BF, 0x2B1B...0x2B1C, 0x2B50...0x2B50, 0x2B55...0x2B55,
        0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
        0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
        0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1AFF0...0x1B2FF,
        0x1F004...0x1F004, 0x1F0CF...0x1F0CF, 0x1F18E...0x1F18E, 0x1F191...0x1F19A,
        0x1F200...0x1F202, 0x1F210...0x1F23B, 0x1F240...0x1F248, 0x1F250...0x1F251,
        0x1F260...0x1F265, 0x1F300...0x1F320, 0x1F32D...0x1F335, 0x1F337...0x1F37C,
        0x1F37E...0x1F393, 0x1F3A0...0x1F3CA, 0x1F3CF...0x1F3D3, 0x1F3E0...0x1F3F0,
        0x1F3F4...0x1F3F4, 0x1F3F8...0x1F43E, 0x1F440...0x1F440, 0x1F442...0x1F4FC,
        0x1F4FF...0x1F53D, 0x1F54B...0x1F54E, 0x1F550...0x1F567, 0x1F57A...0x1F57A,
        0x1F595...0x1F596, 0x1F5A4...0x1F5A4, 0x1F5FB...0x1F64F, 0x1F680...0x1F6C5,
        0x1F6CC...0x1F6CC, 0x1F6D0...0x1F6D2, 0x1F6D5...0x1F6D7, 0x1F6DC...0x1F6DF,
        0x1F6EB...0x1F6EC, 0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F7F0...0x1F7F0,
        0x1F90C...0x1F93A, 0x1F93C...0x1F945, 0x1F947...0x1F9FF, 0x1FA70...0x1FAFF,
        0x20000...0x2FFFD, 0x30000...0x3FFFD,
    ]

    /// Untrusted text made safe to draw: C0/C1 controls, DEL and bidi overrides become
    /// visible symbols (ESC shows as `␛`), so no payload can move the cursor or restyle the terminal.
    public static func sanitized(_ text: String) -> String {
        // Fast paths: nothing to escape.
        if isPrintableASCII(text) { return text }
        if !text.unicodeScalars.contains(where: needsEscape) { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out.append(contentsOf: escape(scalar).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Columns of `text` when every scalar of it is a narrow character standing alone (printable ASCII, Latin-1
    /// and Latin Extended, general punctuation, arrows, box drawing, blocks and geometric shapes: the borders,
    /// bars, sparklines and marks screens draw), else nil. None of those joins a neighbour into one grapheme or
    /// needs escaping, so each is one column and one character: measured without grapheme breaking.
    @inline(__always)
    public static func simpleNarrowWidth(_ text: String) -> Int? {
        var n = 0
        for scalar in text.unicodeScalars {
            guard isSimpleNarrow(scalar.value) else { return nil }
            n += 1
        }
        return n
    }

    /// See ``simpleNarrowWidth(_:)``; ``of(_:)-(Unicode.Scalar)`` says 1 for each of these.
    @inline(__always)
    static func isSimpleNarrow(_ v: UInt32) -> Bool {
        (0x20..<0x7F).contains(v) || (0xA0..<0x300).contains(v) || (0x2010...0x2027).contains(v)
            || (0x2190...0x21FF).contains(v) || (0x2500...0x25FC).contains(v)
    }

    /// True when every byte of `text` is printable ASCII (space to `~`): one column a byte, nothing to escape,
    /// one grapheme a byte (so byte counts are column counts and a cut at any byte is a cut between characters).
    public static func isPrintableASCII(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            for b in bytes where b < 0x20 || b >= 0x7F { return false }
            return true
        }
    }

    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    static func escape(_ s: Unicode.Scalar) -> String {
        let v = s.value
        if v < 0x20, let pic = Unicode.Scalar(0x2400 + v) { return String(Character(pic)) } // ␀…␟, ␛ for ESC
        if v == 0x7F { return "␡" }
        return "\\u{" + String(v, radix: 16) + "}"
    }

    /// `text` without its first `columns` display columns (a wide character cut in half goes whole).
    public static func droppingColumns(_ text: String, _ columns: Int) -> String {
        guard columns > 0 else { return text }
        var used = 0
        var index = text.startIndex
        while index < text.endIndex, used < columns {
            used += of(text[index])
            index = text.index(after: index)
        }
        return String(text[index...])
    }

    /// The longest prefix of `text` (sanitized) that fits in `columns`, with "…" when it was cut.
    public static func truncated(_ text: String, to columns: Int, ellipsis: Bool = true) -> String {
        fitted(text, to: columns, ellipsis: ellipsis).text
    }

    /// ``truncated(_:to:ellipsis:)`` and the columns the result takes, measured once.
    static func fitted(_ text: String, to columns: Int, ellipsis: Bool = true) -> (text: String, width: Int) {
        guard columns > 0 else { return ("", 0) }
        if isPrintableASCII(text) {
            let bytes = text.utf8
            if bytes.count <= columns { return (text, bytes.count) }
            let kept = String(decoding: bytes.prefix(ellipsis ? columns - 1 : columns), as: UTF8.self)
            return ellipsis ? (kept + "…", columns) : (kept, columns)
        }
        if let total = simpleNarrowWidth(text) {
            if total <= columns { return (text, total) }
            let limit = ellipsis ? columns - 1 : columns
            var out = String.UnicodeScalarView()
            out.append(contentsOf: text.unicodeScalars.prefix(limit))
            return ellipsis ? (String(out) + "…", limit + 1) : (String(out), limit)
        }
        let text = sanitized(text)
        let total = of(text)
        if total <= columns { return (text, total) }
        let limit = ellipsis ? columns - 1 : columns
        var used = 0
        var out = ""
        for ch in text {
            let w = of(ch)
            if used + w > limit { break }
            out.append(ch)
            used += w
        }
        return ellipsis ? (out + "…", used + 1) : (out, used)
    }

    /// `text` (sanitized) cut in the middle to fit `columns`, keeping its start and its end, which often tell
    /// names apart (`com.example.ve…orders.DLT`); unchanged when it fits.
    public static func middleTruncated(_ text: String, to columns: Int) -> String {
        let text = sanitized(text)
        guard of(text) > columns else { return text }
        guard columns > 4 else { return truncated(text, to: columns) }
        let tailWidth = (columns - 1) / 2, headWidth = columns - 1 - tailWidth
        var head = "", used = 0
        for ch in text {
            let w = of(ch)
            if used + w > headWidth { break }
            head.append(ch)
            used += w
        }
        var tail: [Character] = [], tailUsed = 0
        for ch in text.reversed() {
            let w = of(ch)
            if tailUsed + w > tailWidth { break }
            tail.append(ch)
            tailUsed += w
        }
        return head + "…" + String(tail.reversed())
    }

    /// `text` padded with spaces (or cut) to exactly `columns`, aligned left or right.
    public static func padded(_ text: String, to columns: Int, alignRight: Bool = false) -> String {
        let (cut, width) = fitted(text, to: columns)
        let gap = max(0, columns - width)
        let pad = String(repeating: " ", count: gap)
        return alignRight ? pad + cut : cut + pad
    }
}
