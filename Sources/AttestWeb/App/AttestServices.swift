import AttestCore
import AttestPersistence
import Crypto
import Foundation
import Vapor

/// The application's collaborators, built once in `configure` and reached through `app.attest` or
/// `req.attest`. Handlers build use cases from these. A class: every request reaches it several times, and each
/// copy of a struct this size cost 1 % of a submission in reference counting.
public final class AttestServices: Sendable {
    public let configuration: AttestConfiguration
    public let jurisdiction: Jurisdiction
    public let catalogs: MessageCatalogs
    public let store: FluentReportStore
    public let clock: any AttestCore.Clock
    public let random: any RandomSource
    /// Signs the follow-up session cookie.
    public let cookieKey: SymmetricKey
    /// The OpenAPI document served at `/api/v1/openapi.json`.
    public let openAPIDocument: Data
    let rateLimiter: RateLimiter
    /// The custody log: proofs, tiles, checkpoints.
    public let ledger: CustodyLedger
    /// Resumable uploads and the evidence store.
    let uploads: UploadService
    /// bcrypt for staff passwords, on threads of its own.
    let passwordHasher: any StaffPasswordHasher
    /// Staff sign-in attempts per client, and tries per client and account.
    let signInThrottle: SignInThrottle
    /// Full-text search over reports, incidents and case files (queries are never logged).
    public let search: FluentSearchIndex
    /// Languages offered: the jurisdiction's, where a catalog exists.
    public let languages: [String]
    public let validator: ReportValidator

    init(
        configuration: AttestConfiguration, jurisdiction: Jurisdiction, catalogs: MessageCatalogs,
        store: FluentReportStore, clock: any AttestCore.Clock, random: any RandomSource, cookieKey: SymmetricKey,
        openAPIDocument: Data, rateLimiter: RateLimiter, ledger: CustodyLedger, uploads: UploadService,
        passwordHasher: any StaffPasswordHasher, search: FluentSearchIndex
    ) {
        self.configuration = configuration
        self.jurisdiction = jurisdiction
        self.catalogs = catalogs
        self.store = store
        self.clock = clock
        self.random = random
        self.cookieKey = cookieKey
        self.openAPIDocument = openAPIDocument
        self.rateLimiter = rateLimiter
        self.ledger = ledger
        self.uploads = uploads
        self.passwordHasher = passwordHasher
        signInThrottle = configuration.staffSignIn.throttle(random: random)
        self.search = search
        languages = jurisdiction.languages.filter { catalogs.catalogs[$0] != nil }
        validator = ReportValidator(jurisdiction: jurisdiction, limits: configuration.limits)
    }

    public var submitReport: SubmitReport {
        SubmitReport(
            store: store, clock: clock, random: random, validator: validator, evidenceLimits: configuration.evidence)
    }

    public var viewReportStatus: ViewReportStatus { ViewReportStatus(store: store) }

    public var signInStaff: SignInStaff {
        var signIn = SignInStaff(
            store: store, hasher: passwordHasher, clock: clock, random: random, throttle: signInThrottle)
        signIn.maxFailures = configuration.staffSignIn.maxFailures
        signIn.lockout = TimeInterval(configuration.staffSignIn.lockoutSeconds)
        return signIn
    }

    public var completeStaffSetup: CompleteStaffSetup {
        CompleteStaffSetup(store: store, hasher: passwordHasher, clock: clock, random: random)
    }

    public var createStaffAccount: CreateStaffAccount {
        CreateStaffAccount(
            store: store, clock: clock, random: random, offices: jurisdiction.receivingOffices.map(\.code))
    }

    public var administerStaffAccounts: AdministerStaffAccounts {
        var administer = AdministerStaffAccounts(
            store: store, clock: clock, random: random, offices: jurisdiction.receivingOffices.map(\.code))
        administer.approvalLifetime = TimeInterval(configuration.staffSignIn.approvalSeconds)
        return administer
    }

    public var addEvidence: AddEvidence {
        AddEvidence(store: store, random: random, limits: configuration.evidence)
    }

    public var openCaseFile: OpenCaseFile {
        OpenCaseFile(store: store, jurisdiction: jurisdiction, clock: clock, random: random)
    }

    public var moveCaseFile: MoveCaseFile { MoveCaseFile(store: store, clock: clock) }

    /// Every case file edit goes through it (parts, assignment, checklist).
    public var editCaseFile: EditCaseFile {
        EditCaseFile(store: store, staff: store, jurisdiction: jurisdiction, clock: clock, random: random)
    }

    public var editIncident: EditIncident {
        EditIncident(store: store, limits: configuration.limits, clock: clock)
    }

    public var downloadEvidence: DownloadEvidence { DownloadEvidence(store: store, clock: clock) }

    /// Records what staff read (`record.viewed`), before it is shown.
    public var recordViews: RecordViews { RecordViews(store: store, clock: clock) }

    public var addSupplement: AddSupplement {
        AddSupplement(store: store, clock: clock, random: random, limits: configuration.limits)
    }
}

extension Application {
    private struct AttestServicesKey: StorageKey {
        typealias Value = AttestServices
    }

    /// Attest's services; set by `configure`.
    public var attest: AttestServices {
        get {
            guard let services = storage[AttestServicesKey.self] else {
                fatalError("configure(_:with:) has not run")
            }
            return services
        }
        set { storage[AttestServicesKey.self] = newValue }
    }
}

extension Request {
    /// Attest's services.
    public var attest: AttestServices { application.attest }
}

extension AttestServices {
    /// Reports that may be related to `report`, strongest first: candidates are the reports in its time window
    /// and those sharing an observed identifier at any time (at most `candidateLimit` of each).
    public func relatedSuggestions(for report: Report, candidateLimit: Int) async throws
        -> [RelatedReports.Suggestion]
    {
        let finder = RelatedReports(hours: Double(configuration.relatedHours))
        async let window = store.reports(overlapping: finder.window(of: report), limit: candidateLimit)
        async let sharing = store.reports(sharingIdentifiersWith: report.content, limit: candidateLimit)
        var candidates = try await window
        let inWindow = Set(candidates.map(\.id))
        candidates += try await sharing.filter { !inWindow.contains($0.id) }
        return finder.suggest(for: report, among: candidates)
    }
}
