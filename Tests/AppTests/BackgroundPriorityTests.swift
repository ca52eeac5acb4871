import XCTest
import Foundation
import Synchronization
@testable import App
#if canImport(Glibc)
import Glibc
#endif

/// The dashboard's background threads run below its UI (main) thread.
final class BackgroundPriorityTests: XCTestCase {
    func testEveryThreadButTheMainOneIsLoweredAndNothingIsRaised() throws {
        #if os(Linux)
        let tid = Mutex<Int32>(0)
        let done = DispatchSemaphore(value: 0)
        let go = DispatchSemaphore(value: 0)
        let thread = Thread {
            // /proc/thread-self names the calling thread: `PID/task/TID`.
            let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
            tid.withLock { $0 = Int32(link.split(separator: "/").last ?? "") ?? 0 }
            go.signal()
            done.wait()
        }
        thread.start()
        go.wait()
        defer { done.signal() }
        let worker = tid.withLock { $0 }
        let mainBefore = try XCTUnwrap(BackgroundPriority.niceness(ofThread: getpid()))
        XCTAssertLessThan(try XCTUnwrap(BackgroundPriority.niceness(ofThread: worker)), BackgroundPriority.niceness)
        XCTAssertGreaterThan(BackgroundPriority.lowerOthers(), 0)
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: worker), BackgroundPriority.niceness)
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: getpid()), mainBefore, "the UI thread keeps its priority")
        // Already low: left alone (a thread someone set lower still is never raised).
        XCTAssertEqual(setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(worker), 15), 0)
        BackgroundPriority.lowerOthers()
        XCTAssertEqual(BackgroundPriority.niceness(ofThread: worker), 15)
        #else
        throw XCTSkip("thread priorities are set on Linux only")
        #endif
    }
}
