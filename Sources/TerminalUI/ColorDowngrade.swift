extension Color {
    /// The RGB values xterm uses by default for the 16 ANSI colours.
    static let ansiRGB: [(UInt8, UInt8, UInt8)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The six channel levels of the xterm 6×6×6 colour cube (indices 16–231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The RGB value of an xterm-256 palette entry (xterm's defaults for 0–15).
    public static func rgbOfXterm256(_ index: UInt8) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = Int(index)
        if i < 16 {
            let c = ansiRGB[i]
            return (c.0, c.1, c.2)
        }
        if i < 232 {
            let n = i - 16
            return (UInt8(cubeLevels[n / 36]), UInt8(cubeLevels[(n / 6) % 6]), UInt8(cubeLevels[n % 6]))
        }
        let grey = UInt8(8 + 10 * (i - 232))
        return (grey, grey, grey)
    }

    /// The xterm-256 index (16–255: cube or grey ramp, never the themable 0–15) nearest to an RGB value.
    public static func xterm256Index(r: UInt8, g: UInt8, b: UInt8) -> UInt8 {
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for (i, level) in cubeLevels.enumerated() where abs(level - Int(v)) < abs(cubeLevels[best] - Int(v)) {
                best = i
            }
            return best
        }
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cubeIndex = 16 + 36 * ri + 6 * gi + bi
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        // Nearest step on the grey ramp 8, 18, …, 238.
        let average = (Int(r) + Int(g) + Int(b)) / 3
        let greyStep = min(23, max(0, (average - 8 + 5) / 10))
        let greyValue = 8 + 10 * greyStep
        let rgb = (Int(r), Int(g), Int(b))
        let cubeDistance = distance(rgb, cube)
        let greyDistance = distance(rgb, (greyValue, greyValue, greyValue))
        return UInt8(greyDistance < cubeDistance ? 232 + greyStep : cubeIndex)
    }

    /// ANSI indices of the greys (black, white, bright black, bright white).
    static let ansiGreys: Set<Int> = [0, 7, 8, 15]

    /// The ANSI colour (0–15, or 0–7 when `basicOnly`) nearest to an RGB value.
    /// Greyish colours map to a grey and colourful ones to a hue, so a pastel green
    /// stays green instead of becoming grey.
    public static func ansiIndex(r: UInt8, g: UInt8, b: UInt8, basicOnly: Bool = false) -> UInt8 {
        let rgb = (Int(r), Int(g), Int(b))
        let saturation = Int(max(r, g, b)) - Int(min(r, g, b))
        let wantGrey = saturation < 64
        var best = 0
        var bestDistance = Int.max
        for (i, c) in ansiRGB.enumerated() where (!basicOnly || i < 8) && ansiGreys.contains(i) == wantGrey {
            let d = distance(rgb, (Int(c.0), Int(c.1), Int(c.2)))
            if d < bestDistance { best = i; bestDistance = d }
        }
        return UInt8(best)
    }

    /// Perceptually weighted squared distance ("redmean").
    static func distance(_ a: (Int, Int, Int), _ b: (Int, Int, Int)) -> Int {
        let rMean = (a.0 + b.0) / 2
        let dr = a.0 - b.0, dg = a.1 - b.1, db = a.2 - b.2
        return (((512 + rMean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rMean) * db * db) >> 8)
    }

    /// The RGB value this colour stands for; nil for `.default`.
    public var rgbValue: (r: UInt8, g: UInt8, b: UInt8)? {
        switch self {
        case .default: return nil
        case .ansi(let n): return Color.rgbOfXterm256(n & 15)
        case .indexed(let n): return Color.rgbOfXterm256(n)
        case .rgb(let r, let g, let b): return (r, g, b)
        }
    }

    /// The nearest colour a terminal with `support` can show: RGB becomes a 256-palette
    /// index, palette entries become one of the 16 or 8 ANSI colours, and with no colour
    /// support everything becomes `.default`. Colours already representable are unchanged.
    public func downgraded(to support: ColorSupport) -> Color {
        switch (self, support) {
        case (.default, _): return .default
        case (_, .none): return .default
        case (.ansi(let n), .palette256), (.ansi(let n), .ansi16):
            return .ansi(n & 15)
        case (.indexed, .palette256):
            return self
        case (.rgb(let r, let g, let b), .palette256):
            return .indexed(Color.xterm256Index(r: r, g: g, b: b))
        case (.indexed(let n), .ansi16) where n < 16:
            return .ansi(n)
        case (.ansi(let n), .basic8) where n & 15 < 8:
            return .ansi(n & 15)
        case (.indexed(let n), .basic8) where n < 8:
            return .ansi(n)
        case (_, .ansi16), (_, .basic8):
            guard let c = rgbValue else { return .default }
            return .ansi(Color.ansiIndex(r: c.r, g: c.g, b: c.b, basicOnly: support == .basic8))
        }
    }
}

extension Style {
    /// This style with both colours downgraded to what the terminal can show (attributes kept).
    /// Without colour, a style that had a background colour gains `.reverse`, so highlighted
    /// things (selection, header bar) stay visible on a monochrome terminal.
    public func downgraded(to support: ColorSupport) -> Style {
        var attributes = self.attributes
        if support == .none, background != .default { attributes.insert(.reverse) }
        return Style(foreground: foreground.downgraded(to: support),
                     background: background.downgraded(to: support),
                     attributes: attributes)
    }
}

extension Theme {
    /// The theme with every colour downgraded to what the terminal can show.
    public func downgraded(to support: ColorSupport) -> Theme {
        Theme(name: name, styles: styles.mapValues { $0.downgraded(to: support) })
    }
}
