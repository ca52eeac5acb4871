import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The dashboard's UI: every pass (keys, reducer, render, terminal writes) runs on one thread of its own.
///
/// Swift's main actor would not do on Linux: the process's main thread parks in `dispatch_main`, and the
/// main queue is drained by whichever libdispatch worker is free, the same workers that run background
/// tasks. A thread that moves cannot be kept ahead of the others; this one can (``BackgroundPriority``),
/// and ncurses is only ever called from it.
@globalActor
public actor UIActor {
    /// The one instance.
    public static let shared = UIActor()

    /// Runs on the UI thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { UIThreadExecutor.shared.asUnownedSerialExecutor() }
}

/// A serial executor that runs its jobs in order on one dedicated thread, started on first use.
public final class UIThreadExecutor: SerialExecutor, Sendable {
    /// The executor ``UIActor`` runs on.
    public static let shared = UIThreadExecutor()

    private let jobs = Mutex(HandOverQueue<UnownedJob>())
    private let ready = DispatchSemaphore(value: 0)
    private let kernelID = Atomic<Int32>(0)
    private let started = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in run() }
        // Screens recurse little, but a deep reducer path must not find a small secondary-thread stack.
        thread.stackSize = 8 << 20
        thread.start()
        started.wait()
    }

    /// The UI thread's kernel thread id (Linux; 0 elsewhere): the one thread ``BackgroundPriority`` spares.
    public var threadID: Int32 { kernelID.load(ordering: .acquiring) }

    /// Queues `job` to run on the UI thread after those queued before it.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        ready.signal()
    }

    /// Called by the runtime when it cannot tell by itself: isolated means running on the UI thread.
    public func checkIsolated() {
        precondition(BackgroundPriority.currentThreadID() == threadID, "not on the evtop UI thread")
    }

    private func run() {
        // The name is the thread's own to set (Linux); it shows in `top -H` and debuggers.
        Thread.current.name = "evtop-ui"
        kernelID.store(BackgroundPriority.currentThreadID(), ordering: .releasing)
        started.signal()
        while true {
            ready.wait()
            // One semaphore count per job: take every job queued so far and consume the counts of all but the first.
            let batch = jobs.withLock { $0.takeAll() }
            for _ in batch.dropFirst() { ready.wait() }
            for job in batch { job.runSynchronously(on: asUnownedSerialExecutor()) }
        }
    }
}

/// Elements waiting for one consumer, handed over in batches. Each hand-over leaves an empty array
/// behind, so the next elements start a buffer sized by how many come, not by the largest batch so far.
///
/// Why not copy out and `removeAll(keepingCapacity: true)`: the copy shares the buffer, so the removal
/// allocates a new one as large as the old. Once a buffer is 128 KiB or more, ``HeapPolicy`` has glibc
/// map it on its own, glibc maps a page more than was asked for, and Swift counts all of it as capacity:
/// each hand-over asked for a buffer a page larger. The UI thread takes a batch about ten times a second,
/// and in the soak its buffers held 17 MB after 20 minutes, growing. (Exchanging two buffers and emptying
/// the one that was run did not help: in a release build the emptied batch was not uniquely referenced
/// either, and heaptrack saw the same allocation on every hand-over.)
struct HandOverQueue<Element> {
    private var waiting: [Element] = []

    /// Queues `element` after those queued before it.
    mutating func append(_ element: Element) { waiting.append(element) }

    /// Every waiting element, in order; the queue is then empty, with no buffer of its own.
    mutating func takeAll() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &waiting)
        return taken
    }

    /// The waiting buffer's capacity (tests).
    var capacity: Int { waiting.capacity }
}

extension HandOverQueue: Sendable where Element: Sendable {}

/// The dashboard's UI thread ahead of its background work. Indexing, polling, reading pages, the OTLP
/// receiver and librdkafka's own threads all run on other threads; on a machine with few cores they would
/// share the CPU evenly with the thread that draws, and a frame of 5 ms of work would take 50 ms to finish.
/// Lowering their scheduling priority (nice) lets the UI thread run as soon as it wakes, while the
/// background work still gets every cycle the UI does not want.
///
/// Linux only (elsewhere it does nothing): every thread of the process but the UI thread and the main one
/// (parked) is set to ``niceness`` when it is below it. Threads are made later (a pool that grows, a new
/// broker connection), so the dashboard calls ``lowerOthers(sparing:)`` again on each tick; it costs a
/// directory listing and a system call or two a thread. Lowering needs no privilege, and nothing is raised.
enum BackgroundPriority {
    /// The niceness background threads get: the scheduler then weighs them at about a tenth of a nice-0 thread.
    static let niceness: Int32 = 10

    /// Lowers every thread but the main one and `spared` to ``niceness``; returns how many it changed.
    @discardableResult
    static func lowerOthers(sparing spared: Int32) -> Int {
        #if os(Linux)
        let main = getpid()
        var changed = 0
        for tid in threadIDs() where tid != main && tid != spared {
            guard let current = niceness(ofThread: tid) else { continue }
            if current < niceness, setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), niceness) == 0 { changed += 1 }
        }
        return changed
        #else
        return 0
        #endif
    }

    /// The kernel ids of this process's threads (Linux; none elsewhere, or when `/proc` cannot be read).
    static func threadIDs() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []).compactMap { Int32($0) }
    }

    /// The niceness of thread `tid` (Linux), nil when it cannot be read.
    static func niceness(ofThread tid: Int32) -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid))
        // -1 is a niceness as well as the error value: errno tells them apart.
        return value == -1 && errno != 0 ? nil : value
        #else
        return nil
        #endif
    }

    /// The calling thread's kernel id (Linux; 0 elsewhere).
    static func currentThreadID() -> Int32 {
        #if os(Linux)
        // gettid(3) is behind _GNU_SOURCE, which Swift's Glibc does not define; /proc names the thread too.
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
        return Int32(link.split(separator: "/").last ?? "") ?? 0
        #else
        return 0
        #endif
    }
}
