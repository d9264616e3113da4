import FluentKit
import FluentPostgresDriver
import FluentSQL
import FluentSQLiteDriver
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Which database Attest uses: an SQLite file in the data directory by default, PostgreSQL when
/// `DATABASE_URL` is a `postgres://` URL, or an in-memory SQLite database for tests.
public enum DatabaseKind: Sendable, Equatable {
    case sqliteFile(URL)
    case sqliteMemory
    case postgres(url: String, searchPath: [String]?)

    /// Why a database URL was refused.
    public enum Error: Swift.Error, CustomStringConvertible {
        case unsupportedURL(String)

        public var description: String {
            switch self {
            case .unsupportedURL(let scheme):
                "DATABASE_URL must be a postgres:// or postgresql:// URL (got scheme \"\(scheme)\")"
            }
        }
    }

    /// The database for a `DATABASE_URL` value (nil or empty: SQLite in `dataDirectory`).
    public static func from(databaseURL: String?, dataDirectory: URL) throws -> DatabaseKind {
        guard let databaseURL, !databaseURL.isEmpty else {
            return .sqliteFile(dataDirectory.appendingPathComponent("attest.sqlite"))
        }
        let scheme = URLComponents(string: databaseURL)?.scheme?.lowercased() ?? ""
        guard scheme == "postgres" || scheme == "postgresql" else { throw Error.unsupportedURL(scheme) }
        return .postgres(url: databaseURL, searchPath: nil)
    }

    /// The SQLite database file, if this is one.
    public var sqliteFile: URL? {
        if case .sqliteFile(let url) = self { return url }
        return nil
    }

    public var isSQLite: Bool {
        if case .postgres = self { return false }
        return true
    }

    /// Creates the PostgreSQL schema named first in the search path, when there is one (tests give each
    /// test its own schema; a deployment may keep Attest in a schema of its own).
    public func createSchemaIfNeeded(on database: any Database) async throws {
        guard case .postgres(_, let searchPath?) = self, let schema = searchPath.first,
            let sql = database as? any SQLDatabase
        else { return }
        try await sql.raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run()
    }

    /// Registers this database with Fluent as the default; PostgreSQL with up to `connectionsPerEventLoop`
    /// connections per event loop.
    public func register(in databases: Databases, connectionsPerEventLoop: Int = 3) throws {
        switch self {
        case .sqliteFile(let url):
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true
            )
            // Owner-only from the first byte: SQLite creates the -wal and -shm files with the database's mode.
            let descriptor = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            if descriptor >= 0 { close(descriptor) }
            _ = chmod(url.path, 0o600)
            // No SQL in the logs at any level: bound values are personal data, references and codes.
            databases.use(.sqlite(.file(url.path), sqlLogLevel: nil), as: .sqlite)
        case .sqliteMemory:
            databases.use(.sqlite(.memory, sqlLogLevel: nil), as: .sqlite)
        case .postgres(let url, let searchPath):
            var configuration = try SQLPostgresConfiguration(url: url)
            configuration.searchPath = searchPath
            // A schema of its own means a test, one of a hundred running at once on two cores: concurrency tests
            // queue dozens of transactions behind the custody sequence's row lock, so a connection may be waited
            // for longer than a server request should ever wait (10 s).
            let poolTimeout: TimeAmount = searchPath == nil ? .seconds(10) : .seconds(90)
            // Three connections per event loop, for reads, the search indexer and migrations; the group committer
            // writes through one of its own (`CommitterDatabases`).
            databases.use(
                .postgres(
                    configuration: configuration, maxConnectionsPerEventLoop: connectionsPerEventLoop,
                    connectionPoolTimeout: poolTimeout,
                    sqlLogLevel: .trace),
                as: .psql)
        }
    }
}
