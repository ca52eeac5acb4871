import TerminalUI

/// The `?` overlay: every key and command, made from the key-binding tables of ``GlobalKeys`` and of each
/// registered view, so that it lists exactly what the keys do.
public enum HelpScreen {
    /// The help sections: views, the global keys, each module's own keys, then the commands.
    public static let sections: [HelpSection] = {
        var sections: [HelpSection] = []
        for (title, bindings) in GlobalKeys.sections where title != "General" {
            var entries: [HelpEntry] = []
            for binding in bindings {
                if binding.label == GlobalKeys.views.label {
                    // The number keys, one line a view with its `:` verb.
                    entries += ViewRegistry.numbered.compactMap { r in
                        r.numberKey.map { HelpEntry(key: "\($0) / :\(r.verbs[0])", text: r.summary) }
                    }
                } else {
                    entries.append(HelpEntry(key: binding.label, text: binding.help))
                }
            }
            // The wheel is not a key, but it moves too.
            if title == "Move" { entries.append(HelpEntry(key: "wheel", text: "scroll")) }
            sections.append(HelpSection(title: title, entries: entries))
        }
        // Each module's own keys, once even when several of its views share a binding.
        var moduleOrder: [String] = []
        var moduleEntries: [String: [HelpEntry]] = [:]
        for registration in ViewRegistry.all where !registration.bindings.isEmpty {
            if moduleEntries[registration.helpSection] == nil { moduleOrder.append(registration.helpSection) }
            for binding in registration.bindings {
                let entry = HelpEntry(key: binding.label, text: binding.help)
                if !(moduleEntries[registration.helpSection] ?? []).contains(entry) {
                    moduleEntries[registration.helpSection, default: []].append(entry)
                }
            }
        }
        sections += moduleOrder.map { HelpSection(title: $0, entries: moduleEntries[$0] ?? []) }
        // The requeue dialog's own keys (it takes every key while it shows).
        sections.append(HelpSection(title: "Requeue dialog",
                                    entries: (RedriveModel.confirmBindings + RedriveModel.runningBindings).map { HelpEntry(key: $0.label, text: $0.help) }))
        // General keys and the `:` commands; a key and a command that do the same share a line (`q / :q`).
        var general: [HelpEntry] = []
        let keys = GlobalKeys.sections.first { $0.title == "General" }?.bindings ?? []
        for entry in keys.map({ HelpEntry(key: $0.label, text: $0.help) }) + GlobalKeys.commands.map({ HelpEntry(key: $0.label, text: $0.help) }) {
            if let i = general.firstIndex(where: { $0.text == entry.text }) {
                general[i].key += " / " + entry.key
            } else {
                general.append(entry)
            }
        }
        sections.append(HelpSection(title: "General", entries: general))
        return sections
    }()

    static func overlay(_ state: AppState) -> HelpOverlay {
        HelpOverlay(title: "Keys — any key closes", sections: sections, scroll: state.helpScroll)
    }
}
