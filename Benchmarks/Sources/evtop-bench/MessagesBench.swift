import Dashboard
import EventModel
import EvtopBenchSupport
import Foundation
import TerminalUI

/// The messages view tailing a topic at 200×60: every pass takes in a page of 200 new records (the reducer,
/// as the performer's answer arrives), draws the screen and diffs it against the last frame. This is the
/// frame a tail at any rate costs the UI thread: the read itself runs off it. Records are made and
/// extracted (`MessageRow`, as the performer does off the UI thread) outside the timed region.
enum MessagesBench {
    static func run(iterations: Int) {
        let clock = ContinuousClock()
        let size = Size(width: 200, height: 60)
        let topic = StoreWorkload.topic
        var state = TopicsWorkload(topics: 200).state(size: size, ticks: 2)
        state.view = MessagesModel.view(topic: topic, partition: nil)
        var now = Date(timeIntervalSince1970: 1_800_000_000)
        var sequence = 0
        var pending: [Effect] = []
        var highs: [Int32: LogPosition] = [:]
        /// Answers the read the view asks for (if any) with the next `count` records, and returns the time the
        /// reducer took.
        func answer(_ effects: [Effect], count: Int) -> Duration? {
            for case .readMessages(let read) in effects {
                let records = StoreWorkload.records(first: sequence, count: count).enumerated().map { i, r in
                    let partition = Int32((sequence + i) % Int(StoreWorkload.partitions))
                    let offset = highs[partition, default: 0]
                    highs[partition] = offset + 1
                    return Record(topic: topic, partition: partition, offset: offset, timestampMillis: r.timestampMillis,
                                  key: r.key, headers: r.headers, value: r.value)
                }
                sequence += count
                let rows = records.map { MessageRow($0, rules: .default) }
                let ordered = read.request.direction == .older ? rows.reversed() : rows
                let lows = Dictionary(uniqueKeysWithValues: highs.keys.map { ($0, LogPosition(0)) })
                // Ten times as many arrived as were read: the tail jumps on and counts them.
                let ahead = highs.mapValues { $0 + LogPosition(count) }
                let loaded = MessagesLoaded(serial: read.request.serial, direction: read.request.direction, rows: Array(ordered),
                                            positions: highs, start: read.seek == nil ? nil : lows, lows: lows, highs: ahead,
                                            scanned: count, exhausted: false, stoppedEarly: false)
                let t0 = clock.now
                // The next read may be asked for at once (the reducer plans loads after every action).
                pending += Reducer.reduce(&state, .messagesRead(loaded))
                return clock.now - t0
            }
            return nil
        }
        _ = answer(Reducer.reduce(&state, .tick(now)), count: MessagesModel.pageRows)
        pending += Reducer.reduce(&state, .key(.char("f")))
        var previous = Screen.render(state, theme: Theme.fallback)
        var update: [Duration] = [], render: [Duration] = [], diff: [Duration] = [], total: [Duration] = []
        var changed: [Int] = []
        let warmup = max(5, iterations / 10)
        var i = 0
        while update.count < iterations {
            now += 0.5
            let asked = pending + Reducer.reduce(&state, .tick(now))
            pending = []
            guard let took = answer(asked, count: MessagesModel.pageRows) else {
                if i > 1_000 { fatalError("the messages view asks for no read while tailing: \(state.viewStates[MessagesState.self])") }
                i += 1
                continue
            }
            let frame = timedFrame(state, after: &previous)
            i += 1
            if i > warmup {
                update.append(took); render.append(frame.render); diff.append(frame.diff); total.append(took + frame.render + frame.diff)
                changed.append(frame.changed)
            }
        }
        let rows = state.viewStates[MessagesState.self].rows.count
        let t = Stats(total)
        print("messages screen 200x60, tailing (\(MessagesModel.pageRows) new records a frame, \(grouped(rows)) rows kept): "
            + "update+render+diff \(ms(t.median)) median, \(ms(t.p95)) p95 (update \(ms(Stats(update).median)), "
            + "render \(ms(Stats(render).median)), diff \(ms(Stats(diff).median)), "
            + "\(grouped(changed.sorted()[changed.count / 2])) cells changed; n=\(iterations))")
    }
}

/// One frame drawn with the product's `Screen.render`, then diffed against `previous` (which it becomes):
/// how long each took and how many cells changed.
func timedFrame(_ state: AppState, after previous: inout ScreenBuffer) -> (render: Duration, diff: Duration, changed: Int) {
    let clock = ContinuousClock()
    let t0 = clock.now
    let buffer = Screen.render(state, theme: Theme.fallback)
    let t1 = clock.now
    let updates = buffer.diff(from: previous)
    let t2 = clock.now
    sink &+= updates.count
    previous = buffer
    return (t1 - t0, t2 - t1, updates.count)
}
