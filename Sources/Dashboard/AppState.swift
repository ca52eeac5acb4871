import Foundation
import EventModel
import TerminalUI

/// Which screen is showing.
public enum ViewID: Sendable, Hashable {
    /// All topics with their produce rates.
    case topics
    /// One topic's partitions with watermarks and rates.
    case partitions(topic: String)
    /// Consumer groups and their lag health.
    case lag
    /// One group's partitions with offsets, lag and status.
    case groupPartitions(group: String)
    /// Sagas by correlation ID: the most recently active first.
    case sagas
    /// One saga's timeline: events and spans of a correlation ID on one time axis.
    case sagaTimeline(id: String)
    /// Dead-letter queues: one row per DLQ topic.
    case deadLetters
    /// One DLQ topic's dead letters, newest first.
    case deadLetterList(topic: String)
    /// One dead letter: headers, payload, stack trace.
    case deadLetterDetail(topic: String, partition: Int32, offset: Int64)
    /// A view with no case of its own: a module registered in ``ViewRegistry`` by this name
    /// (`argument` is what it shows, "" for none). New views use this, so adding one edits no enum.
    case registered(name: String, argument: String)

    /// True for the views that show what the correlation index answers (the sagas list, a timeline).
    public var showsSagas: Bool {
        switch self {
        case .sagas, .sagaTimeline: return true
        default: return false
        }
    }

    /// The name of its registration: used by `:` commands, view specs and filters.
    public var name: String {
        switch self {
        case .topics: return "topics"
        case .partitions: return "partitions"
        case .lag: return "lag"
        case .groupPartitions: return "group"
        case .sagas: return "sagas"
        case .sagaTimeline: return "saga"
        case .deadLetters: return "dlq"
        case .deadLetterList: return "letters"
        case .deadLetterDetail: return "letter"
        case .registered(let name, _): return name
        }
    }

    /// What the view shows within its kind, as its spec writes it: a topic, a group, `TOPIC/PARTITION/OFFSET`; "" for none.
    public var argument: String {
        switch self {
        case .topics, .lag, .sagas, .deadLetters: return ""
        case .partitions(let topic), .deadLetterList(let topic): return topic
        case .groupPartitions(let group): return group
        case .sagaTimeline(let id): return id
        case .deadLetterDetail(let topic, let partition, let offset): return "\(topic)/\(partition)/\(offset)"
        case .registered(_, let argument): return argument
        }
    }

    /// The view spec that names it (`partitions:orders`); ``ViewRegistry/parse(_:)`` reads it back.
    public var spec: String { argument.isEmpty ? name : name + ":" + argument }

    /// True for the dead-letter views (overview, list, detail).
    public var isDeadLetterView: Bool {
        switch self {
        case .deadLetters, .deadLetterList, .deadLetterDetail: return true
        default: return false
        }
    }
}

/// State a registered view keeps for itself (a cursor, a sort), stored in ``AppState/viewStates``;
/// a new view needs no field in `AppState`.
public protocol ViewStateValue: Sendable {
    /// The state before the view was first shown.
    init()
}

/// One value per ``ViewStateValue`` type: `state.viewStates[InsightsState.self].cursor`.
public struct ViewStateStore: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    /// An empty store.
    public init() {}

    /// The value of a type (its `init()` until set).
    public subscript<Value: ViewStateValue>(_ type: Value.Type) -> Value {
        get { values[ObjectIdentifier(type)] as? Value ?? Value() }
        set { values[ObjectIdentifier(type)] = newValue }
        _modify {
            // Taken out while it changes. Left in the store, its storage (the insights windows: dictionaries
            // of 20,000 ids) would be shared with the stored copy and copied whole on every change.
            let key = ObjectIdentifier(type)
            var value = values.removeValue(forKey: key) as? Value ?? Value()
            defer { values[key] = value }
            yield &value
        }
    }
}

/// Whether the source answers.
public enum ConnectionState: Sendable, Hashable {
    /// No snapshot yet.
    case connecting
    /// The last poll succeeded.
    case live
    /// The last poll failed, with the reason.
    case down(String)
}

/// A table's selection and scroll position. Selection is remembered by row key so that
/// rows re-sorting under live data do not move the cursor to another row.
public struct TableCursor: Sendable, Hashable {
    /// Key of the selected row (topic name, partition number, ...).
    public var selectedKey: String?
    /// First visible row.
    public var scroll: Int = 0

    /// Creates a cursor.
    public init(selectedKey: String? = nil, scroll: Int = 0) {
        self.selectedKey = selectedKey
        self.scroll = scroll
    }
}

