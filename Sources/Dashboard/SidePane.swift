import TerminalUI

/// Wide terminals: beside a view whose registration asks for it, what `enter` would open for the
/// highlighted row (a topic's partitions, a group's partitions, a DLQ's letters, a letter), drawn by that
/// view's own screen from a copy of the state. Nothing is loaded for it that the view did not load already.
enum SidePane {
    /// A view's right title where it would say how to leave it: a pane is not entered, `enter` opens it.
    static func backTitle(_ state: AppState) -> String { state.isPreview ? "enter opens" : "esc back" }

    /// The narrowest terminal that gets a side pane: below it the table needs every column.
    static let minWidth = 160

    /// The two layouts and the state the pane draws from; nil when there is no pane.
    static func split(_ state: AppState, layout: Layout) -> (main: Layout, side: Layout, preview: AppState)? {
        let registration = ViewRegistry.registration(for: state.view)
        guard registration.previewsDrillIn, let drillIn = registration.drillIn,
              layout.content.width >= minWidth, layout.content.height >= 8 else { return nil }
        var preview = state
        preview.isPreview = true
        drillIn.open(&preview, state.view)
        // Nothing highlighted (an empty table): nothing to preview.
        guard preview.view != state.view else { return nil }
        let mainWidth = layout.content.width * 3 / 5
        let content = layout.content
        let main = Rect(x: content.x, y: content.y, width: mainWidth, height: content.height)
        let side = Rect(x: content.x + mainWidth, y: content.y, width: content.width - mainWidth, height: content.height)
        return (layout.with(content: main), layout.with(content: side), preview)
    }
}
