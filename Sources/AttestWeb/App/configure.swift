import AttestCore
import AttestPersistence
import Fluent
import Foundation
import Leaf
import LeafKit
import Vapor

/// Builds the application from its configuration.
public func configure(
    _ app: Application, with configuration: AttestConfiguration,
    clock: any AttestCore.Clock = SystemClock(), random: any RandomSource = SystemRandomSource()
) async throws {
    // 0. Logging: at trace level Vapor's HTTP server logs every request head, forwarding headers (client
    //    addresses) and Authorization (follow-up codes) included; Attest's application log never goes below debug.
    app.logger.logLevel = max(app.logger.logLevel, .debug)
    // 1. The data directory, owner-only: it holds the database, keys and secrets.
    try FileManager.default.createDirectory(
        at: configuration.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
    )
    // 2. The jurisdiction and the translations.
    let jurisdiction = try JurisdictionLoader.load(directory: configuration.jurisdictionDirectory)
    let catalogs = try MessageCatalogs.bundled()
    // 3. The database, migrated automatically.
    try configuration.database.register(in: app.databases)
    try await configuration.database.createSchemaIfNeeded(on: app.db)
    app.migrations.add(AttestMigrations.all)
    try await app.autoMigrate()
    // 4. Keys: contact encryption (a key file, mode 0600, unless configured) and the cookie-signing secret.
    let keyRing =
        if let key = configuration.contactKey {
            try ContactKeyRing.configured(base64: key, previous: configuration.previousContactKey)
        } else {
            try ContactKeyRing.file(
                at: configuration.keyDirectory.appendingPathComponent("contact-keys.json"), random: random,
                now: clock.now()
            )
        }
    let cookieSecret = try SecretFiles.loadOrCreate(
        at: configuration.keyDirectory.appendingPathComponent("cookie.key"), count: 32, random: random
    )
    // 5. The store, with the custody log's genesis entry.
    let store = FluentReportStore(
        database: { [unowned app] in app.quietDatabase }, cipher: ContactCipher(ring: keyRing), random: random,
        kind: configuration.database, sqliteSynchronous: configuration.sqliteSynchronous
    )
    try await store.prepare(now: clock.now())
    // Registered after Fluent's handler, so shut down before it: background indexing stops while the database is up.
    app.lifecycle.use(StoreBackgroundWork(store: store))
    // 6. The custody log's signing key (generated into the data directory on first run unless configured) and
    //    its first checkpoint: a log is never published empty, and from here on never without a checkpoint.
    let origin = configuration.effectiveLogOrigin
    let signer = try LogSigningKey.load(
        configured: configuration.logSigningKey,
        fileURL: configuration.keyDirectory.appendingPathComponent("log-signing.seed"),
        name: configuration.logKeyName ?? origin,
        random: random
    )
    let ledger = CustodyLedger(store: store, signer: signer, origin: origin)
    try await ledger.publishIfDue(now: clock.now(), policy: .always)
    // 7. The evidence store and resumable uploads (a serving process completes or cleans up what a crash left).
    let uploads = try UploadService(
        store: store,
        blobs: try FileEvidenceStore(root: configuration.dataDirectory.appendingPathComponent("evidence")),
        limits: configuration.evidence, directory: configuration.dataDirectory.appendingPathComponent("uploads"),
        pool: app.threadPool,
        metadata: .locate(
            configured: configuration.exiftool, path: ProcessInfo.processInfo.environment["PATH"],
            limits: configuration.metadata),
        logger: app.logger, clock: clock
    )
    app.lifecycle.use(UploadSweeper(interval: TimeInterval(configuration.uploadSweepSeconds)))
    // 8. Services, reachable from every handler.
    let resources = AttestResources.directory
    app.attest = AttestServices(
        configuration: configuration, jurisdiction: jurisdiction, catalogs: catalogs, store: store, clock: clock,
        random: random, cookieKey: SymmetricKey(data: cookieSecret),
        openAPIDocument: try Data(contentsOf: resources.appendingPathComponent("openapi.json")),
        rateLimiter: RateLimiter(limits: configuration.rateLimits, random: random), ledger: ledger,
        uploads: uploads,
        passwordHasher: try await BcryptPasswordHasher.started(for: app, configuration: configuration),
        search: FluentSearchIndex(
            database: { [unowned app] logger in app.databases.database(logger: logger, on: app.eventLoopGroup.any())! },
            catchUp: { try await store.indexPendingSearch() }
        )
    )
    app.lifecycle.use(FirstStartSetupLink())
    app.lifecycle.use(
        CheckpointPublisher(
            policy: .init(
                entries: UInt64(configuration.checkpointEntries), seconds: TimeInterval(configuration.checkpointSeconds)
            )
        )
    )
    // 9. Views: Leaf templates from the bundle.
    app.directory.viewsDirectory = resources.appendingPathComponent("Views").path + "/"
    app.directory.publicDirectory = resources.appendingPathComponent("Public").path + "/"
    app.views.use(.leaf)
    // Leaf's default sandbox refuses paths with hidden components, and SwiftPM builds into `.build`.
    app.leaf.sources = .singleSource(
        NIOLeafFiles(
            fileio: app.fileio, limits: [.toSandbox, .requireExtensions],
            sandboxDirectory: app.directory.viewsDirectory, viewDirectory: app.directory.viewsDirectory
        )
    )
    // 10. Request handling: body limit, middleware (outermost first; all future-based, so a request starts no
    //     task before its route's handler), routes.
    app.routes.defaultMaxBodySize = ByteCount(value: configuration.maxBodyBytes)
    // Bodies are taken as sent: no gzip inflation of untrusted input (Vapor enables it by default), which also
    // takes a handler out of every request's pipeline.
    app.http.server.configuration.requestDecompression = .disabled
    app.http.server.configuration.idleTimeout = .seconds(Int64(configuration.idleTimeoutSeconds))
    app.middleware = Middlewares()
    app.middleware.use(RequestLogMiddleware())
    app.middleware.use(SecurityHeadersMiddleware(usesTLS: configuration.usesTLS))
    app.middleware.use(AttestErrorMiddleware())
    app.middleware.use(LanguageMiddleware())
    app.middleware.use(RateLimitMiddleware())
    app.middleware.use(try StaticFilesMiddleware(directory: resources.appendingPathComponent("Public")))
    try routes(app)
    // 11. Commands.
    app.asyncCommands.use(KeysCommand(), as: "keys")
    app.asyncCommands.use(SamplesCommand(), as: "samples")
    app.asyncCommands.use(LogCommand(), as: "log")
    app.asyncCommands.use(EvidenceCommand(), as: "evidence")
    app.asyncCommands.use(StaffCommand(), as: "staff")
}

/// Every route. Handlers live in their feature folders.
func routes(_ app: Application) throws {
    try app.register(collection: HomeController())
    try app.register(collection: ReportFormController())
    try app.register(collection: FollowUpController())
    try app.register(collection: ReportsAPIController())
    try app.register(collection: LogController())
    try app.register(collection: UploadsController())
    try app.register(collection: StaffController())
    try app.register(collection: TriageController())
    try app.register(collection: IncidentsController())
    try app.register(collection: CaseFilesController())
    try app.register(collection: CaseFilePartsController())
    try app.register(collection: SearchController())
    try app.register(collection: PatternsController())
}

extension Application {
    /// The default database, with a logger that never goes below `info`: FluentKit logs every query with its
    /// values at `debug` ("Running query"), and those values are narratives, contacts, references and codes.
    public var quietDatabase: any Database {
        var logger = self.logger
        logger.logLevel = max(logger.logLevel, .info)
        return databases.database(logger: logger, on: eventLoopGroup.any())!
    }
}

/// Stops the store's background work at shutdown, before the databases close.
struct StoreBackgroundWork: LifecycleHandler {
    let store: FluentReportStore

    func shutdownAsync(_ application: Application) async {
        await store.shutdown()
    }
}
