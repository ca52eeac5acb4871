import Foundation
import TerminalUI

/// Finds and loads themes by name or path.
enum ThemeCatalog {
    /// Folders searched for `NAME.yaml`, most specific first.
    static var searchDirectories: [String] {
        var dirs: [String] = []
        if let d = Paths.nonEmpty(Paths.environment["EVTOP_THEMES"]) { dirs.append(d) }
        dirs.append(Paths.configDirectory + "/themes")
        let exe = Paths.executableDirectory
        // Run from a checkout (.build/debug/evtop) or from an install prefix (bin/../share/evtop/themes).
        dirs.append(exe + "/../../themes")
        dirs.append(exe + "/../../../themes")
        dirs.append(exe + "/../share/evtop/themes")
        dirs.append(FileManager.default.currentDirectoryPath + "/themes")
        return dirs
    }

    /// Loads a theme: a path to a YAML file, or a name looked up in the search folders.
    /// The built-in fallback serves "default" when no theme folder can be found.
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
        if nameOrPath == "default" { return Theme.fallback }
        throw ThemeLookupError(message: "no theme named '\(nameOrPath)' (available: \(available().joined(separator: ", ")))")
    }

    /// Names of every theme found.
    static func available() -> [String] {
        var names = Set<String>()
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
