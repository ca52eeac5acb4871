/// A bounded map of the entries used lately: two generations of at most `generation` entries each. A
/// lookup that finds an entry in the older generation moves it to the newer; when the newer is full it
/// becomes the older and the older is dropped. Each generation's storage is allocated at full size when it
/// starts, so the memory a long-running process holds for it is the same from the first minutes on
/// (a map grown by doubling up to a large cap holds its largest table, and the one before while it moves).
struct RecentCache<Key: Hashable, Value> {
    /// Entries a generation holds at most.
    let generation: Int
    private var newer: [Key: Value]
    private var older: [Key: Value] = [:]

    init(generation: Int) {
        self.generation = max(1, generation)
        newer = Dictionary(minimumCapacity: self.generation)
    }

    /// The value of `key`, if it was used in this generation or the one before.
    mutating func value(_ key: Key) -> Value? {
        if let value = newer[key] { return value }
        guard let value = older.removeValue(forKey: key) else { return nil }
        insert(key, value)
        return value
    }

    mutating func insert(_ key: Key, _ value: Value) {
        if newer.count >= generation {
            older = newer
            newer = Dictionary(minimumCapacity: generation)
        }
        newer[key] = value
    }

    mutating func removeAll() {
        newer.removeAll(keepingCapacity: true)
        older = [:]
    }

    /// Entries held (both generations; an entry is in one of them only).
    var count: Int { newer.count + older.count }
}