/// Columns the topics table can be sorted by.
public enum TopicSortKey: String, CaseIterable, Sendable, Hashable {
    case name, partitions, total, rate1, rate10, rate60, groups

    /// The column title shown in the sort indicator.
    public var title: String {
        switch self {
        case .name: return "topic"
        case .partitions: return "part"
        case .total: return "total"
        case .rate1: return "1s/s"
        case .rate10: return "10s/s"
        case .rate60: return "60s/s"
        case .groups: return "groups"
        }
    }

    /// Title of the table column the sort marker goes on.
    public var column: String {
        switch self {
        case .name: return "TOPIC"
        case .partitions: return "PART"
        case .total: return "TOTAL"
        case .rate1: return "1s/s"
        case .rate10: return "10s/s"
        case .rate60: return "60s/s"
        case .groups: return "GROUPS"
        }
    }

    /// The sort indicator's title on a table of queues.
    public var queueTitle: String {
        switch self {
        case .name: return "queue"
        case .rate10: return "in 10s/s"
        case .groups: return "consumers"
        default: return title
        }
    }

    /// The column of a table of queues the sort marker goes on; nil for a key that table has no column for
    /// (queues have no partitions, and no 1 s rate: RabbitMQ refreshes its counters every 5 s; the 60 s
    /// rates are in the queue's detail).
    public var queueColumn: String? {
        switch self {
        case .name: return "QUEUE"
        case .partitions, .rate1, .rate60: return nil
        case .total: return "TOTAL"
        case .rate10: return "IN 10s/s"
        case .groups: return "CONS"
        }
    }
}

/// Columns the lag table can be sorted by.
public enum LagSortKey: String, CaseIterable, Sendable, Hashable {
    case status, group, lag, behind, members

    /// The column title shown in the sort indicator.
    public var title: String {
        switch self {
        case .status: return "status"
        case .group: return "group"
        case .lag: return "total lag"
        case .behind: return "behind"
        case .members: return "members"
        }
    }

    /// Title of the table column the sort marker goes on.
    public var column: String {
        switch self {
        case .status: return "STATUS"
        case .group: return "GROUP"
        case .lag: return "TOTAL LAG"
        case .behind: return "BEHIND"
        case .members: return "MEMBERS"
        }
    }
}

/// A line the user is typing: a `/` filter or a `:` command.
public struct Prompt: Sendable, Hashable {
    /// What the line is for: a filter, a command, or the target topic of the redrive being confirmed.
    public enum Kind: Sendable, Hashable { case filter, command, redriveTarget }
    /// What the line is for.
    public var kind: Kind
    /// Text typed so far.
    public var text: String

    /// Creates a prompt.
    public init(kind: Kind, text: String = "") {
        self.kind = kind
        self.text = text
    }
}

/// A message in the status line until `until`.
public struct StatusMessage: Sendable, Hashable {
    /// How loud the message is.
    public enum Level: Sendable, Hashable { case info, error }
    /// Text shown.
    public var text: String
    /// Info or error.
    public var level: Level
    /// When it stops showing.
    public var until: Date

    /// Creates a message.
    public init(_ text: String, level: Level, until: Date) {
        self.text = text
        self.level = level
        self.until = until
    }
}

