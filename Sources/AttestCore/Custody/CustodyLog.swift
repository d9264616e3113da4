import Foundation

/// The kinds of event the custody log records.
public enum CustodyEventKind: String, Codable, CaseIterable, Sendable {
    case logCreated = "log.created"
    case reportReceived = "report.received"
    case reportSupplemented = "report.supplemented"
    case evidenceIngested = "evidence.ingested"
    case recordViewed = "record.viewed"
    case recordChanged = "record.changed"
    case exportMade = "export.made"
    case referralSent = "referral.sent"
    case keyRotated = "key.rotated"
    case staffSignedIn = "staff.signed_in"
    // Account administration (`StaffAccountEvent`): the record names the account, and the role granted if any.
    case staffAccountCreated = "staff.account_created"
    case staffSetupLinkIssued = "staff.setup_link_issued"
    case staffSetupCompleted = "staff.setup_completed"
    case staffAccountDisabled = "staff.account_disabled"
    case staffAccountEnabled = "staff.account_enabled"
    case staffRoleChanged = "staff.role_changed"
    case staffApprovalRequested = "staff.approval_requested"
    case staffApprovalGiven = "staff.approval_given"
    case staffApprovalDeclined = "staff.approval_declined"
}

/// One event touching a record. It names the record and the hash of its canonical content; it never
/// carries personal data, narrative text or file contents.
public struct CustodyEvent: Equatable, Sendable {
    public var kind: CustodyEventKind
    /// When it happened.
    public var occurredAt: Date
    /// A pseudonymous actor id: `public` for residents, a staff pseudonym, or `system`.
    public var actor: String
    /// The record's identifier, e.g. `report:R-2026-000123`.
    public var recordID: String
    /// Lower-case hex SHA-256 of the record's canonical content.
    public var contentHash: String
    /// What an `evidence.ingested` entry adds: the file's size, detected type and source.
    public var details: Details?

    /// Facts about a file that an entry may carry beside its hash (never its name, metadata or contents).
    public struct Details: Equatable, Sendable {
        public var size: Int64
        public var mediaType: String
        public var source: String

        public init(size: Int64, mediaType: String, source: String) {
            self.size = size
            self.mediaType = mediaType
            self.source = source
        }
    }

    public init(
        kind: CustodyEventKind, occurredAt: Date, actor: String, recordID: String, contentHash: String,
        details: Details? = nil
    ) {
        self.kind = kind
        self.occurredAt = occurredAt
        self.actor = actor
        self.recordID = recordID
        self.contentHash = contentHash
        self.details = details
    }
}

/// Where an appended event landed.
public struct CustodyReceipt: Equatable, Sendable {
    /// The entry's index in the log (0-based).
    public var index: Int64
    /// Lower-case hex leaf hash of the entry (RFC 6962: SHA-256 of 0x00 and the entry bytes).
    public var entryHash: String

    public init(index: Int64, entryHash: String) {
        self.index = index
        self.entryHash = entryHash
    }
}

/// The custody log port: an append-only, tamper-evident record of every event that touches a record.
/// An implementation obtained from a `UnitOfWork` appends inside that unit's transaction, so that
/// no record exists without its entry and no entry without its record.
public protocol CustodyLog: Sendable {
    /// Appends `event` and returns where it landed.
    func append(_ event: CustodyEvent) async throws -> CustodyReceipt
}
