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
}
