import AttestCore
import AttestPersistence
import Foundation

/// Everything an operator can configure, read from environment variables (documented in the README).
/// Every limit has a default and a variable; a malformed value stops start-up with a message naming it.
public struct AttestConfiguration: Sendable {
    /// Where the SQLite database, keys and secrets live (`ATTEST_DATA_DIR`, default `./attest-data`).
    public var dataDirectory: URL
    /// Where key files live (`ATTEST_KEY_DIR`; `keys` in the data directory when unset). Put it on another disk or
    /// mount than the database, so that a copy of one is not a copy of both.
    public var keyDirectoryOverride: URL?
    /// The directory of the contact, cookie and checkpoint-signing key files.
    public var keyDirectory: URL { keyDirectoryOverride ?? dataDirectory.appendingPathComponent("keys") }
    /// The database (`DATABASE_URL`; SQLite in the data directory when unset).
    public var database: DatabaseKind
    /// The directory of the jurisdiction configuration (`ATTEST_JURISDICTION_DIR`; Chicago by default).
    public var jurisdictionDirectory: URL
    /// The public base URL (`ATTEST_PUBLIC_URL`); an `https` URL makes cookies `Secure`.
    public var publicURL: String
    /// The contact encryption key, base64 (`ATTEST_CONTACT_KEY`); a key file in the data directory otherwise.
    public var contactKey: String?
    /// The previous contact key during a rotation of a configured key (`ATTEST_CONTACT_KEY_PREVIOUS`).
    public var previousContactKey: String?
    /// Report limits (`ATTEST_LIMIT_*`).
    public var limits = ReportLimits()
    /// Largest request body in bytes (`ATTEST_MAX_BODY_BYTES`, default 262144).
    public var maxBodyBytes = 256 * 1024
    /// Limits of `multipart/form-data` bodies and of the time a form body may take (`ATTEST_MULTIPART_*`,
    /// `ATTEST_FORM_BODY_SECONDS`).
    var multipart = MultipartLimits()
    /// A connection with nothing read or written for this long is closed (`ATTEST_IDLE_TIMEOUT_SECONDS`, default
    /// 60); a refused body stops being read, so this is also when its connection closes.
    public var idleTimeoutSeconds = 60
    /// Write requests (POST) allowed per client per minute (`ATTEST_RATE_LIMIT_PER_MINUTE`, 0 disables).
    public var rateLimitPerMinute = 30
    /// Per-client limits on upload requests and bytes (`ATTEST_UPLOAD_REQUESTS_PER_MINUTE`,
    /// `ATTEST_UPLOAD_BYTES_PER_MINUTE`); `writes` follows `rateLimitPerMinute`.
    var uploadRateLimits = RateLimiter.Limits()
    /// Every rate limit, per client and minute.
    var rateLimits: RateLimiter.Limits {
        var limits = uploadRateLimits
        limits.writes = rateLimitPerMinute
        return limits
    }
    /// How the client's address is found behind reverse proxies (`ATTEST_TRUSTED_PROXY_HOPS`,
    /// `ATTEST_TRUSTED_PROXIES`, `ATTEST_TRUST_PROXY`).
    var clientAddresses = ClientAddressPolicy()
    /// One trusted reverse proxy (`ATTEST_TRUST_PROXY=true`): the client is the address it appended to
    /// `X-Forwarded-For`.
    public var trustProxy: Bool {
        get { clientAddresses.hops > 0 }
        set { clientAddresses.hops = newValue ? max(1, clientAddresses.hops) : 0 }
    }
    /// SQLite durability (`ATTEST_SQLITE_SYNCHRONOUS`: `full` or `normal`).
    public var sqliteSynchronous = FluentReportStore.SQLiteSynchronous.full
    /// Lifetime of a follow-up sign-in, in seconds (`ATTEST_FOLLOW_UP_SESSION_SECONDS`, default 1800).
    public var followUpSessionSeconds = 1800
    /// The custody log's checkpoint origin (`ATTEST_LOG_ORIGIN`; default: the public URL without its scheme,
    /// plus `/log`). Keep it fixed once checkpoints are published.
    public var logOrigin: String?
    /// The checkpoint key name (`ATTEST_LOG_KEY_NAME`; default: the origin, as C2SP recommends). With a
    /// configured signing key, the name inside that key string is used.
    public var logKeyName: String?
    /// The checkpoint signing key as a signer-key string (`ATTEST_LOG_SIGNING_KEY`); a seed file in the data
    /// directory otherwise (`keys/log-signing.seed`, created on first run). Its key name is the origin.
    public var logSigningKey: String?
    /// Publish a checkpoint after this many new entries (`ATTEST_CHECKPOINT_ENTRIES`, default 1000)…
    public var checkpointEntries = 1000
    /// …or after this many seconds with any new entry (`ATTEST_CHECKPOINT_SECONDS`, default 10).
    public var checkpointSeconds = 10

