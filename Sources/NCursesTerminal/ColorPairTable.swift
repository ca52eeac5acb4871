/// Hands out ncurses colour-pair numbers for (foreground, background) palette indices.
///
/// Pure bookkeeping, so it is testable without a terminal: the backend asks for a pair,
/// and calls `init_pair` only when the answer is `.allocated`. Pair 0 is ncurses' fixed
/// default pair. When the terminal's pairs run out, the nearest existing pair is reused
/// rather than failing, so a theme with too many combinations degrades instead of breaking.
public struct ColorPairTable: Sendable {
    /// A (foreground, background) combination; -1 is the terminal's default colour.
    public struct Colors: Sendable, Hashable {
        /// Foreground palette index, or -1.
        public var foreground: Int16
        /// Background palette index, or -1.
        public var background: Int16
        /// Creates a combination.
        public init(foreground: Int16, background: Int16) {
            self.foreground = foreground
            self.background = background
        }
    }

    /// What `pair(for:)` decided.
    public enum Lookup: Sendable, Hashable {
        /// The combination already has this pair.
        case existing(Int16)
        /// A new pair: the caller must `init_pair` it with the requested colours.
        case allocated(Int16)
        /// No pair left: this existing pair is the nearest match.
        case fallback(Int16)

        /// The pair number to draw with.
        public var pair: Int16 {
            switch self {
            case .existing(let p), .allocated(let p), .fallback(let p): return p
            }
        }
    }

    /// The colours of pair 0 (the default pair: -1/-1 after use_default_colors).
    public let defaultColors: Colors
    /// Highest pair number that may be allocated (COLOR_PAIRS - 1, capped to Int16).
    public let maxPair: Int16
    /// Pairs handed out so far, by colours.
    public private(set) var pairs: [Colors: Int16] = [:]
    private var nextPair: Int16 = 1

    /// Creates a table for a terminal with `colorPairs` pairs (COLOR_PAIRS).
    public init(colorPairs: Int, defaultColors: Colors = Colors(foreground: -1, background: -1)) {
        // init_pair takes a short, so pairs beyond Int16.max are unreachable anyway.
        self.maxPair = Int16(clamping: max(0, min(colorPairs, Int(Int16.max)) - 1))
        self.defaultColors = defaultColors
    }

    /// The pair to draw `colors` with, allocating one while any is left.
    public mutating func pair(for colors: Colors) -> Lookup {
        if colors == defaultColors { return .existing(0) }
        if let existing = pairs[colors] { return .existing(existing) }
        if nextPair <= maxPair {
            let pair = nextPair
            nextPair += 1
            pairs[colors] = pair
            return .allocated(pair)
        }
        return .fallback(nearestPair(to: colors))
    }

    /// The existing pair (pair 0 included) closest to `colors`.
    func nearestPair(to colors: Colors) -> Int16 {
        var best: Int16 = 0
        var bestDistance = Self.distance(colors, defaultColors)
        // Iterate in pair order so ties resolve the same way every run (dictionary order is random).
        for (candidate, pair) in pairs.sorted(by: { $0.value < $1.value }) {
            let d = Self.distance(colors, candidate)
            if d < bestDistance { best = pair; bestDistance = d }
        }
        return best
    }

    static func distance(_ a: Colors, _ b: Colors) -> Int {
        ColorMapper.distance(index: a.foreground, b.foreground) + ColorMapper.distance(index: a.background, b.background)
    }
}
