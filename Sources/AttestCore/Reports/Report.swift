import Foundation

/// One submission by one person through one channel.
public struct Report: Equatable, Sendable {
    public var id: Identifier<Report>
    public var reference: ReportReference
    /// The jurisdiction it was filed in.
    public var jurisdiction: String
    public var status: TriageStatus
    public var receivedAt: Date
    /// What the reporter said.
    public var content: ReportContent
    /// SHA-256 of `content`'s canonical JSON.
    public var contentHash: String
    /// The canonical JSON of `content`: the exact text `contentHash` covers, stored as is.
    public var canonicalContent: String
    /// How to reach the reporter; nil when anonymous. Encrypted at rest.
    public var contact: ContactDetails?
    /// SHA-256 of the follow-up code.
    public var followUpCodeHash: String
    /// Whether this is synthetic sample data.
    public var isSample: Bool

    public init(
        id: Identifier<Report>, reference: ReportReference, jurisdiction: String, status: TriageStatus,
        receivedAt: Date, content: ReportContent, contentHash: String, canonicalContent: String? = nil,
        contact: ContactDetails?, followUpCodeHash: String, isSample: Bool
    ) {
        self.canonicalContent = canonicalContent ?? content.canonicalJSON()
        self.id = id
        self.reference = reference
        self.jurisdiction = jurisdiction
        self.status = status
        self.receivedAt = receivedAt
        self.content = content
        self.contentHash = contentHash
        self.contact = contact
        self.followUpCodeHash = followUpCodeHash
        self.isSample = isSample
    }
}

/// One message in a report's anonymous thread: a reporter's supplement or a staff question.
public struct ThreadMessage: Equatable, Sendable {
    /// SHA-256 (hex) of a message's canonical content — hashed the same way as a report's content, as the
    /// canonical JSON that `JSONValue` writes. What its custody entry records and what verification re-hashes.
    public static func contentHash(reference: ReportReference, author: Author, body: String, createdAt: Date)
        -> String
    {
        ContentHash.sha256Hex(
            JSONValue.object([
                ("report", .string(reference.description)), ("author", .string(author.rawValue)),
                ("body", .string(body)), ("createdAt", .string(RFC3339.string(from: createdAt))),
            ]).serialized()
        )
    }

    /// Who wrote it.
    public enum Author: String, Codable, Sendable {
        case reporter, staff
    }

    public var id: Identifier<ThreadMessage>
    public var reportID: Identifier<Report>
    public var author: Author
    public var body: String
    public var createdAt: Date
    /// SHA-256 of the message's canonical content.
    public var contentHash: String

    public init(
        id: Identifier<ThreadMessage>, reportID: Identifier<Report>, author: Author, body: String, createdAt: Date,
        contentHash: String
    ) {
        self.id = id
        self.reportID = reportID
        self.author = author
        self.body = body
        self.createdAt = createdAt
        self.contentHash = contentHash
    }
}
