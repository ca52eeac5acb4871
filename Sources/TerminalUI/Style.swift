/// A terminal colour as a theme names it; the backend maps it to what the terminal can show.
public enum Color: Sendable, Hashable {
    /// The terminal's own default foreground or background.
    case `default`
    /// One of the 16 ANSI colours (0–7 normal, 8–15 bright).
    case ansi(UInt8)
    /// One of the 256 xterm palette entries.
    case indexed(UInt8)
    /// A 24-bit colour, shown as the nearest palette entry where the terminal has fewer colours.
    case rgb(UInt8, UInt8, UInt8)
}

/// Text attributes, independent of colour (they are all a monochrome terminal has).
public struct TextAttributes: OptionSet, Sendable, Hashable {
    /// Raw bits.
    public let rawValue: UInt8
    /// Creates attributes from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Bold or bright.
    public static let bold = TextAttributes(rawValue: 1 << 0)
    /// Dim.
    public static let dim = TextAttributes(rawValue: 1 << 1)
    /// Underlined.
    public static let underline = TextAttributes(rawValue: 1 << 2)
    /// Foreground and background swapped.
    public static let reverse = TextAttributes(rawValue: 1 << 3)
    /// Italic, where the terminal has it.
    public static let italic = TextAttributes(rawValue: 1 << 4)
}

/// How a cell looks: colours and attributes, and the theme roles it was made from.
///
/// `roles` is where the style came from, not how it looks: it is left out of `==` and hashing, so the
/// terminal diff and every comparison of looks ignore it. Golden screens record it (see ``GoldenScreen``)
/// so that a STALL drawn in the wrong role fails a test even when two roles share a colour.
public struct Style: Sendable, Hashable {
    /// Foreground colour.
    public var foreground: Color
    /// Background colour.
    public var background: Color
    /// Attributes.
    public var attributes: TextAttributes
    /// The theme roles this style was made from (``Theme/style(_:)`` stamps its role; patching joins them).
    public var roles: RoleSet

    /// Creates a style.
    public init(foreground: Color = .default, background: Color = .default, attributes: TextAttributes = [],
                roles: RoleSet = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
        self.roles = roles
    }

    /// Equal looks: colours and attributes (roles are provenance, not looks).
    public static func == (a: Style, b: Style) -> Bool {
        a.foreground == b.foreground && a.background == b.background && a.attributes == b.attributes
    }

    /// Hashes the looks only, as `==` compares them.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(foreground)
        hasher.combine(background)
        hasher.combine(attributes)
    }

    /// The terminal default: no colour, no attributes.
    public static let plain = Style()

    /// This style with extra attributes.
    public func adding(_ extra: TextAttributes) -> Style {
        var copy = self
        copy.attributes.formUnion(extra)
        return copy
    }

    /// This style with the given style's non-default parts laid over it; the roles of both are kept.
    public func patched(with other: Style) -> Style {
        var copy = self
        if other.foreground != .default { copy.foreground = other.foreground }
        if other.background != .default { copy.background = other.background }
        copy.attributes.formUnion(other.attributes)
        copy.roles.formUnion(other.roles)
        return copy
    }
}
