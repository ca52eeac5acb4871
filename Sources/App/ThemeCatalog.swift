import Foundation
import TerminalUI

/// Finds and loads themes by name or path.
enum ThemeCatalog {
    /// Folders searched for `NAME.yaml` before the built-in themes, most specific first: the user's
    /// themes add to the shipped ones or override them by name.
    static var searchDirectories: [String] {
        var dirs: [String] = []
        if let d = Paths.nonEmpty(Paths.environment["EVTOP_THEMES"]) { dirs.append(d) }
        dirs.append(Paths.configDirectory + "/themes")
        return dirs
    }

    /// Loads a theme: a path to a YAML file, or a name looked up in the user's folders, then among the
    /// themes compiled into the binary (so a copied binary still has them).
    static func load(_ nameOrPath: String) throws -> Theme {
        if nameOrPath.hasSuffix(".yaml") || nameOrPath.contains("/") {
            let path = Paths.expand(nameOrPath)
            let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return try parse(path: path, name: name)
        }
        for dir in searchDirectories {
            let path = dir + "/" + nameOrPath + ".yaml"
            if FileManager.default.fileExists(atPath: path) { return try parse(path: path, name: nameOrPath) }
        }
        if let text = BuiltInThemes.yaml[nameOrPath] { return try ThemeLoader.parse(yaml: text, name: nameOrPath) }
        if nameOrPath == "default" { return Theme.fallback }
        throw ThemeLookupError(message: "no theme named '\(nameOrPath)' (available: \(available().joined(separator: ", ")))")
    }

    /// Names of every theme: the built-in ones and the user's.
    static func available() -> [String] {
        var names = Set(BuiltInThemes.yaml.keys)
        for dir in searchDirectories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            for f in files where f.hasSuffix(".yaml") { names.insert(String(f.dropLast(5))) }
        }
        return names.sorted()
    }

    private static func parse(path: String, name: String) throws -> Theme {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ThemeLookupError(message: "cannot read theme file \(path)")
        }
        return try ThemeLoader.parse(yaml: text, name: name)
    }
}

/// A theme that could not be found or read.
struct ThemeLookupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
