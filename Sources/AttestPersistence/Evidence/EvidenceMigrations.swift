import FluentKit
import FluentSQL

/// Uploads in progress (`uploads`: one row per tus upload, its bytes in the data directory until complete)
/// and the evidence attached to reports (`evidence`: one row per sealed original, named by its SHA-256).
struct CreateEvidence: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema("uploads")
            .field("id", .string, .identifier(auto: false))
            .field("length", .int64, .required)
            .field("source", .string, .required)
            .field("state", .string, .required)
            .field("sender_sha256", .string)
            .field("metadata", .string)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .field("completed_at", .datetime)
            .field("sha256", .string)
            .field("sha512", .string)
            .field("media_type", .string)
            .field("report_id", .uuid)
            .create()
        try await database.schema("evidence")
            .field("id", .uuid, .identifier(auto: false))
            .field("report_id", .uuid, .required)
            .field("upload_id", .string, .required)
            .field("sha256", .string, .required)
            .field("sha512", .string, .required)
            .field("size", .int64, .required)
            .field("media_type", .string, .required)
            .field("source", .string, .required)
            .field("received_at", .datetime, .required)
            .field("sender_sha256", .string)
            .unique(on: "upload_id")
            .create()
        guard let sql = database as? any SQLDatabase else { throw PersistenceError.unsupportedDatabase }
        try await sql.raw("CREATE INDEX evidence_report_id ON evidence (report_id)").run()
        try await sql.raw("CREATE INDEX evidence_sha256 ON evidence (sha256)").run()
        try await sql.raw("CREATE INDEX uploads_expires_at ON uploads (expires_at)").run()
        try await sql.raw("CREATE INDEX uploads_sha256 ON uploads (sha256)").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("evidence").delete()
        try await database.schema("uploads").delete()
    }
}
