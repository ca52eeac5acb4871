import ArgumentParser
import EventModel
import App

/// `evtop doctor`: the insights rules over a live source, with a status exit code.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check how the event flows are built: duplicates, missing ids, schema drift, poison loops, hot partitions, …",
        discussion: """
        Samples the source's records for --window seconds and judges them, the consumer groups, the dead \
        letters and the sagas with the insights rules (docs/insights.md); prints each finding with why it \
        matters and the records that prove it. Exit status: 0 no finding at or above warning, 1 warnings, \
        2 errors, 3 nothing could be evaluated (bad source, no snapshot, no record sampled).
        """
    )

    @OptionGroup var source: SourceOptions

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Only this rule (repeatable): \(InsightRule.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "rule"))
    var rule: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out findings below this severity: info, warning or error.", valueName: "severity"))
    var minSeverity: String = "info"

    @Option(name: .long, help: ArgumentHelp("Seconds to sample before judging.", valueName: "seconds"))
    var window: Double = 10

    @Option(name: .long, help: ArgumentHelp("Seconds between samples.", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard window >= 0, window <= 3600 else { throw ValidationError("--window must be between 0 and 3600 seconds") }
        guard interval >= 0.05, interval <= 60 else { throw ValidationError("--interval must be between 0.05 and 60 seconds") }
        guard InsightSeverity(name: minSeverity) != nil else { throw ValidationError("--min-severity must be info, warning or error, not '\(minSeverity)'") }
        for r in rule where InsightRule(id: r) == nil {
            throw ValidationError("unknown rule '\(r)' (rules: \(InsightRule.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    func run() async throws {
        let options = DoctorReport.Options(window: window, interval: interval, rules: rule.compactMap(InsightRule.init(id:)),
                                           minimumSeverity: InsightSeverity(name: minSeverity) ?? .info, json: json)
        throw ExitCode(try await DoctorReport.run(source: source.selection(), options: options))
    }
}
