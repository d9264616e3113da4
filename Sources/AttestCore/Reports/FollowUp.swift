import Foundation

/// What a reporter sees when they return with their reference and follow-up code.
public struct ReportStatusView: Equatable, Sendable {
    public var reference: ReportReference
    public var status: TriageStatus
    public var receivedAt: Date
    public var contentHash: String
    public var messages: [ThreadMessage]
    /// The files attached to the report, oldest first.
    public var evidence: [EvidenceItem] = []
}

/// Errors of the follow-up channel.
public enum FollowUpError: Error, Equatable, Sendable {
    /// The reference and code do not match a report. Deliberately the same for an unknown reference and a
    /// wrong code, so the answer reveals nothing about which references exist.
    case denied
    /// The report's thread is full.
    case tooManySupplements(max: Int)
    /// The supplement text is invalid.
    case invalidSupplement(ValidationIssue)
}

/// A reporter returns with reference and code to see their report's status and thread.
public struct ViewReportStatus: Sendable {
    public var store: any ReportStore

    public init(store: any ReportStore) {
        self.store = store
    }

    /// Checks the credentials and returns the report's status and thread.
    public func execute(reference: ReportReference, code: FollowUpCode) async throws -> ReportStatusView {
        let report = try await Self.authenticate(store: store, reference: reference, code: code)
        let messages = try await store.messages(of: report.id)
        let evidence = try await store.evidence(of: report.id)
        return ReportStatusView(
            reference: report.reference, status: report.status, receivedAt: report.receivedAt,
            contentHash: report.contentHash, messages: messages, evidence: evidence
        )
    }

    static func authenticate(store: any ReportStore, reference: ReportReference, code: FollowUpCode) async throws
        -> Report
    {
        let report = try await store.report(reference: reference)
        // Compare against a dummy hash when the reference is unknown, so timing does not tell either.
        let expected = report?.followUpCodeHash ?? String(repeating: "0", count: 64)
        guard ContentHash.constantTimeEquals(expected, code.hash), let report else { throw FollowUpError.denied }
        return report
    }
}

/// A reporter adds information to their report: a supplement in the anonymous thread, recorded as
/// `report.supplemented`. A report waiting for the reporter's answer goes back to screening.
public struct AddSupplement: Sendable {
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

    /// Adds `text` to the thread; returns the stored message and its custody entry.
    public func execute(reference: ReportReference, code: FollowUpCode, text: String?) async throws -> (
        ThreadMessage, CustodyReceipt
    ) {
        let report = try await ViewReportStatus.authenticate(store: store, reference: reference, code: code)
        var issues: [ValidationIssue] = []
        guard
            let body = TextRules.check(
                text, field: "text", maxCharacters: limits.supplementMaxCharacters, multiline: true, required: true,
                into: &issues
            )
        else { throw FollowUpError.invalidSupplement(issues.first ?? ValidationIssue("text", .required)) }
        let existing = try await store.messages(of: report.id).filter { $0.author == .reporter }.count
        guard existing < limits.supplementsPerReportMax else {
            throw FollowUpError.tooManySupplements(max: limits.supplementsPerReportMax)
        }
        // Whole seconds: the time hashed is then exactly the time stored, so `attest log verify` can re-hash it.
        let now = clock.now().wholeSeconds
        let hash = ThreadMessage.contentHash(reference: reference, author: .reporter, body: body, createdAt: now)
        let message = ThreadMessage(
            id: Identifier(random.uuid()), reportID: report.id, author: .reporter, body: body, createdAt: now,
            contentHash: hash
        )
        let status = report.status
        return try await store.transaction { unit in
            try await unit.reports.insert(message)
            if status == .needsInfo {
                try await unit.reports.setStatus(try status.moving(to: .screening), of: report.id)
            }
            let custody = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .reportSupplemented, occurredAt: now, actor: "public",
                    recordID: "report:\(reference)/message:\(message.id)", contentHash: hash
                )
            )
            return (message, custody)
        }
    }
}
