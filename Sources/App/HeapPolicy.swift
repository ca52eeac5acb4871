#if canImport(Glibc)
import Glibc
#endif

/// How a process that runs for hours (the dashboard, `demo`, `collect`) uses glibc's heap.
///
/// glibc gives each thread that meets a busy heap an arena of its own, up to eight per core, and memory
/// freed in an arena stays with it for that arena's next allocations. A process whose work moves between
/// threads (Swift's cooperative pool, SQLite's and libdispatch's queues, NIO's event loops) then holds
/// every arena's high-water mark at once: the soak saw the dashboard's resident memory swing between 75 and
/// 200 MB with no growth of what it keeps; with two arenas, between 64 and 139 MB (median 98–112). Two arenas
/// suit evtop's few busy threads; allocations of 128 KiB and more (record batches, decoded spans) are
/// mapped on their own and given back when freed, instead of raising the heap's trim threshold.
enum HeapPolicy {
    #if canImport(Glibc)
    private typealias MallOpt = @convention(c) (Int32, Int32) -> Int32
    /// Found at run time: the Glibc module does not export `mallopt`.
    private static let mallopt: MallOpt? = {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "mallopt") else { return nil }
        return unsafeBitCast(symbol, to: MallOpt.self)
    }()
    /// `<malloc.h>`'s parameter numbers.
    private static let arenaMax: Int32 = -8, mmapThreshold: Int32 = -3
    #endif

    /// Arenas a long-running process uses at most.
    static let arenas: Int32 = 2
    /// Allocations at least this large are mapped on their own (a fixed threshold: glibc's moving one
    /// rises with each large block freed, and with it how much freed memory the heap keeps).
    static let mappedFrom: Int32 = 128 * 1024

    /// Applies the policy; call first thing in a long-running command. Arenas made before (the few threads
    /// that started with the runtime) stay; the threads that do the work (SQLite, NIO, the indexer) start
    /// after. Elsewhere than glibc, nothing.
    static func forLongRunning() {
        #if canImport(Glibc)
        guard let mallopt else { return }
        _ = mallopt(arenaMax, arenas)
        _ = mallopt(mmapThreshold, mappedFrom)
        #endif
    }
}
