import AttestCore
import FluentKit
import Foundation

/// A report row. Queryable facts (status, dates, area, agency, consents) are columns for triage and
/// statistics; the full validated content is kept as its canonical JSON, which its hash covers.
final class ReportRecord: Model, @unchecked Sendable {
    static let schema = "reports"

    @ID(key: .id) var id: UUID?
    @Field(key: "reference") var reference: String
    @Field(key: "year") var year: Int
    @Field(key: "number") var number: Int
    @Field(key: "jurisdiction") var jurisdiction: String
    @Field(key: "status") var status: String
    @Field(key: "received_at") var receivedAt: Date
    @Field(key: "occurred_start") var occurredStart: Date
    @Field(key: "occurred_end") var occurredEnd: Date
    @OptionalField(key: "area") var area: Int?
    @OptionalField(key: "agency") var agency: String?
    @OptionalField(key: "reporter_role") var reporterRole: String?
    @Field(key: "categories") var categories: String
    @Field(key: "content_json") var contentJSON: String
    @Field(key: "content_hash") var contentHash: String
    @OptionalField(key: "contact_ciphertext") var contactCiphertext: String?
    @Field(key: "follow_up_code_hash") var followUpCodeHash: String
    @Field(key: "consent_contact") var consentContact: Bool
    @Field(key: "consent_prosecutor") var consentProsecutor: Bool
    @Field(key: "consent_statistics") var consentStatistics: Bool
    @Field(key: "language") var language: String
    @Field(key: "is_sample") var isSample: Bool

    init() {}
}

/// One message in a report's anonymous thread.
final class ThreadMessageRecord: Model, @unchecked Sendable {
    static let schema = "report_messages"

    @ID(key: .id) var id: UUID?
    @Field(key: "report_id") var reportID: UUID
    @Field(key: "author") var author: String
    @Field(key: "body") var body: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "content_hash") var contentHash: String

    init() {}
}

struct CreateReports: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ReportRecord.schema)
            .id()
            .field("reference", .string, .required)
            .field("year", .int, .required)
            .field("number", .int, .required)
            .field("jurisdiction", .string, .required)
            .field("status", .string, .required)
            .field("received_at", .datetime, .required)
            .field("occurred_start", .datetime, .required)
            .field("occurred_end", .datetime, .required)
            .field("area", .int)
            .field("agency", .string)
            .field("reporter_role", .string)
            .field("categories", .string, .required)
            .field("content_json", .string, .required)
            .field("content_hash", .string, .required)
            .field("contact_ciphertext", .string)
            .field("follow_up_code_hash", .string, .required)
            .field("consent_contact", .bool, .required)
            .field("consent_prosecutor", .bool, .required)
            .field("consent_statistics", .bool, .required)
            .field("language", .string, .required)
            .field("is_sample", .bool, .required)
            .unique(on: "reference")
            .create()
        try await database.schema(ThreadMessageRecord.schema)
            .id()
            .field("report_id", .uuid, .required, .references(ReportRecord.schema, .id))
            .field("author", .string, .required)
            .field("body", .string, .required)
            .field("created_at", .datetime, .required)
            .field("content_hash", .string, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ThreadMessageRecord.schema).delete()
        try await database.schema(ReportRecord.schema).delete()
    }
}
