import EventModel

/// The pure parts of the injected faults (see `DemoFault`): when each is due and what it writes.
/// `DemoRules` decides where they go; nothing here draws from the order stream's random numbers, so
/// turning a fault on or off leaves the orders themselves as they were.
enum DemoFaultPlan {
    /// The command-named event types order-service publishes with `command-events`, in turn.
    static let commandTypes = ["ReserveInventory", "SendConfirmation"]

    /// True for the `first`-th occurrence (1-based) and every `every`-th after it.
    static func isDue(_ count: Int, first: Int, every: Int) -> Bool {
        guard count >= first else { return false }
        return every > 0 && (count - first) % every == 0
    }

    /// The gap before the fat event after number `index` (0-based), within `range`, milliseconds:
    /// follows the seed, so the same seed gives the same fat events.
    static func fatGapMillis(seed: UInt64, index: Int, range: ClosedRange<Double>) -> Int64 {
        let u = Mix.unit(Mix.hash(seed, UInt64(index), "fatGap"))
        return Int64(((range.lowerBound + u * (range.upperBound - range.lowerBound)) * 1000).rounded())
    }

    /// A packing list as a JSON array of objects, at least `bytes` long: the body of a fat OrderPlaced.
    /// Each line names a catalog SKU; all ASCII, no control characters, so consumers decode it as usual.
    static func packingList(seed: UInt64, orderID: String, bytes: Int) -> String {
        let subject = Mix.fnv(orderID)
        var lines: [String] = []
        var length = 2
        var line = 0
        while length < bytes {
            line += 1
            let h = Mix.hash(seed, subject &+ UInt64(line), "packingLine")
            let sku = 1 + Int(h % UInt64(DemoRules.catalogSize))
            let fields: [String: JSONScalar] = [
                "line": .int(Int64(line)),
                "sku": .string("sku-\(sku)"),
                "quantity": .int(Int64(1 + (h >> 8) % 4)),
                "serial": .string("SN" + Mix.hex(h >> 16, width: 12)),
                "note": .string("gift wrap \((h >> 24) % 2 == 0 ? "yes" : "no"), fragile, keep upright"),
            ]
            let text = JSONText.object(fields)
            length += text.utf8.count + 1
            lines.append(text)
        }
        return "[" + lines.joined(separator: ",") + "]"
    }
}

/// The event ids a service has handled, each with the place it was read from, for the last `capacity`
/// ids: an idempotent consumer's memory. A record whose id was handled at another place is a duplicate;
/// the same record read again at the same place (a step redone after a failure, from the committed
/// offsets) is not, since what it published then was never written.
struct HandledEventIDs: Sendable {
    struct Place: Hashable, Sendable {
        var topic: String
        var partition: Int32
        var offset: Int64
    }

    let capacity: Int
    private var places: [String: Place] = [:]
    private var order: [String] = []
    private var next = 0

    init(capacity: Int = 10_000) {
        self.capacity = max(1, capacity)
    }

    /// True when `id` was handled at a place other than `place`.
    func isDuplicate(_ id: String, at place: Place) -> Bool {
        guard let seen = places[id] else { return false }
        return seen != place
    }

    /// Remembers that `id` was handled at `place`, forgetting the oldest id beyond `capacity`
    /// (duplicates follow their original within a batch, so a bounded memory suffices).
    mutating func handled(_ id: String, at place: Place) {
        guard places[id] == nil else { return }
        if order.count < capacity {
            order.append(id)
        } else {
            places[order[next]] = nil
            order[next] = id
            next = (next + 1) % capacity
        }
        places[id] = place
    }
}
