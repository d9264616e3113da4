import Foundation

/// A case file's reference, `CF-2026-000012`.
public typealias CaseFileReference = YearlyReference<CaseFileReferenceKind>

public enum CaseFileReferenceKind: YearlyReferenceKind {
    public static let prefix = "CF"
}

/// How a case file was closed.
public enum CaseFileOutcome: String, Codable, Sendable, CaseIterable {
    case referred
    case noViolationFound = "no_violation_found"
    case insufficientEvidence = "insufficient_evidence"
    case subjectUnidentified = "subject_unidentified"
    case administrativelyClosed = "administratively_closed"
}

/// The case file workflow: `open → active → pending_evidence → supervisor_review → closed`, with returns from
/// review and reopening (both logged as changes like any other move).
public enum CaseFileStatus: String, Codable, Sendable, CaseIterable {
    case open
    case active
    case pendingEvidence = "pending_evidence"
    case supervisorReview = "supervisor_review"
    case closed

    public enum Error: Swift.Error, Equatable {
        case forbiddenTransition(from: CaseFileStatus, to: CaseFileStatus)
        /// Closing needs an outcome; nothing else takes one.
        case outcomeRequired
        case outcomeNotAllowed
        /// Only a supervisor closes, returns from review or reopens.
        case supervisorRequired
        case noSuchCaseFile
    }

    public var allowedNextStatuses: Set<CaseFileStatus> {
        switch self {
        case .open: [.active]
        case .active: [.pendingEvidence, .supervisorReview]
        case .pendingEvidence: [.active, .supervisorReview]
        case .supervisorReview: [.active, .closed]
        case .closed: [.active]
        }
    }

    /// Whether the case file may change (its parts, assignment, checklist): a closed case file refuses every edit
    /// until a supervisor reopens it (`closed → active`, the only move out of `closed`).
    public var acceptsEdits: Bool { self != .closed }

    /// Whether a move is a supervisor's decision (closing, returning from review, reopening).
    public func needsSupervisor(to next: CaseFileStatus) -> Bool {
        self == .supervisorReview || self == .closed || next == .closed
    }

    /// Checks a move by a staff role, with the outcome a closing needs.
    public func moving(to next: CaseFileStatus, by role: StaffRole, outcome: CaseFileOutcome?) throws(Error)
        -> CaseFileStatus
    {
        guard allowedNextStatuses.contains(next) else { throw .forbiddenTransition(from: self, to: next) }
        if needsSupervisor(to: next), role != .supervisor { throw .supervisorRequired }
        if next == .closed, outcome == nil { throw .outcomeRequired }
        if next != .closed, outcome != nil { throw .outcomeNotAllowed }
        return next
    }
}

/// The executive order's checklist, recorded for every case file.
public struct ExecutiveOrderChecklist: Codable, Equatable, Sendable {
    /// Body-camera footage preserved, with the recordings' ids.
    public var bodyCameraPreserved: Bool?
    public var bodyCameraIDs: String?
    /// Whether identification of the agents' supervisor was attempted, and what happened (including refusal).
    public var supervisorIdentificationAttempted: Bool?
    public var supervisorIdentificationResult: String?
    /// EMS summoned, and when.
    public var emsSummoned: Bool?
    public var emsSummonedAt: String?
    public var aidRendered: Bool?
    public var policeReportNumber: String?

    public init() {}
}

/// The investigation of one or more incidents.
public struct CaseFile: Equatable, Sendable {
    public var id: Identifier<CaseFile>
    public var reference: CaseFileReference
    public var incidents: [Identifier<Incident>]
    public var status: CaseFileStatus
    public var outcome: CaseFileOutcome?
    public var assignee: Identifier<StaffAccount>?
    public var checklist: ExecutiveOrderChecklist
    public var openedAt: Date

    public init(
        id: Identifier<CaseFile>, reference: CaseFileReference, incidents: [Identifier<Incident>], openedAt: Date
    ) {
        self.id = id
        self.reference = reference
        self.incidents = incidents
        status = .open
        outcome = nil
        assignee = nil
        checklist = ExecutiveOrderChecklist()
        self.openedAt = openedAt
    }

    public var recordID: String { "case-file:\(reference)" }

    /// SHA-256 of the case file's canonical state, for its custody entries.
    public var contentHash: String {
        let checklistJSON = (try? CanonicalJSON.encode(checklist)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        return ContentHash.sha256Hex(
            CanonicalJSON.object([
                ("assignee", assignee?.description ?? ""), ("checklist", checklistJSON),
                ("incidents", incidents.map(\.description).sorted().joined(separator: ",")),
                ("outcome", outcome?.rawValue ?? ""), ("reference", reference.description), ("status", status.rawValue),
            ]))
    }
}
