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
    /// The store itself: for start-up, background work and operators' commands. Handlers reach it only through
    /// the feature ports below and the use cases built from them.
    let store: FluentReportStore
    /// Reports, their threads, evidence and incidents (reads; writes go through use cases).
    public let reports: any ReportStore
    /// Case files (reads; writes go through use cases).
    public let caseFiles: any CaseFileStore
    /// Staff accounts, sessions and setup links.
    public let staff: any StaffStore
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
        reports = store
        caseFiles = store
        staff = store
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
            store: reports, clock: clock, random: random, validator: validator, evidenceLimits: configuration.evidence)
    }

    public var viewReportStatus: ViewReportStatus { ViewReportStatus(store: reports) }

    public var signInStaff: SignInStaff {
        var signIn = SignInStaff(
            store: staff, hasher: passwordHasher, clock: clock, random: random, throttle: signInThrottle)
        signIn.maxFailures = configuration.staffSignIn.maxFailures
        signIn.lockout = TimeInterval(configuration.staffSignIn.lockoutSeconds)
        return signIn
    }

    public var staffSessions: StaffSessions {
        StaffSessions(
            store: staff, clock: clock, idle: TimeInterval(configuration.staffIdleSeconds),
            absolute: TimeInterval(configuration.staffSessionSeconds))
    }

    public var completeStaffSetup: CompleteStaffSetup {
        CompleteStaffSetup(store: staff, hasher: passwordHasher, clock: clock, random: random)
    }

    public var createStaffAccount: CreateStaffAccount {
        CreateStaffAccount(
            store: staff, clock: clock, random: random, offices: jurisdiction.receivingOffices.map(\.code))
    }

    public var administerStaffAccounts: AdministerStaffAccounts {
        var administer = AdministerStaffAccounts(
            store: staff, clock: clock, random: random, offices: jurisdiction.receivingOffices.map(\.code))
        administer.approvalLifetime = TimeInterval(configuration.staffSignIn.approvalSeconds)
        return administer
    }

    public var addEvidence: AddEvidence {
        AddEvidence(store: reports, random: random, limits: configuration.evidence)
    }

    public var openCaseFile: OpenCaseFile {
        OpenCaseFile(store: caseFiles, jurisdiction: jurisdiction, clock: clock, random: random)
    }

    public var moveCaseFile: MoveCaseFile { MoveCaseFile(store: caseFiles, clock: clock) }

    /// Every case file edit goes through it (parts, assignment, checklist).
    public var editCaseFile: EditCaseFile {
        EditCaseFile(store: caseFiles, staff: staff, jurisdiction: jurisdiction, clock: clock, random: random)
    }

    public var editIncident: EditIncident {
        EditIncident(store: reports, limits: configuration.limits, clock: clock)
    }

    public var downloadEvidence: DownloadEvidence { DownloadEvidence(store: reports, clock: clock) }

    public var viewCaseFile: ViewCaseFile { ViewCaseFile(store: caseFiles, views: recordViews) }

    /// Records what staff read (`record.viewed`), before it is shown.
    public var recordViews: RecordViews { RecordViews(store: reports, clock: clock) }

    public var addSupplement: AddSupplement {
        AddSupplement(store: reports, clock: clock, random: random, limits: configuration.limits)
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
    /// Related-report suggestions, from at most `candidateLimit` candidates of each kind.
    public func suggestRelatedReports(candidateLimit: Int) -> SuggestRelatedReports {
        SuggestRelatedReports(
            store: reports, finder: RelatedReports(hours: Double(configuration.relatedHours)),
            candidateLimit: candidateLimit)
    }

    public var triageReport: TriageReport {
        TriageReport(store: reports, clock: clock, random: random, limits: configuration.limits)
    }

    public var acceptReport: AcceptReport {
        AcceptReport(store: reports, clock: clock, random: random, jurisdiction: jurisdiction)
    }
}
