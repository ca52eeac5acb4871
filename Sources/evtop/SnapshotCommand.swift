import Foundation
import ArgumentParser
import EventModel
import Dashboard
import TerminalUI

/// `evtop snapshot`: one rendered screen as plain text.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print one rendered dashboard screen as plain text."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("View to render: topics, lag, partitions:TOPIC, group:GROUP, sagas or saga:ID.", valueName: "view"))
    var view: String = "topics"

    @Option(name: .long, help: "Screen width in columns.")
    var width: Int = 100

    @Option(name: .long, help: "Screen height in rows.")
    var height: Int = 30

    @Option(name: .long, help: ArgumentHelp("Seconds between the two samples rates are computed from.", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard (1...1000).contains(width), (1...1000).contains(height) else {
            throw ValidationError("--width and --height must be between 1 and 1000")
        }
        guard interval >= 0, interval <= 3600 else { throw ValidationError("--interval must be between 0 and 3600 seconds") }
    }

    func run() async throws {
        let resolved = try source.resolve()
        let log = try SourceFactory.open(resolved.url, readOnly: true, create: false, kafka: source.kafkaOptions(resolved.context, groups: view.hasPrefix("group:") ? [String(view.dropFirst("group:".count))] : []))
        var state = AppState.initial(source: log.sourceDescription, context: resolved.context,
                                     size: Size(width: width, height: height), readOnly: true, theme: "default")
        switch view {
        case "topics": state.view = .topics
        case "lag": state.view = .lag
        case let v where v.hasPrefix("partitions:"): state.view = .partitions(topic: String(v.dropFirst("partitions:".count)))
        case let v where v.hasPrefix("group:"): state.view = .groupPartitions(group: String(v.dropFirst("group:".count)))
        case "sagas": state.view = .sagas
        case let v where v.hasPrefix("saga:"): state.view = .sagaTimeline(id: String(v.dropFirst("saga:".count)))
        default: throw ValidationError("unknown view '\(view)' (this build renders: topics, lag, partitions:TOPIC, group:GROUP, sagas, saga:ID)")
        }
        state = try await Sampling.sampledState(log: log, interval: interval, state: state)
        switch state.view {
        case .sagas, .sagaTimeline:
            // The same loads the dashboard makes, done here in line.
            let assembler = try SagaSetup.assembler(context: resolved.context, configPath: resolved.config?.path)
            let sagas = SagaLoader.make(log: log, url: resolved.url, readOnly: source.readOnly, assembler: assembler,
                                        traces: log as? any TraceStore, clusterID: await SourceFiles.clusterID(of: log))
            try await sagas.catchUpFully()
            if case .sagaTimeline(let id) = state.view {
                Reducer.reduce(&state, .sagaLoaded(try await sagas.timeline(id: id, now: state.now), note: sagas.note))
            } else {
                Reducer.reduce(&state, .sagasLoaded(try await sagas.recent(limit: SagaModel.maxListRows, now: state.now), note: sagas.note))
            }
        default:
            break
        }
        print(Screen.render(state, theme: Theme.fallback).plainText)
    }
}
