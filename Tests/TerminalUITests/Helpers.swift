@testable import TerminalUI

/// A theme where role number i has foreground .indexed(16 + i), so tests can tell roles apart.
let roleTheme: Theme = {
    var styles: [Role: Style] = [:]
    for (i, role) in Role.allCases.enumerated() { styles[role] = Style(foreground: .indexed(UInt8(16 + i))) }
    return Theme(name: "roles", styles: styles)
}()

/// The role whose test style is the cell's foreground.
func role(of cell: Cell) -> Role? {
    guard case .indexed(let n) = cell.style.foreground, n >= 16, Int(n) - 16 < Role.allCases.count else { return nil }
    return Role.allCases[Int(n) - 16]
}

/// A deterministic pseudo-random generator (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