    /// Evidence limits and the allow-list (`ATTEST_EVIDENCE_*`, `ATTEST_UPLOAD_EXPIRY_SECONDS`,
    /// `ATTEST_DISK_FREE_FLOOR_BYTES`).
    public var evidence = EvidenceLimits()
    /// How often expired uploads are swept, in seconds (`ATTEST_UPLOAD_SWEEP_SECONDS`, default 300).
    public var uploadSweepSeconds = 300
    /// The exiftool executable (`ATTEST_EXIFTOOL`: a path, or `off`; default: `exiftool` on `PATH` if any).
    public var exiftool: String?
    /// Bounds of each capture metadata extraction (`ATTEST_EXIFTOOL_CONCURRENCY`, `_QUEUE`, `_SECONDS`,
    /// `_MEMORY_BYTES`, `_OUTPUT_BYTES`).
    var metadata = MetadataLimits()

    /// A staff session ends after this many seconds without use (`ATTEST_STAFF_IDLE_SECONDS`, default 1800)…
    public var staffIdleSeconds = 1800
    /// …and this many seconds after sign-in in any case (`ATTEST_STAFF_SESSION_SECONDS`, default 43200).
    public var staffSessionSeconds = 43_200
    /// Reports whose time windows come within this many hours are suggested as related
    /// (`ATTEST_RELATED_HOURS`, default 6).
    public var relatedHours = 6
    /// Results a staff search shows at most (`ATTEST_SEARCH_RESULTS`, default 50).
    public var searchResults = 50
    /// Longest staff search, in characters (`ATTEST_SEARCH_MAX_CHARACTERS`, default 200).
    public var searchMaxCharacters = 200
    /// bcrypt cost for staff passwords (`ATTEST_BCRYPT_COST`, default 12; tests use fewer rounds).
    public var bcryptCost = 12
    /// Staff sign-in: password hashing threads and queue, throttling, lockout, trusted devices, approvals
    /// (`ATTEST_STAFF_HASH_*`, `ATTEST_STAFF_SIGN_IN_PER_MINUTE`, `ATTEST_STAFF_MAX_FAILURES`, …).
    var staffSignIn = StaffSignInLimits()

    /// The origin line of checkpoints.
    public var effectiveLogOrigin: String {
        if let logOrigin { return logOrigin }
        let withoutScheme = publicURL.split(separator: "://", maxSplits: 1).last.map(String.init) ?? publicURL
        return withoutScheme + "/log"
    }

    /// Whether cookies must carry `Secure`.
    public var usesTLS: Bool { publicURL.lowercased().hasPrefix("https://") }

    /// A configuration problem, naming the variable.
    public struct Error: Swift.Error, CustomStringConvertible {
        public var variable: String
        public var reason: String
        public var description: String { "\(variable): \(reason)" }
    }

    public init(
        dataDirectory: URL, database: DatabaseKind, jurisdictionDirectory: URL = Self.bundledJurisdiction("chicago"),
        publicURL: String = "http://127.0.0.1:8080"
    ) {
        self.dataDirectory = dataDirectory
        self.database = database
        self.jurisdictionDirectory = jurisdictionDirectory
        self.publicURL = publicURL
    }

    /// The directory of a jurisdiction shipped with Attest.
    public static func bundledJurisdiction(_ code: String) -> URL {
        AttestResources.directory.appendingPathComponent("Jurisdictions/\(code)")
    }

