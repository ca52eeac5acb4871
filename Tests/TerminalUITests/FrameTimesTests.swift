import TerminalUI
import XCTest

final class FrameTimesTests: XCTestCase {
    func testPercentilesComeFromTheHistogramAndTheSlowestFrameIsExact() {
        var times = FrameTimes()
        XCTAssertNil(times.percentile(0.99))
        XCTAssertEqual(times.summary, "no frames")
        for _ in 0..<98 { times.record(millis: 1.04) }
        times.record(millis: 12.3)
        times.record(millis: 250)  // past the last bucket: only the maximum says how slow
        XCTAssertEqual(times.count, 100)
        XCTAssertEqual(times.percentile(0.5), 1.1)
        XCTAssertEqual(times.percentile(0.99) ?? 0, 12.4, accuracy: 1e-9)
        XCTAssertEqual(times.percentile(1), 250)
        XCTAssertEqual(times.maxMillis, 250)
        XCTAssertEqual(times.summary, "100 frames: p50 1.1 ms, p99 12.4 ms, max 250.0 ms")
        times.record(millis: .nan)
        times.record(millis: -1)
        XCTAssertEqual(times.count, 100, "nonsense durations are not frames")
    }

    func testAProfileSaysWhereTheFramesTimeWent() {
        var profile = FrameProfile()
        XCTAssertEqual(profile.summary, "no frames")
        profile.record(total: 20, update: 1, render: 3, write: 16, cpu: 4.04)
        profile.record(total: 2, update: 0.2, render: 0.5, write: 1.3, cpu: 2)
        XCTAssertEqual(profile.count, 2)
        XCTAssertEqual(profile.summary, "2 frames: p50 2.1 ms, p99 20.0 ms, max 20.0 ms (update p50 0.3 / p99 1.0 ms, "
                       + "render p50 0.6 / p99 3.0 ms, write p50 1.4 / p99 16.0 ms, on CPU p50 2.1 / p99 4.0 ms)",
                       "each part to its 0.1 ms bucket's upper edge, never past its slowest")
        let before = FrameProfile.threadCPUMillis()
        var x = 0.0
        for i in 0..<2_000_000 { x += Double(i).squareRoot() }
        XCTAssertGreaterThan(x, 0)
        XCTAssertGreaterThan(FrameProfile.threadCPUMillis(), before, "the thread's CPU clock moves while it works")
    }
}
