import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The dashboard's UI thread ahead of its background work. Indexing, polling, reading pages, the OTLP
/// receiver and librdkafka's own threads all run on threads other than the main one; on a machine with
/// few cores they would share the CPU evenly with the thread that draws, and a frame of 5 ms of work would
/// take 50 ms to finish. Lowering their scheduling priority (nice) lets the UI thread run as soon as it
/// wakes, while the background work still gets every cycle the UI does not want.
///
/// Linux only (elsewhere it does nothing): every thread of the process but the main one is set to
/// ``niceness`` when it is below it. Threads are made later (a pool that grows, a new broker connection),
/// so the dashboard calls ``lowerOthers()`` again on each tick; it costs a directory listing and a system
/// call or two a thread. Lowering needs no privilege, and nothing is ever raised.
enum BackgroundPriority {
    /// The niceness background threads get: CFS then weighs them at about a tenth of a nice-0 thread.
    static let niceness: Int32 = 10

    /// Lowers every thread but the main one to ``niceness``; returns how many it changed.
    @discardableResult
    static func lowerOthers() -> Int {
        #if os(Linux)
        let main = getpid()
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
        var changed = 0
        for name in tasks {
            guard let tid = Int32(name), tid != main else { continue }
            errno = 0
            let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid))
            // -1 is a niceness as well as the error value: errno tells them apart.
            if current == -1, errno != 0 { continue }
            if current < niceness, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), niceness) == 0 { changed += 1 }
        }
        return changed
        #else
        return 0
        #endif
    }

    /// The niceness of thread `tid` (Linux), nil when it cannot be read.
    static func niceness(ofThread tid: Int32) -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid))
        return value == -1 && errno != 0 ? nil : value
        #else
        return nil
        #endif
    }
}