    /// Reads the configuration from `environment`.
    public static func from(environment: [String: String]) throws -> AttestConfiguration {
        let dataDirectory = URL(
            fileURLWithPath: environment["ATTEST_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "attest-data",
            isDirectory: true
        ).standardizedFileURL
        let database: DatabaseKind
        do {
            database = try DatabaseKind.from(databaseURL: environment["DATABASE_URL"], dataDirectory: dataDirectory)
        } catch {
            throw Error(variable: "DATABASE_URL", reason: "\(error)")
        }
        var configuration = AttestConfiguration(dataDirectory: dataDirectory, database: database)
        if let value = environment["ATTEST_JURISDICTION_DIR"], !value.isEmpty {
            configuration.jurisdictionDirectory = URL(fileURLWithPath: value, isDirectory: true)
        } else if let value = environment["ATTEST_JURISDICTION"], !value.isEmpty {
            guard value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw Error(variable: "ATTEST_JURISDICTION", reason: "must be the name of a bundled jurisdiction")
            }
            configuration.jurisdictionDirectory = bundledJurisdiction(value)
        }
        if let value = environment["ATTEST_PUBLIC_URL"], !value.isEmpty {
            guard let url = URLComponents(string: value), url.scheme == "http" || url.scheme == "https", url.host != nil
            else { throw Error(variable: "ATTEST_PUBLIC_URL", reason: "must be an http:// or https:// URL") }
            configuration.publicURL = value.hasSuffix("/") ? String(value.dropLast()) : value
        }
        if let value = environment["ATTEST_KEY_DIR"], !value.isEmpty {
            configuration.keyDirectoryOverride = URL(fileURLWithPath: value, isDirectory: true)
        }
        configuration.contactKey = environment["ATTEST_CONTACT_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.previousContactKey = environment["ATTEST_CONTACT_KEY_PREVIOUS"].flatMap { $0.isEmpty ? nil : $0 }

        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw Error(
                    variable: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        var limits = ReportLimits()
        limits.narrativeMaxCharacters =
            try integer("ATTEST_LIMIT_NARRATIVE_CHARS", 100...1_000_000) ?? limits.narrativeMaxCharacters
        limits.locationMaxCharacters =
            try integer("ATTEST_LIMIT_LOCATION_CHARS", 20...10_000) ?? limits.locationMaxCharacters
        limits.shortTextMaxCharacters =
            try integer("ATTEST_LIMIT_SHORT_TEXT_CHARS", 20...10_000) ?? limits.shortTextMaxCharacters
        limits.supplementMaxCharacters =
            try integer("ATTEST_LIMIT_SUPPLEMENT_CHARS", 100...1_000_000) ?? limits.supplementMaxCharacters
        limits.supplementsPerReportMax =
            try integer("ATTEST_LIMIT_SUPPLEMENTS_PER_REPORT", 1...10_000) ?? limits.supplementsPerReportMax
        limits.agentCountMax = try integer("ATTEST_LIMIT_AGENT_COUNT", 1...100_000) ?? limits.agentCountMax
        limits.agentDescriptionsMax =
            try integer("ATTEST_LIMIT_AGENT_DESCRIPTIONS", 1...1_000) ?? limits.agentDescriptionsMax
        limits.clockSkewTolerance = TimeInterval(
            try integer("ATTEST_CLOCK_SKEW_SECONDS", 0...86_400) ?? Int(limits.clockSkewTolerance)
        )
        limits.windowMaxDays = try integer("ATTEST_LIMIT_WINDOW_DAYS", 1...3_650) ?? limits.windowMaxDays
        configuration.limits = limits
        configuration.maxBodyBytes =
            try integer("ATTEST_MAX_BODY_BYTES", 4_096...64 * 1024 * 1024) ?? configuration.maxBodyBytes
        var multipart = MultipartLimits()
        multipart.headerBytes = try integer("ATTEST_MULTIPART_HEADER_BYTES", 256...65_536) ?? multipart.headerBytes
        multipart.headers = try integer("ATTEST_MULTIPART_HEADERS", 1...64) ?? multipart.headers
        multipart.parts = try integer("ATTEST_MULTIPART_PARTS", 1...100_000) ?? multipart.parts
        multipart.nameBytes = try integer("ATTEST_MULTIPART_NAME_BYTES", 16...4_096) ?? multipart.nameBytes
        multipart.bodySeconds = try integer("ATTEST_FORM_BODY_SECONDS", 5...86_400) ?? multipart.bodySeconds
        configuration.multipart = multipart
        configuration.idleTimeoutSeconds =
            try integer("ATTEST_IDLE_TIMEOUT_SECONDS", 5...3_600) ?? configuration.idleTimeoutSeconds
        configuration.rateLimitPerMinute =
            try integer("ATTEST_RATE_LIMIT_PER_MINUTE", 0...1_000_000) ?? configuration.rateLimitPerMinute
        configuration.followUpSessionSeconds =
            try integer("ATTEST_FOLLOW_UP_SESSION_SECONDS", 60...86_400) ?? configuration.followUpSessionSeconds
        if let value = environment["ATTEST_LOG_ORIGIN"], !value.isEmpty {
            guard !value.contains("+"), !value.unicodeScalars.contains(where: { $0.properties.isWhitespace }),
                value.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value != 0x7f })
            else {
                throw Error(variable: "ATTEST_LOG_ORIGIN", reason: "must have no spaces, control characters or '+'")
            }
            configuration.logOrigin = value
        }
        if let value = environment["ATTEST_LOG_KEY_NAME"], !value.isEmpty {
            guard !value.contains("+"), value.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value != 0x7f }) else {
                throw Error(variable: "ATTEST_LOG_KEY_NAME", reason: "must have no spaces, control characters or '+'")
            }
            configuration.logKeyName = value
        }
        configuration.logSigningKey = environment["ATTEST_LOG_SIGNING_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.checkpointEntries =
            try integer("ATTEST_CHECKPOINT_ENTRIES", 1...10_000_000) ?? configuration.checkpointEntries
        configuration.checkpointSeconds =
            try integer("ATTEST_CHECKPOINT_SECONDS", 1...86_400) ?? configuration.checkpointSeconds
        func bytes(_ name: String, _ range: ClosedRange<Int64>) throws -> Int64? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int64(text), range.contains(value) else {
                throw Error(
                    variable: name, reason: "must be a number of bytes from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        var evidence = EvidenceLimits()
        evidence.maxFileBytes = try bytes("ATTEST_EVIDENCE_MAX_FILE_BYTES", 1...(1 << 50)) ?? evidence.maxFileBytes
        evidence.filesPerReportMax =
            try integer("ATTEST_EVIDENCE_FILES_PER_REPORT", 0...10_000) ?? evidence.filesPerReportMax
        evidence.totalBytesPerReportMax =
            try bytes("ATTEST_EVIDENCE_BYTES_PER_REPORT", 1...(1 << 52)) ?? evidence.totalBytesPerReportMax
        evidence.uploadExpirySeconds =
            try integer("ATTEST_UPLOAD_EXPIRY_SECONDS", 60...30 * 86_400) ?? evidence.uploadExpirySeconds
        evidence.freeDiskFloorBytes =
            try bytes("ATTEST_DISK_FREE_FLOOR_BYTES", 0...(1 << 50)) ?? evidence.freeDiskFloorBytes
        evidence.unattachedExpirySeconds =
            try integer("ATTEST_UPLOAD_UNATTACHED_SECONDS", 60...30 * 86_400) ?? evidence.unattachedExpirySeconds
        evidence.openPromiseSeconds =
            try integer("ATTEST_UPLOAD_PROMISE_SECONDS", 10...86_400) ?? evidence.openPromiseSeconds
        evidence.openBytesPerClientMax =
            try bytes("ATTEST_UPLOAD_OPEN_BYTES_PER_CLIENT", 1...(1 << 52)) ?? evidence.openBytesPerClientMax
        evidence.browserHashMaxBytes =
            try bytes("ATTEST_BROWSER_HASH_MAX_BYTES", 0...(4 << 30)) ?? evidence.browserHashMaxBytes
        if let value = environment["ATTEST_EVIDENCE_TYPES"], !value.isEmpty {
            guard let list = EvidenceAllowList(parsing: value) else {
                throw Error(
                    variable: "ATTEST_EVIDENCE_TYPES",
                    reason: "must list image, video, audio, document or recognised media types, comma-separated")
            }
            evidence.allowList = list
        }
        configuration.evidence = evidence
        configuration.uploadSweepSeconds =
            try integer("ATTEST_UPLOAD_SWEEP_SECONDS", 1...86_400) ?? configuration.uploadSweepSeconds
        configuration.staffIdleSeconds =
            try integer("ATTEST_STAFF_IDLE_SECONDS", 60...86_400) ?? configuration.staffIdleSeconds
        configuration.staffSessionSeconds =
            try integer("ATTEST_STAFF_SESSION_SECONDS", 300...7 * 86_400) ?? configuration.staffSessionSeconds
        configuration.relatedHours = try integer("ATTEST_RELATED_HOURS", 0...720) ?? configuration.relatedHours
        configuration.searchResults = try integer("ATTEST_SEARCH_RESULTS", 1...500) ?? configuration.searchResults
        configuration.searchMaxCharacters =
            try integer("ATTEST_SEARCH_MAX_CHARACTERS", 10...2_000) ?? configuration.searchMaxCharacters
        configuration.bcryptCost = try integer("ATTEST_BCRYPT_COST", 10...16) ?? configuration.bcryptCost
        configuration.staffSignIn = try StaffSignInLimits(environment: environment)
        configuration.exiftool = environment["ATTEST_EXIFTOOL"].flatMap { $0.isEmpty ? nil : $0 }
        var metadata = MetadataLimits()
        metadata.concurrency = try integer("ATTEST_EXIFTOOL_CONCURRENCY", 1...64) ?? metadata.concurrency
        metadata.queue = try integer("ATTEST_EXIFTOOL_QUEUE", 0...1_000_000) ?? metadata.queue
        metadata.seconds = try integer("ATTEST_EXIFTOOL_SECONDS", 1...3_600) ?? metadata.seconds
        metadata.memoryBytes =
            try bytes("ATTEST_EXIFTOOL_MEMORY_BYTES", (64 << 20)...(1 << 40)) ?? metadata.memoryBytes
        metadata.outputBytes = try integer("ATTEST_EXIFTOOL_OUTPUT_BYTES", 4_096...(256 << 20)) ?? metadata.outputBytes
        configuration.metadata = metadata
        if let value = environment["ATTEST_TRUST_PROXY"], !value.isEmpty {
            guard ["true", "false", "1", "0"].contains(value.lowercased()) else {
                throw Error(variable: "ATTEST_TRUST_PROXY", reason: "must be true or false")
            }
            configuration.trustProxy = value == "1" || value.lowercased() == "true"
        }
        if let hops = try integer("ATTEST_TRUSTED_PROXY_HOPS", 0...16) { configuration.clientAddresses.hops = hops }
        if let value = environment["ATTEST_TRUSTED_PROXIES"], !value.isEmpty {
            guard let networks = ClientAddressPolicy.networks(value) else {
                throw Error(
                    variable: "ATTEST_TRUSTED_PROXIES",
                    reason: "must list IP addresses or networks (192.0.2.10, 10.0.0.0/8, 2001:db8::/48), "
                        + "comma-separated")
            }
            configuration.clientAddresses.proxies = networks
        }
        var rates = configuration.uploadRateLimits
        rates.uploadRequests = try integer("ATTEST_UPLOAD_REQUESTS_PER_MINUTE", 0...1_000_000) ?? rates.uploadRequests
        rates.uploadBytes = try bytes("ATTEST_UPLOAD_BYTES_PER_MINUTE", 0...(1 << 50)) ?? rates.uploadBytes
        configuration.uploadRateLimits = rates
        if let value = environment["ATTEST_SQLITE_SYNCHRONOUS"], !value.isEmpty {
            guard let mode = FluentReportStore.SQLiteSynchronous(rawValue: value.uppercased()) else {
                throw Error(variable: "ATTEST_SQLITE_SYNCHRONOUS", reason: "must be full or normal")
            }
            configuration.sqliteSynchronous = mode
        }
        return configuration
    }
}
