import Foundation

/// SplitMix64: a small, fast, seedable generator; identical output on every platform.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Mix.mix64(state)
    }

    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in 0..<bound (bound > 0).
    mutating func next(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        return Int(next() % UInt64(bound))
    }

    /// A Poisson-distributed count with mean `lambda` (normal approximation above 30).
    mutating func poisson(_ lambda: Double) -> Int {
        guard lambda > 0, lambda.isFinite else { return 0 }
        if lambda > 30 {
            // Box-Muller; good enough for traffic shaping.
            let u1 = max(nextUnit(), 1e-12), u2 = nextUnit()
            let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
            return max(0, Int((lambda + z * lambda.squareRoot()).rounded()))
        }
        let limit = exp(-lambda)
        var k = 0
        var p = nextUnit()
        while p > limit {
            k += 1
            p *= nextUnit()
        }
        return k
    }
}

/// Stateless hashing used for decisions that must not depend on processing order.
enum Mix {
    /// SplitMix64's finaliser: a bijection on UInt64.
    static func mix64(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A bijection on UInt32 (Wellons' lowbias32), so distinct inputs give distinct ids.
    static func mix32(_ value: UInt32) -> UInt32 {
        var x = value
        x ^= x >> 16
        x = x &* 0x7FEB_352D
        x ^= x >> 15
        x = x &* 0x846C_A68B
        x ^= x >> 16
        return x
    }

    /// FNV-1a over a string's UTF-8 bytes.
    static func fnv(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        return hash
    }

    /// Hash of a seed, a subject and a purpose tag.
    static func hash(_ seed: UInt64, _ subject: UInt64, _ purpose: String) -> UInt64 {
        mix64(mix64(seed ^ mix64(subject &+ 0x632B_E59B_D9B4_E019)) ^ fnv(purpose))
    }

    /// Uniform in [0, 1) from a hash.
    static func unit(_ hash: UInt64) -> Double { Double(hash >> 11) * 0x1.0p-53 }

    /// Lower-case hex with at least `width` digits.
    static func hex<T: BinaryInteger>(_ value: T, width: Int) -> String {
        let digits = String(value, radix: 16)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
