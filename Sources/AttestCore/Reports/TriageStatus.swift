import Foundation

/// Where a report stands in intake triage: `received → screening → accepted | needs_info | duplicate |
/// out_of_scope | spam`. A reporter's answer returns a `needs_info` report to screening, and a closed report
/// may be reopened into screening; `accepted` is final for triage (the incident carries the work on).
public enum TriageStatus: String, Codable, CaseIterable, Sendable {
    case received
    case screening
    case accepted
    case needsInfo = "needs_info"
    case duplicate
    case outOfScope = "out_of_scope"
    case spam

    /// A forbidden move.
    public enum Error: Swift.Error, Equatable {
        /// The triage workflow does not allow moving from `from` to `to`.
        case forbiddenTransition(from: TriageStatus, to: TriageStatus)
    }

    /// The statuses this one may move to.
    public var allowedNextStatuses: Set<TriageStatus> {
        switch self {
        case .received: [.screening, .duplicate, .spam]
        case .screening: [.accepted, .needsInfo, .duplicate, .outOfScope, .spam]
        case .needsInfo: [.screening, .outOfScope]
        case .duplicate, .outOfScope, .spam: [.screening]
        case .accepted: []
        }
    }

    /// Whether moving to `next` is allowed.
    public func canMove(to next: TriageStatus) -> Bool { allowedNextStatuses.contains(next) }

    /// The status after moving to `next`, or `Error.forbiddenTransition`.
    public func moving(to next: TriageStatus) throws(Error) -> TriageStatus {
        guard canMove(to: next) else { throw Error.forbiddenTransition(from: self, to: next) }
        return next
    }

    /// Whether triage is over for this report (it may still be reopened, except when accepted).
    public var isClosed: Bool { self == .accepted || self == .duplicate || self == .outOfScope || self == .spam }
}
