import TerminalUI

/// Turns theme colours into the palette indices ncurses takes, on top of TerminalUI's
/// `Color.downgraded(to:)` (rgb → xterm-256 → 16 → 8).
public enum ColorMapper {
    /// A colour resolved for one terminal: a palette index (-1 = the terminal's default)
    /// and whether bold must stand in for a bright foreground the terminal lacks.
    public struct Resolved: Sendable, Hashable {
        /// Palette index, or -1 for the terminal's default colour.
        public var index: Int16
        /// True when a bright colour was folded into a normal one on an 8-colour terminal;
        /// such terminals (the Linux console, old xterms) show bold text in the bright variant.
        public var needsBold: Bool
    }

    /// The palette index to hand ncurses for `color` under `support`.
    public static func resolve(_ color: Color, for support: ColorSupport, isForeground: Bool) -> Resolved {
        let downgraded = color.downgraded(to: support)
        var needsBold = false
        if support == .basic8, isForeground, case .ansi(let bright) = color.downgraded(to: .ansi16), bright >= 8 {
            needsBold = true
        }
        switch downgraded {
        case .default: return Resolved(index: -1, needsBold: false)
        case .ansi(let n): return Resolved(index: Int16(n), needsBold: needsBold)
        case .indexed(let i): return Resolved(index: Int16(i), needsBold: needsBold)
        case .rgb(let r, let g, let b): // not produced by downgraded(to:), but stay total
            return Resolved(index: Int16(Color.xterm256Index(r: r, g: g, b: b)), needsBold: false)
        }
    }

    /// Squared RGB distance between two palette indices, where -1 (the terminal's default,
    /// whose real colour is unknown) equals itself and is a middling distance from the rest.
    static func distance(index a: Int16, _ b: Int16) -> Int {
        if a == b { return 0 }
        if a < 0 || b < 0 { return 3 * 128 * 128 }
        let x = Color.rgbOfXterm256(UInt8(clamping: a)), y = Color.rgbOfXterm256(UInt8(clamping: b))
        let dr = Int(x.r) - Int(y.r), dg = Int(x.g) - Int(y.g), db = Int(x.b) - Int(y.b)
        return dr * dr + dg * dg + db * db
    }
}
