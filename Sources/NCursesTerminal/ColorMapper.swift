import TerminalUI

/// Maps theme colours onto what a terminal can show: rgb → xterm-256 → 16 ANSI → 8 basic.
///
/// Kept in this target (rather than relying on a TerminalUI helper) so the backend's
/// palette arithmetic and the pair table share one definition of "nearest colour".
public enum ColorMapper {
    /// A colour resolved for one terminal: a palette index (-1 = the terminal's default)
    /// and whether bold must stand in for a bright foreground the terminal lacks.
    public struct Resolved: Sendable, Hashable {
        /// Palette index, or -1 for the terminal's default colour.
        public var index: Int16
        /// True when a bright ANSI colour was folded into its normal one on an 8-colour
        /// terminal; many such terminals show bold text in the bright variant.
        public var needsBold: Bool
    }

    /// `color` downgraded to what `support` can show (`.default` when it has no colour).
    public static func downgrade(_ color: Color, to support: ColorSupport) -> Color {
        switch (support, color) {
        case (_, .default), (.none, _):
            return .default
        case (.palette256, .rgb(let r, let g, let b)):
            return .indexed(xterm256(r: r, g: g, b: b))
        case (.palette256, _):
            return color
        case (.ansi16, .ansi(let n)):
            return .ansi(n & 0x0F)
        case (.ansi16, .indexed(let i)):
            return .ansi(i < 16 ? i : nearestANSI16(rgb(ofIndex: i)))
        case (.ansi16, .rgb(let r, let g, let b)):
            return .ansi(nearestANSI16((r, g, b)))
        case (.basic8, _):
            guard case .ansi(let n) = downgrade(color, to: .ansi16) else { return .default }
            return .ansi(n & 0x07)
        }
    }

    /// The palette index to hand ncurses for `color` under `support`.
    public static func resolve(_ color: Color, for support: ColorSupport, isForeground: Bool) -> Resolved {
        if support == .basic8, let bright = ansi16Index(color), bright >= 8 {
            return Resolved(index: Int16(bright - 8), needsBold: isForeground)
        }
        switch downgrade(color, to: support) {
        case .default: return Resolved(index: -1, needsBold: false)
        case .ansi(let n): return Resolved(index: Int16(n), needsBold: false)
        case .indexed(let i): return Resolved(index: Int16(i), needsBold: false)
        case .rgb: return Resolved(index: -1, needsBold: false) // unreachable: downgrade never keeps rgb
        }
    }

    /// The 16-colour index `color` becomes before folding to 8, or nil for `.default`.
    private static func ansi16Index(_ color: Color) -> UInt8? {
        if case .ansi(let n) = downgrade(color, to: .ansi16) { return n }
        return nil
    }

    // MARK: - Palette arithmetic

    /// The six channel levels of xterm's 6×6×6 colour cube (indices 16–231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// xterm's default RGB for the 16 ANSI colours.
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The RGB xterm shows for palette entry `index`.
    public static func rgb(ofIndex index: UInt8) -> (UInt8, UInt8, UInt8) {
        let i = Int(index)
        if i < 16 { return ansiRGB[i] }
        if i >= 232 {
            let v = UInt8(8 + 10 * (i - 232))
            return (v, v, v)
        }
        let c = i - 16
        return (UInt8(cubeLevels[c / 36]), UInt8(cubeLevels[(c / 6) % 6]), UInt8(cubeLevels[c % 6]))
    }

    /// The nearest xterm-256 entry (cube or grey ramp) to an RGB colour.
    public static func xterm256(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for (i, level) in cubeLevels.enumerated() where abs(level - Int(v)) < abs(cubeLevels[best] - Int(v)) {
                best = i
            }
            return best
        }
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cubeIndex = UInt8(16 + 36 * ri + 6 * gi + bi)
        let cubeDistance = distance((r, g, b), rgb(ofIndex: cubeIndex))

        // Greys are better served by the 24-step ramp than by the cube's 6 levels.
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyStep = min(23, max(0, (average - 8 + 5) / 10))
        let greyIndex = UInt8(232 + greyStep)
        let greyDistance = distance((r, g, b), rgb(ofIndex: greyIndex))
        return greyDistance < cubeDistance ? greyIndex : cubeIndex
    }

    /// The nearest of the 16 ANSI colours to an RGB colour.
    public static func nearestANSI16(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        var best = 0
        var bestDistance = Int.max
        for (i, candidate) in ansiRGB.enumerated() {
            let d = distance(c, candidate)
            if d < bestDistance { best = i; bestDistance = d }
        }
        return UInt8(best)
    }

    /// Squared Euclidean distance between two RGB colours.
    static func distance(_ a: (UInt8, UInt8, UInt8), _ b: (UInt8, UInt8, UInt8)) -> Int {
        let dr = Int(a.0) - Int(b.0), dg = Int(a.1) - Int(b.1), db = Int(a.2) - Int(b.2)
        return dr * dr + dg * dg + db * db
    }

    /// Distance between two palette indices, where -1 (terminal default) is unknown:
    /// equal to itself, and a middling distance from everything else.
    static func distance(index a: Int16, _ b: Int16) -> Int {
        if a == b { return 0 }
        if a < 0 || b < 0 { return 3 * 128 * 128 }
        return distance(rgb(ofIndex: UInt8(clamping: a)), rgb(ofIndex: UInt8(clamping: b)))
    }
}
