import AttestCore
import AttestPersistence
import AttestWeb
import FluentKit
import FluentSQL
import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// The database tests run on: PostgreSQL when `ATTEST_TEST_DATABASE_URL` is set (each test in a schema of its
/// own, so tests run in parallel without seeing each other's rows and nothing needs cleaning between them
/// but one `DROP SCHEMA`), otherwise an SQLite file in the test's own temporary data directory (a file,
/// not memory, so write-ahead logging and durability are the real ones).
public enum TestDatabase {
    /// The PostgreSQL URL for tests, if any.
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["ATTEST_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A fresh database for one test.
    public static func fresh(in dataDirectory: URL, postgres: Bool = TestDatabase.postgresURL != nil) -> DatabaseKind {
        if postgres, let url = postgresURL {
            let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            return .postgres(url: url, searchPath: [schema])
        }
        return .sqliteFile(dataDirectory.appendingPathComponent("attest.sqlite"))
    }

    /// Drops a test's PostgreSQL schema.
    public static func drop(_ kind: DatabaseKind, on database: any Database) async {
        guard case .postgres(_, let searchPath?) = kind, let schema = searchPath.first,
            let sql = database as? any SQLDatabase
        else { return }
        try? await sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run()
    }
}

/// Every log line written during the test run, for tests that check what is (not) logged.
public enum CapturedLogs {
    private static let lines = NIOLockedValueBox<[String]>([])

    private static let bootstrapOnce: Void = {
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: CapturedLogs.append) }
    }()

    /// Installs the capturing handler (once per process).
    public static func install() { _ = bootstrapOnce }

    /// All lines so far, with their metadata.
    public static var all: [String] { lines.withLockedValue { $0 } }

    static func append(_ line: String) { lines.withLockedValue { $0.append(line) } }

}

/// A running Attest for one test: its own data directory, database, clock.
public struct TestHarness: Sendable {
    public let app: Application
    public let dataDirectory: URL
    public let database: DatabaseKind
    public let clock: TestClock

    /// The number of stored reports (real, not samples).
    public func reportCount() async throws -> Int {
        try await app.attest.reports.countReports(samples: false)
    }

    /// The number of custody log entries.
    public func custodyEntryCount() async throws -> Int {
        guard let sql = app.db as? any SQLDatabase else { return -1 }
        struct Row: Decodable { var count: Int }
        return try await sql.raw("SELECT COUNT(*) AS count FROM custody_entries").first(decoding: Row.self)?.count ?? -1
    }
}

/// Runs `body` against a fresh Attest, then shuts it down and removes its data.
public func withAttest(
    jurisdictionDirectory: URL? = nil, clock: TestClock = TestClock(), postgres: Bool = TestDatabase.postgresURL != nil,
    configure adjust: (inout AttestConfiguration) -> Void = { _ in },
    _ body: (TestHarness) async throws -> Void
) async throws {
    CapturedLogs.install()
    let dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
        "attest-test-\(UUID().uuidString)", isDirectory: true
    )
    let database = TestDatabase.fresh(in: dataDirectory, postgres: postgres)
    var configuration = AttestConfiguration(dataDirectory: dataDirectory, database: database)
    if let jurisdictionDirectory { configuration.jurisdictionDirectory = jurisdictionDirectory }
    configuration.rateLimitPerMinute = 0
    configuration.bcryptCost = 10  // bcrypt's lowest accepted cost here: staff tests sign in many times
    // The server's own name is stored and logged (the checkpoint origin); keep it distinct from the loopback
    // address clients connect from, which tests check is never logged or stored.
    configuration.publicURL = "http://attest.test"
    adjust(&configuration)
    let app = try await Application.make(.testing)
    do {
        try await configure(app, with: configuration, clock: clock)
        try await body(TestHarness(app: app, dataDirectory: dataDirectory, database: database, clock: clock))
    } catch {
        await TestDatabase.drop(database, on: app.db)
        try? await app.asyncShutdown()
        try? FileManager.default.removeItem(at: dataDirectory)
        throw error
    }
    await TestDatabase.drop(database, on: app.db)
    try await app.asyncShutdown()
    try? FileManager.default.removeItem(at: dataDirectory)
}

/// A log handler that hands each line, with its level, label and metadata, to `sink`: the process-wide capture
/// (`CapturedLogs`) or a test's own.
public struct LineLogHandler: LogHandler {
    public let label: String
    public let sink: @Sendable (String) -> Void
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(label: String, sink: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String,
        file: String, function: String, line: UInt
    ) {
        let all = metadata.merging(extra ?? [:]) { _, new in new }
        sink("\(level) \(label) \(message) \(all)")
    }
}
