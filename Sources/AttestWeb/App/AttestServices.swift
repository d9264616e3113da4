import AttestCore
import AttestPersistence
import Crypto
import Foundation
import Vapor

/// The application's collaborators, built once in `configure` and reached through `app.attest` or
/// `req.attest`. Handlers build use cases from these.
public struct AttestServices: Sendable {
    public var configuration: AttestConfiguration
    public var jurisdiction: Jurisdiction
    public var catalogs: MessageCatalogs
    public var store: FluentReportStore
    public var clock: any AttestCore.Clock
    public var random: any RandomSource
    /// Signs the follow-up session cookie.
    public var cookieKey: SymmetricKey
    /// The OpenAPI document served at `/api/v1/openapi.json`.
    public var openAPIDocument: Data
    let rateLimiter: RateLimiter
    /// The custody log: proofs, tiles, checkpoints.
    public var ledger: CustodyLedger
    /// Resumable uploads and the evidence store.
    let uploads: UploadService
    /// bcrypt for staff passwords.
    let passwordHasher: any StaffPasswordHasher
    /// Full-text search over reports, incidents and case files (queries are never logged).
    public var search: FluentSearchIndex

    /// Languages offered: the jurisdiction's, where a catalog exists.
    public var languages: [String] { jurisdiction.languages.filter { catalogs.catalogs[$0] != nil } }

    public var validator: ReportValidator { ReportValidator(jurisdiction: jurisdiction, limits: configuration.limits) }

    public var submitReport: SubmitReport {
        SubmitReport(
            store: store, clock: clock, random: random, validator: validator, evidenceLimits: configuration.evidence)
    }

    public var viewReportStatus: ViewReportStatus { ViewReportStatus(store: store) }

    public var signInStaff: SignInStaff {
        SignInStaff(store: store, hasher: passwordHasher, clock: clock, random: random)
    }

    public var completeStaffSetup: CompleteStaffSetup {
        CompleteStaffSetup(store: store, hasher: passwordHasher, clock: clock, random: random)
    }

    public var createStaffAccount: CreateStaffAccount {
        CreateStaffAccount(
            store: store, clock: clock, random: random, offices: jurisdiction.receivingOffices.map(\.code))
    }

    public var addEvidence: AddEvidence {
        AddEvidence(store: store, random: random, limits: configuration.evidence)
    }

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
