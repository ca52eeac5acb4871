import Foundation
import Yams
import EventModel
import Simulator

/// Parses saga definition YAML (docs/sagas.md) into `SagaDefinition`s, with file and line in every error.
///
/// ```yaml
/// sagas:
///   - name: OrderSaga
///     correlation: { header: correlation-id, jsonPointer: /correlationId }
///     timeout: 30s
///     steps:
///       - { name: authorize-payment, service: payment-service, topic: payments,
///           completedBy: [PaymentAuthorized], failedBy: [PaymentDeclined], compensatedBy: [PaymentRefunded] }
///     compensations: [{ event: PaymentRefunded, compensates: authorize-payment }]
///     terminal: { completed: [OrderShipped], compensated: [OrderCancelled], failed: [] }
/// ```
enum SagaDefinitionLoader {
    /// Definitions in a file.
    static func load(path: String) throws -> [SagaDefinition] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: nil, problem: "cannot read saga definitions: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    /// The demo's OrderSaga, always known.
    static let builtIn: [SagaDefinition] = (try? parse(DemoSaga.definitionYAML, file: "built-in OrderSaga")) ?? []

    /// Definitions from YAML text: a `sagas:` list, a bare list, or one saga mapping.
    static func parse(_ text: String, file: String) throws -> [SagaDefinition] {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw ConfigError(file: file, line: yamlLine(error), problem: "YAML syntax: \(error)")
        }
        guard let root = node else { return [] }
        var list: [Node]
        if let map = root.mapping, let sagas = map["sagas"] {
            guard let seq = sagas.sequence else { throw ConfigError(file: file, line: line(sagas), problem: "'sagas' must be a list") }
            list = Array(seq)
        } else if let seq = root.sequence {
            list = Array(seq)
        } else if root.mapping != nil {
            list = [root]
        } else {
            throw ConfigError(file: file, line: line(root), problem: "expected 'sagas:' with a list of saga definitions")
        }
        var names = Set<String>()
        return try list.map { n in
            let d = try saga(n, file)
            guard names.insert(d.name).inserted else {
                throw ConfigError(file: file, line: line(n), problem: "saga '\(d.name)' is defined twice")
            }
            return d
        }
    }

    private static func saga(_ node: Node, _ file: String) throws -> SagaDefinition {
        guard let map = node.mapping else { throw ConfigError(file: file, line: line(node), problem: "a saga definition must be a mapping") }
        var d = SagaDefinition(name: "", steps: [])
        var sawSteps = false
        for (k, v) in map {
            guard let key = k.string else { continue }
            switch key {
            case "name": d.name = try string(v, key, file)
            case "timeout": d.timeoutSeconds = try duration(v, file)
            case "correlation":
                guard let c = v.mapping else { throw ConfigError(file: file, line: line(v), problem: "'correlation' must be a mapping (header, jsonPointer)") }
                for (ck, cv) in c {
                    switch ck.string ?? "" {
                    case "header", "headers": d.correlationHeaders = try stringOrList(cv, "header", file)
                    case "jsonPointer", "jsonPointers", "pointer", "pointers":
                        d.correlationPointers = try stringOrList(cv, "jsonPointer", file)
                        for p in d.correlationPointers where JSONPointer(p) == nil {
                            throw ConfigError(file: file, line: line(cv), problem: CorrelationRuleError(pointer: p).description)
                        }
                    default:
                        throw ConfigError(file: file, line: line(ck), problem: "unknown key '\(ck.string ?? "?")' in correlation (expected header, jsonPointer)")
                    }
                }
            case "steps":
                sawSteps = true
                guard let seq = v.sequence else { throw ConfigError(file: file, line: line(v), problem: "'steps' must be a list") }
                d.steps = try seq.map { try step($0, file) }
            case "compensations":
                guard let seq = v.sequence else { throw ConfigError(file: file, line: line(v), problem: "'compensations' must be a list") }
                d.compensations = try seq.map { c in
                    guard let m = c.mapping, let event = m["event"]?.string, let target = m["compensates"]?.string else {
                        throw ConfigError(file: file, line: line(c), problem: "a compensation needs 'event' and 'compensates'")
                    }
                    return SagaDefinition.Compensation(event: event, compensates: target)
                }
            case "terminal":
                guard let t = v.mapping else { throw ConfigError(file: file, line: line(v), problem: "'terminal' must be a mapping (completed, compensated, failed)") }
                for (tk, tv) in t {
                    switch tk.string ?? "" {
                    case "completed": d.terminalCompleted = try stringOrList(tv, "completed", file)
                    case "compensated": d.terminalCompensated = try stringOrList(tv, "compensated", file)
                    case "failed": d.terminalFailed = try stringOrList(tv, "failed", file)
                    default:
                        throw ConfigError(file: file, line: line(tk), problem: "unknown key '\(tk.string ?? "?")' in terminal (expected completed, compensated, failed)")
                    }
                }
            default:
                throw ConfigError(file: file, line: line(k), problem: "unknown key '\(key)' in a saga (expected name, correlation, timeout, steps, compensations, terminal)")
            }
        }
        guard !d.name.isEmpty else { throw ConfigError(file: file, line: line(node), problem: "a saga definition needs a 'name'") }
        guard sawSteps, !d.steps.isEmpty else { throw ConfigError(file: file, line: line(node), problem: "saga '\(d.name)' has no steps") }
        let stepNames = Set(d.steps.map(\.name))
        for c in d.compensations where !stepNames.contains(c.compensates) {
            throw ConfigError(file: file, line: line(node), problem: "saga '\(d.name)': compensation \(c.event) names no step '\(c.compensates)'")
        }
        return d
    }

    private static func step(_ node: Node, _ file: String) throws -> SagaDefinition.Step {
        guard let map = node.mapping else { throw ConfigError(file: file, line: line(node), problem: "a step must be a mapping") }
        var s = SagaDefinition.Step(name: "")
        for (k, v) in map {
            guard let key = k.string else { continue }
            switch key {
            case "name": s.name = try string(v, key, file)
            case "service": s.service = try string(v, key, file)
            case "topic": s.topic = try string(v, key, file)
            case "completedBy": s.completedBy = try stringOrList(v, key, file)
            case "failedBy": s.failedBy = try stringOrList(v, key, file)
            case "compensatedBy": s.compensatedBy = try stringOrList(v, key, file)
            default:
                throw ConfigError(file: file, line: line(k), problem: "unknown key '\(key)' in a step (expected name, service, topic, completedBy, failedBy, compensatedBy)")
            }
        }
        guard !s.name.isEmpty else { throw ConfigError(file: file, line: line(node), problem: "a step needs a 'name'") }
        return s
    }

    /// `30s`, `2m`, `1h`, `500ms` or a number of seconds.
    static func duration(_ node: Node, _ file: String) throws -> Double {
        let text = try string(node, "timeout", file).trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let v = Double(text.dropLast(suffix.count)), v > 0, v.isFinite { return v * factor }
        }
        if let v = Double(text), v > 0, v.isFinite { return v }
        throw ConfigError(file: file, line: line(node), problem: "'timeout' must be a positive duration such as 30s, 2m or 1h (got '\(text)')")
    }

    private static func string(_ node: Node, _ key: String, _ file: String) throws -> String {
        guard let s = node.scalar?.string else { throw ConfigError(file: file, line: line(node), problem: "'\(key)' must be a single value") }
        return s
    }

    private static func stringOrList(_ node: Node, _ key: String, _ file: String) throws -> [String] {
        if let s = node.scalar?.string { return [s] }
        guard let seq = node.sequence else { throw ConfigError(file: file, line: line(node), problem: "'\(key)' must be a list of event types") }
        return try seq.map { try string($0, key, file) }
    }

    private static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }
}

