import ArgumentParser
import App
import Dashboard

/// `evtop snapshot`: one rendered screen as plain text.
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Print one rendered dashboard screen as plain text."
    )

    @OptionGroup var source: SourceOptions

    @Option(name: .long, help: ArgumentHelp("View to render: " + ViewRegistry.specForms.joined(separator: ", ") + ".", valueName: "view"))
    var view: String = "topics"

    @Option(name: .long, help: "Screen width in columns.")
    var width: Int = 100

    @Option(name: .long, help: "Screen height in rows.")
    var height: Int = 30

    @Option(name: .long, help: ArgumentHelp("Theme name (see themes/) or path to a theme YAML file, as for the dashboard.", valueName: "name|path"))
    var theme: String?

    @Option(name: .long, help: ArgumentHelp("Seconds between the two samples rates are computed from.", valueName: "seconds"))
    var interval: Double = 1

    func validate() throws {
        guard (1...1000).contains(width), (1...1000).contains(height) else {
            throw ValidationError("--width and --height must be between 1 and 1000")
        }
        guard interval >= 0, interval <= 3600 else { throw ValidationError("--interval must be between 0 and 3600 seconds") }
    }

    func run() async throws {
        let text: String
        do {
            text = try await SnapshotReport.render(source: source.selection(), view: view, width: width, height: height, interval: interval, theme: theme)
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
        print(text)
    }
}
