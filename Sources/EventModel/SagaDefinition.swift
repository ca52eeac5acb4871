import Foundation

/// A saga's shape (docs/sagas.md): its steps, the event types that complete, fail or compensate each,
/// its terminal events and a timeout. Parsed from YAML by the executable; pure here.
public struct SagaDefinition: Sendable, Hashable {
    /// One step of the saga, owned by one service.
    public struct Step: Sendable, Hashable {
        /// Step name, e.g. `authorize-payment`.
        public var name: String
        /// The service that performs it (the timeline row), if known.
        public var service: String?
        /// The topic its events go to, if known.
        public var topic: String?
        /// Event types that mean the step succeeded.
        public var completedBy: [String]
        /// Event types that mean the step failed.
        public var failedBy: [String]
        /// Event types that undo the step.
        public var compensatedBy: [String]

        /// Creates a step.
        public init(name: String, service: String? = nil, topic: String? = nil, completedBy: [String] = [],
                    failedBy: [String] = [], compensatedBy: [String] = []) {
            self.name = name
            self.service = service
            self.topic = topic
            self.completedBy = completedBy
            self.failedBy = failedBy
            self.compensatedBy = compensatedBy
        }
    }

    /// A compensating event and the step it undoes.
    public struct Compensation: Sendable, Hashable {
        /// The compensating event type.
        public var event: String
        /// The name of the step it undoes.
        public var compensates: String

        /// Creates a compensation.
        public init(event: String, compensates: String) {
            self.event = event
            self.compensates = compensates
        }
    }

    /// Saga type name, e.g. `OrderSaga`.
    public var name: String
    /// Extra correlation headers this saga's records use (tried before the context's rules).
    public var correlationHeaders: [String]
    /// Extra JSON pointers this saga's records use.
    public var correlationPointers: [String]
    /// A saga neither finished nor failed this long after its first event is timed out.
    public var timeoutSeconds: Double?
    /// Steps in their intended order.
    public var steps: [Step]
    /// Compensating events beyond the steps' `compensatedBy`.
    public var compensations: [Compensation]
    /// Event types that end the saga successfully.
    public var terminalCompleted: [String]
    /// Event types that end the saga after compensation.
    public var terminalCompensated: [String]
    /// Event types that end the saga as failed (no compensation to come).
    public var terminalFailed: [String]

    /// Creates a definition.
    public init(name: String, correlationHeaders: [String] = [], correlationPointers: [String] = [],
                timeoutSeconds: Double? = nil, steps: [Step], compensations: [Compensation] = [],
                terminalCompleted: [String] = [], terminalCompensated: [String] = [], terminalFailed: [String] = []) {
        self.name = name
        self.correlationHeaders = correlationHeaders
        self.correlationPointers = correlationPointers
        self.timeoutSeconds = timeoutSeconds
        self.steps = steps
        self.compensations = compensations
        self.terminalCompleted = terminalCompleted
        self.terminalCompensated = terminalCompensated
        self.terminalFailed = terminalFailed
    }

    /// Every event type the definition names.
    public var knownEventTypes: Set<String> {
        var all = Set(terminalCompleted + terminalCompensated + terminalFailed + compensations.map(\.event))
        for s in steps { all.formUnion(s.completedBy + s.failedBy + s.compensatedBy) }
        return all
    }

    /// What an event type means to this saga.
    public func meaning(of eventType: String) -> (outcome: SagaOutcome, step: Step?) {
        if let s = steps.first(where: { $0.failedBy.contains(eventType) }) { return (.failed, s) }
        if let s = steps.first(where: { $0.compensatedBy.contains(eventType) }) { return (.compensation, s) }
        if let c = compensations.first(where: { $0.event == eventType }) {
            return (.compensation, steps.first { $0.name == c.compensates })
        }
        if let s = steps.first(where: { $0.completedBy.contains(eventType) }) {
            return (terminalCompleted.contains(eventType) ? .terminal : .completed, s)
        }
        if terminalFailed.contains(eventType) { return (.failed, nil) }
        if terminalCompensated.contains(eventType) { return (.compensation, nil) }
        if terminalCompleted.contains(eventType) { return (.terminal, nil) }
        return (.neutral, nil)
    }

    /// The definition that fits a saga's event types best (most of them known), or nil when none knows any.
    public static func select(from definitions: [SagaDefinition], eventTypes: [String]) -> SagaDefinition? {
        guard !definitions.isEmpty, !eventTypes.isEmpty else { return nil }
        var best: (SagaDefinition, Int)?
        for d in definitions {
            let known = d.knownEventTypes
            let score = eventTypes.reduce(0) { $0 + (known.contains($1) ? 1 : 0) }
            if score > 0, score > (best?.1 ?? 0) { best = (d, score) }
        }
        return best?.0
    }
}
