import Foundation

/// Staff move a report through triage (`TriageStatus`): every move is a `record.changed` entry; asking the
/// reporter for information puts the question in their anonymous thread (shown at `/follow-up`).
public struct TriageReport: Sendable {
    public var store: any ReportStore
    public var clock: any Clock
    public var random: any RandomSource
    public var limits: ReportLimits

    public init(store: any ReportStore, clock: any Clock, random: any RandomSource, limits: ReportLimits) {
        self.store = store
        self.clock = clock
        self.random = random
        self.limits = limits
    }

    public struct Input: Sendable {
        public var reference: ReportReference
        public var to: TriageStatus
        /// The question for the reporter (required when asking for information).
        public var question: String?
        public var actor: StaffAccount

        public init(reference: ReportReference, to: TriageStatus, question: String? = nil, actor: StaffAccount) {
            self.reference = reference
            self.to = to
            self.question = question
            self.actor = actor
        }
    }

    /// Moves the report; throws `TriageStatus.Error` for a move the workflow forbids, `ValidationFailure` for a
    /// missing or invalid question, `StaffError.forbidden` when the actor may not triage.
    public func execute(_ input: Input) async throws {
        guard StaffPolicy.allows(input.actor.role, .triageReports) else { throw StaffError.forbidden }
        guard let report = try await store.report(reference: input.reference) else { throw FollowUpError.denied }
        let next = try report.status.moving(to: input.to)
        let now = clock.now().wholeSeconds
        var message: ThreadMessage?
        if next == .needsInfo {
            var issues: [ValidationIssue] = []
            guard
                let body = TextRules.check(
                    input.question, field: "question", maxCharacters: limits.supplementMaxCharacters, multiline: true,
                    required: true, into: &issues)
            else { throw ValidationFailure(issues: issues) }
            message = ThreadMessage(
                id: Identifier(random.uuid()), reportID: report.id, author: .staff, body: body, createdAt: now,
                contentHash: ThreadMessage.contentHash(
                    reference: input.reference, author: .staff, body: body, createdAt: now))
        }
        let actor = input.actor.actorID
        let reference = input.reference
        let question = message
        try await store.transaction { unit in
            try await unit.reports.setStatus(next, of: report.id)
            if let message = question {
                try await unit.reports.insert(message)
                _ = try await unit.custodyLog.append(
                    CustodyEvent(
                        kind: .recordChanged, occurredAt: now, actor: actor,
                        recordID: "report:\(reference)/message:\(message.id)", contentHash: message.contentHash))
            }
            _ = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .recordChanged, occurredAt: now, actor: actor, recordID: "report:\(reference)",
                    contentHash: ContentHash.sha256Hex("status:\(next.rawValue)|\(report.contentHash)")))
        }
    }
}