/// Everything a frame shows, and nothing else: screens are pure functions of it.
public struct AppState: Sendable {
    /// The source as the user named it (no secrets).
    public var source: String
    /// Whether the source answers.
    public var connection: ConnectionState = .connecting
    /// When the source stopped answering (the first failed poll since the last snapshot), nil while it answers.
    public var downSince: Date?
    /// Wall-clock time of the last tick (the clock in the header).
    public var now: Date
    /// Offset of local time from UTC, for the header clock.
    public var utcOffsetSeconds: Int = 0
    /// Terminal size, for paging.
    public var size: Size
    /// True while the display is frozen.
    public var paused: Bool = false
    /// The screen showing.
    public var view: ViewID = .topics
    /// Screens to return to with esc.
    public var backStack: [ViewID] = []
    /// The last snapshot applied.
    public var snapshot: BrokerSnapshot?
    /// Produce rates derived from snapshots.
    public var meter = ThroughputMeter()
    /// Which topics are dead-letter queues.
    public var deadLetterTopics = DeadLetterTopics()
    /// Topics table cursor.
    public var topicsCursor = TableCursor()
    /// Partitions table cursor.
    public var partitionsCursor = TableCursor()
    /// Lag health per group, fed by every snapshot.
    public var lagTracker = LagTracker()
    /// The latest evaluation of every group (at the last snapshot's time).
    public var groupLags: [GroupLag] = []
    /// Lag table cursor.
    public var lagCursor = TableCursor()
    /// Group drill-down cursor.
    public var groupCursor = TableCursor()
    /// Lag sort column.
    public var lagSort: LagSortKey = .status
    /// Lag sort direction.
    public var lagSortDescending = true
    /// Show lag as time behind instead of offsets (`t` toggles).
    public var lagInSeconds = false
    /// Topics sort column.
    public var topicSort: TopicSortKey = .rate10
    /// Topics sort direction.
    public var topicSortDescending = true
    /// Active filter per view name (regex; a leading `!` inverts).
    public var filters: [String: String] = [:]
    /// The line being typed, if any.
    public var prompt: Prompt?
    /// True while the help overlay shows.
    public var showHelp = false
    /// Rows the help overlay is scrolled by (when it does not fit the terminal).
    public var helpScroll = 0
    /// A transient status-line message.
    public var message: StatusMessage?
    /// A standing hint, e.g. how to get data into an empty store.
    public var hint: String?
    /// The last snapshot's ``BrokerSnapshot/limitation``, so the hint showing it goes when it does.
    public var shownLimitation: String?
    /// Name of the theme in use.
    public var themeName: String = "default"
    /// True when every write is disabled.
    public var readOnly = false
    /// The clock of a recording played back (`--broker file:`); nil for a live source.
    public var playback: PlaybackState?
    /// The incident `:record` is writing, while it runs.
    public var recording: RecordingBadge?
    /// The wall clock at the last tick: what status messages expire by while a recording's clock stands still.
    public var wallNow = Date()
    /// True when dead letters sit in queues (RabbitMQ): a requeue takes them and acks each after its
    /// publish is confirmed, and browsing marks them redelivered; views word their promises accordingly.
    public var lettersAreQueued = false
    /// Set when the app should exit.
    public var shouldQuit = false
    /// Parsed dead letters per DLQ topic: the newest `DeadLetterModel.maxLettersPerTopic`, newest first.
    public var deadLetters: [String: [DeadLetter]] = [:]
    /// Table rows derived from `deadLetters` when they are loaded (same order).
    public var deadLetterRows: [String: [DeadLetterRow]] = [:]
    /// Sum of high watermarks of each DLQ topic when its letters were last asked for.
    public var deadLetterRequestedHighs: [String: Int64] = [:]
    /// DLQ overview cursor.
    public var deadLetterQueueCursor = TableCursor()
    /// Letter list cursor.
    public var deadLetterCursor = TableCursor()
    /// First visible line of the letter detail.
    public var deadLetterDetailScroll = 0
    /// Long lines of the letter detail wrap (`w` toggles); when they do not, `h`/`l` scroll sideways.
    public var deadLetterDetailWrap = true
    /// Columns the unwrapped letter detail is scrolled right by.
    public var deadLetterDetailColumn = 0
    /// Topics already probed for dead-letter headers (names matching no DLQ pattern).
    public var probedTopics: Set<String> = []
    /// Marked letters per DLQ topic (row keys `partition/offset`), for `r`.
    public var marks: [String: Set<String>] = [:]
    /// Redrive states from the journal per DLQ topic, for the loaded letters.
    public var redriveStates: [String: [RecordPosition: RedriveItemState]] = [:]
    /// The redrive being confirmed, running or just finished (a dialog over the view).
    public var redrive: RedriveDialog?
    /// Rate the confirm dialog starts with (messages per second; nil: unthrottled).
    public var redriveRate: Double? = 100
    /// A yes/no question over the view (skip letters, ...), answered before any other key.
    public var confirmation: Confirmation?
    /// Letters the journal says are handled (redriven or skipped) are listed too (`H` toggles; counts always exclude them).
    public var showHandledLetters = false
    /// The sagas list and the open timeline.
    public var sagas = SagaViewState()
    /// State of views registered without a field here (see ``ViewStateValue``).
    public var viewStates = ViewStateStore()
    /// True for the copy of the state a side pane draws from (titles say `enter opens`, not `esc back`).
    public var isPreview = false
    /// Topic rows derived from the fields above; kept current by the reducer.
    public var topicRowsCache = TopicRowsCache()

    /// Creates the state for a source.
    public init(source: String, now: Date, size: Size) {
        self.source = source
        self.now = now
        self.size = size
    }

    /// The filter of the current view ("" when none).
    public var currentFilter: String { filters[view.name] ?? "" }

    /// Rows of table body visible at the current size (used for paging).
    public var visibleTableRows: Int { max(1, Layout(size: size).tableBodyRows) }
}