/// The sagas setup of a context: correlation rules and definitions (config files plus the built-in OrderSaga).
enum SagaSetup {
    /// Rules and definitions for `context` (relative definition paths are relative to the config file).
    static func assembler(context: ContextConfig?, configPath: String?) throws -> SagaAssembler {
        var definitions: [SagaDefinition] = []
        let base = configPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? FileManager.default.currentDirectoryPath
        for file in context?.sagaFiles ?? [] {
            let expanded = Paths.expand(file)
            let path = expanded.hasPrefix("/") ? expanded : base + "/" + expanded
            definitions += try SagaDefinitionLoader.load(path: path)
        }
        for d in SagaDefinitionLoader.builtIn where !definitions.contains(where: { $0.name == d.name }) {
            definitions.append(d)
        }
        var rules: CorrelationRules
        do {
            rules = try CorrelationRules.configured(headers: context?.correlationHeaders, pointers: context?.correlationPointers)
        } catch let error as CorrelationRuleError {
            throw ConfigError(file: configPath ?? "config.yaml", line: nil, problem: "context '\(context?.name ?? "?")': \(error)")
        }
        // A definition's own correlation places are tried after the context's.
        let spanRules = rules.correlation.filter { if case .spanAttribute = $0 { return true }; return false }
        var recordRules = rules.correlation.filter { if case .spanAttribute = $0 { return false }; return true }
        for d in definitions {
            for h in d.correlationHeaders where !recordRules.contains(.header(h)) { recordRules.append(.header(h)) }
            for p in d.correlationPointers {
                if let pointer = JSONPointer(p), !recordRules.contains(.jsonPointer(pointer)) { recordRules.append(.jsonPointer(pointer)) }
            }
        }
        rules.correlation = recordRules + spanRules
        var dlq = DeadLetterTopics()
        if let patterns = context?.deadLetterPatterns { dlq = DeadLetterTopics(patterns: patterns) }
        return SagaAssembler(rules: rules, definitions: definitions, deadLetterTopics: dlq)
    }
}
