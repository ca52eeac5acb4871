import Foundation
import XCTest
@testable import Dashboard
import EventModel
import TerminalUI

/// A recording played back: the keys that move its clock, the state rebuilt from the recorded
/// snapshots at each move, a clock the wall clock does not move, and `:record`'s arguments.
final class PlaybackTests: XCTestCase {
    private let start = Fixtures.end.addingTimeInterval(-300)

    private func recordingState(clock: Date? = nil) -> AppState {
        var state = AppState(source: "file:/tmp/incident.evtop", now: Fixtures.end, size: Size(width: 120, height: 30))
        state.playback = PlaybackState(start: start, end: Fixtures.end, clock: clock ?? Fixtures.end)
        state.readOnly = true
        return state
    }

    private func history(through t: Double, seconds: Double = 120) -> [BrokerSnapshot] {
        stride(from: t - seconds, through: t, by: 1).filter { $0 >= -300 }.map { Fixtures.snapshot(at: $0) }
    }

    func testTheKeysMoveTheClockByTheirStepWithinTheRecording() {
        var state = recordingState()
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("["))), [.movePlayback(to: Fixtures.end.addingTimeInterval(-10))])
        // Keys pressed before the answer add up: the clock moved at once.
        XCTAssertEqual(state.playback?.clock, Fixtures.end.addingTimeInterval(-10))
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("{"))), [.movePlayback(to: Fixtures.end.addingTimeInterval(-70))])
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("}"))), [.movePlayback(to: Fixtures.end.addingTimeInterval(-10))])
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("]"))), [.movePlayback(to: Fixtures.end)])
        // At the end, on goes nowhere and says why.
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("]"))), [])
        XCTAssertEqual(state.message?.text, "at the recording's end")
        // Near the start, back stops at it.
        state = recordingState(clock: start.addingTimeInterval(30))
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("{"))), [.movePlayback(to: start)])
        XCTAssertEqual(Reducer.reduce(&state, .key(.char("}"))), [.movePlayback(to: start.addingTimeInterval(60))])
        // A live source has no clock to move.
        var live = Fixtures.liveState(width: 120, height: 30)
        XCTAssertEqual(Reducer.reduce(&live, .key(.char("["))), [])
        XCTAssertTrue(live.message?.text.contains("evtop --broker file:") == true, "\(String(describing: live.message))")
    }

    func testAMoveRebuildsTheFiguresFromTheSnapshotsUpToTheClock() throws {
        var state = recordingState()
        Reducer.reduce(&state, .playbackMoved(clock: Fixtures.end, snapshots: history(through: 0)))
        XCTAssertEqual(state.now, Fixtures.end)
        XCTAssertEqual(state.snapshot?.time, Fixtures.end)
        let rateAtEnd = try XCTUnwrap(state.meter.rates(topic: "orders").perSecond10)

        // Back two minutes: the figures are those of that moment, not the end's, whatever came before.
        let back = Fixtures.end.addingTimeInterval(-120)
        Reducer.reduce(&state, .playbackMoved(clock: back, snapshots: history(through: -120)))
        XCTAssertEqual(state.playback?.clock, back)
        XCTAssertEqual(state.now, back)
        XCTAssertEqual(state.snapshot?.time, back)
        XCTAssertEqual(state.snapshot?.topics.first { $0.name == "orders" }?.partitions.first?.high, Fixtures.high("orders", 0, -120))
        let rateThen = try XCTUnwrap(state.meter.rates(topic: "orders").perSecond10)
        var fresh = recordingState(clock: back)
        Reducer.reduce(&fresh, .playbackMoved(clock: back, snapshots: history(through: -120)))
        XCTAssertEqual(rateThen, try XCTUnwrap(fresh.meter.rates(topic: "orders").perSecond10), accuracy: 1e-9,
                       "no sample of the later moment is left in the meter")
        XCTAssertNotEqual(rateThen, rateAtEnd, accuracy: 0.5, "the fixture's rate differs between the two moments")
        XCTAssertEqual(state.groupLags.map(\.id).sorted(), fresh.groupLags.map(\.id).sorted())
        XCTAssertEqual(state.groupLags.map(\.totalLag), fresh.groupLags.map(\.totalLag))

        // The wall clock ticking does not move a recording's moment, and the header says where it stands.
        Reducer.reduce(&state, .tick(Date()))
        XCTAssertEqual(state.now, back)
        let header = Screen.render(state, theme: .fallback).plainText.split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(header.contains("recorded 2026-11-27 · −2m 0s of 5m 0s"), header)
        XCTAssertTrue(header.contains(Clock.hms(back, utcOffsetSeconds: 0)), header)
    }

    func testAStatusMessageExpiresByTheWallClockWhileTheRecordingsClockStandsStill() {
        var state = recordingState()
        let wall = Date()
        Reducer.reduce(&state, .tick(wall))
        Reducer.reduce(&state, .key(.char("]")))
        XCTAssertNotNil(state.message)
        Reducer.reduce(&state, .tick(wall.addingTimeInterval(1)))
        XCTAssertNotNil(state.message, "a message stays its few seconds")
        Reducer.reduce(&state, .tick(wall.addingTimeInterval(10)))
        XCTAssertNil(state.message, "and goes, though the recording's clock did not move")
    }

    func testRecordCommandArguments() {
        var state = Fixtures.liveState(width: 120, height: 30)
        func run(_ command: String) -> [Effect] {
            Reducer.reduce(&state, .key(.char(":")))
            for c in command { Reducer.reduce(&state, .key(.char(c))) }
            return Reducer.reduce(&state, .key(.enter))
        }
        XCTAssertEqual(run("record"), [])
        XCTAssertTrue(state.message?.text.hasPrefix("usage: :record FILE") == true, "\(String(describing: state.message))")
        XCTAssertEqual(run("record stop"), [])
        XCTAssertEqual(state.message?.text, "no recording runs")
        XCTAssertEqual(run("record out.evtop 5x"), [])
        XCTAssertTrue(state.message?.text.contains("5x is not a duration") == true, "\(String(describing: state.message))")
        XCTAssertNil(state.recording)
        XCTAssertEqual(run("record out.evtop 5m"), [.startRecording(path: "out.evtop", duration: 300)])
        XCTAssertEqual(state.recording, RecordingBadge(path: "out.evtop"))
        XCTAssertTrue(Screen.render(state, theme: .fallback).plainText.contains("⏺ REC"))
        XCTAssertEqual(run("record other.evtop"), [], "one recording at a time")
        XCTAssertEqual(run("record stop"), [.stopRecording])
        Reducer.reduce(&state, .recordingUpdated(elapsed: nil, finished: "recorded out.evtop: …", isError: false))
        XCTAssertNil(state.recording)
        XCTAssertEqual(state.message?.text, "recorded out.evtop: …")
        // A recording cannot be recorded.
        var playback = recordingState()
        Reducer.reduce(&playback, .key(.char(":")))
        for c in "record again.evtop" { Reducer.reduce(&playback, .key(.char(c))) }
        XCTAssertEqual(Reducer.reduce(&playback, .key(.enter)), [])
        XCTAssertTrue(playback.message?.text.contains("a recording already") == true)
    }
}
