import Foundation
import Yams
import EventModel

/// One named place to attach to, as in kubectl contexts.
struct ContextConfig: Sendable, Equatable {
    var name: String
    var broker: String?
    var properties: [String: String] = [:]
    var deadLetterPatterns: [String]?
    var correlationHeaders: [String]?
    var correlationPointers: [String]?
    /// Saga definition files (YAML), relative to the config file.
    var sagaFiles: [String] = []
    var groups: [String] = []
    /// The theme while this context is in use (`--theme` wins over it, and it wins over the file's `theme:`).
    var theme: String?
    /// Thresholds, disabled rules and suppressions of the insights rules (`insights:`).
    var insights: InsightSettings?
}

/// `$XDG_CONFIG_HOME/evtop/config.yaml`.
struct ConfigFile: Sendable, Equatable {
    /// Where the config was read from (for error messages).
    var path = "config.yaml"
    var defaultContext: String?
    var theme: String?
    var contexts: [ContextConfig] = []

    /// The context named `name`, or the default one, or nil when there is none.
    func context(named name: String?) throws -> ContextConfig? {
        if let name {
            guard let c = contexts.first(where: { $0.name == name }) else {
                let known = contexts.map(\.name).joined(separator: ", ")
                throw ConfigError(file: path, line: nil, problem: "no context named '\(name)'" + (known.isEmpty ? " (the config defines none)" : " (known: \(known))"))
            }
            return c
        }
        if let d = defaultContext { return contexts.first { $0.name == d } }
        return contexts.count == 1 ? contexts[0] : nil
    }
}

/// A config problem, pointing at the file and line.
struct ConfigError: Error, CustomStringConvertible {
    var file: String
    var line: Int?
    var problem: String
    var description: String { "\(file)\(line.map { ":\($0)" } ?? ""): \(problem)" }
}

/// Parses the config from YAML text, with line numbers in every error.
enum ConfigParser {
    static func load(path: String) throws -> ConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: nil, problem: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    static func parse(_ text: String, file: String) throws -> ConfigFile {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch let error as YamlError {
            throw ConfigError(file: file, line: yamlLine(error), problem: "YAML syntax: \(yamlProblem(error))")
        }
        guard let root = node else { return ConfigFile() }
        guard let map = root.mapping else { throw ConfigError(file: file, line: line(root), problem: "expected a mapping at the top level") }
        var config = ConfigFile()
        config.path = file
        for (k, v) in map {
            guard let key = k.string else { continue }
            switch key {
            case "default-context": config.defaultContext = try string(v, key, file)
            case "theme": config.theme = try string(v, key, file)
            case "contexts":
                guard let contexts = v.mapping else {
                    throw ConfigError(file: file, line: line(v), problem: "'contexts' must map context names to settings")
                }
                for (nameNode, body) in contexts {
                    guard let name = nameNode.string else { continue }
                    config.contexts.append(try context(name: name, body, file))
                }
            default:
                throw ConfigError(file: file, line: line(k), problem: "unknown key '\(key)' (expected default-context, theme, contexts)")
            }
        }
        if let d = config.defaultContext, !config.contexts.contains(where: { $0.name == d }) {
            throw ConfigError(file: file, line: lineOfKey("default-context", in: text), problem: "default-context '\(d)' is not among the contexts")
        }
        return config
    }

    private static func context(name: String, _ node: Node, _ file: String) throws -> ContextConfig {
        guard let map = node.mapping else { throw ConfigError(file: file, line: line(node), problem: "context '\(name)' must be a mapping") }
        var c = ContextConfig(name: name)
        for (k, v) in map {
            guard let key = k.string else { continue }
            switch key {
            case "broker": c.broker = try string(v, key, file)
            case "properties":
                guard let props = v.mapping else { throw ConfigError(file: file, line: line(v), problem: "'properties' must be a mapping of librdkafka settings") }
                for (pk, pv) in props {
                    guard let pkey = pk.string else { continue }
                    c.properties[pkey] = try string(pv, pkey, file)
                }
            case "management": c.properties[SourceSettings.managementKey] = try string(v, key, file)
            case "tap":
                // RabbitMQ: the exchanges the tap binds to (a list, or one name).
                let names = v.sequence != nil ? try strings(v, key, file) : [try string(v, key, file)]
                c.properties[SourceSettings.tapKey] = names.joined(separator: ",")
            case "dlq-patterns": c.deadLetterPatterns = try strings(v, key, file)
            case "correlation-headers": c.correlationHeaders = try strings(v, key, file)
            case "correlation-pointers":
                c.correlationPointers = try strings(v, key, file)
                for p in c.correlationPointers ?? [] where JSONPointer(p) == nil {
                    throw ConfigError(file: file, line: line(v), problem: CorrelationRuleError(pointer: p).description)
                }
            case "groups": c.groups = try strings(v, key, file)
            case "correlation":
                // The same rules as one section: { headers: [...], pointers: [...] }.
                guard let section = v.mapping else { throw ConfigError(file: file, line: line(v), problem: "'correlation' must be a mapping with headers and/or pointers") }
                for (ck, cv) in section {
                    switch ck.string ?? "" {
                    case "headers": c.correlationHeaders = try strings(cv, "headers", file)
                    case "pointers", "json-pointers": c.correlationPointers = try strings(cv, "pointers", file)
                    default: throw ConfigError(file: file, line: line(ck), problem: "unknown key '\(ck.string ?? "?")' in correlation (expected headers, pointers)")
                    }
                }
            case "sagas", "saga-definitions": c.sagaFiles = try strings(v, key, file)
            case "theme": c.theme = try string(v, key, file)
            case "insights": c.insights = try insightSettings(v, file)
            default:
                throw ConfigError(file: file, line: line(k), problem: "unknown key '\(key)' in context '\(name)' (expected broker, properties, management, tap, dlq-patterns, correlation, correlation-headers, correlation-pointers, sagas, groups, theme, insights)")
            }
        }
        return c
    }

    static func string(_ node: Node, _ key: String, _ file: String) throws -> String {
        guard let s = node.scalar?.string else { throw ConfigError(file: file, line: line(node), problem: "'\(key)' must be a single value") }
        return s
    }

    static func strings(_ node: Node, _ key: String, _ file: String) throws -> [String] {
        guard let seq = node.sequence else { throw ConfigError(file: file, line: line(node), problem: "'\(key)' must be a list") }
        return try seq.map { try string($0, key, file) }
    }

    static func line(_ node: Node) -> Int? { node.mark.map { $0.line } }

    private static func lineOfKey(_ key: String, in text: String) -> Int? {
        for (i, l) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where l.trimmingCharacters(in: .whitespaces).hasPrefix(key + ":") { return i + 1 }
        return nil
    }

    private static func yamlLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func yamlProblem(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}
