import AttestCore
import AttestPersistence
import Foundation
import NIOConcurrencyHelpers

/// A clock that says what the test tells it.
public final class TestClock: AttestCore.Clock, @unchecked Sendable {
    private let lock = NIOLock()
    private var current: Date

    public init(_ date: Date = TestClock.defaultNow) {
        current = date
    }

    /// 2026-11-25T18:00:00Z, a Wednesday afternoon in Chicago.
    public static let defaultNow = Date(timeIntervalSince1970: 1_795_629_600)

    public func now() -> Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}

/// Deterministic randomness (SplitMix64), so test runs repeat exactly.
public final class SeededRandom: RandomSource, @unchecked Sendable {
    private let lock = NIOLock()
    private var state: UInt64

    public init(seed: UInt64 = 0x5EED) {
        state = seed
    }

    private func next() -> UInt64 {
        lock.withLock {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    public func bytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    public func uuid() -> UUID {
        let bytes = self.bytes(count: 16)
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            )
        )
    }
}

/// Reports, incidents, case files and staff in memory, with real transactions: a unit of work changes a copy
/// that replaces the state only when the work returns, and units run one at a time.
public actor InMemoryReportStore: ReportStore, CaseFileStore, StaffStore {
    public struct State: Sendable {
        public var reports: [Report] = []
        public var messages: [ThreadMessage] = []
        public var sequences: [String: Int] = [:]
        public var custody: [CustodyEvent] = []
        public var evidence: [EvidenceItem] = []
        /// Uploads as the upload server records them.
        public var storedUploads: [String: StoredUpload] = [:]
        /// Completed uploads not yet attached.
        public var uploads: [String: CompletedUpload] = [:]
        /// Uploads attached, and to which report.
        public var attachedUploads: [String: Identifier<Report>] = [:]
        public var incidents: [Incident] = []
        public var incidentOfReport: [Identifier<Report>: Identifier<Incident>] = [:]
        public var caseFiles: [CaseFile] = []
        /// Case file parts, in the order they were added.
        public var parts: [CaseFilePart] = []
        public var accounts: [StaffAccount] = []
        /// Setup links by token hash, and when each was used.
        public var setupLinks: [String: (link: StaffSetupLink, usedAt: Date?)] = [:]
        public var sessions: [String: StaffSession] = [:]
        public var approvalRequests: [StaffApprovalRequest] = []
        /// Decided requests: whether approved.
        public var decisions: [Identifier<StaffApprovalRequest>: Bool] = [:]
        /// Account events, with their custody indexes.
        public var accountEvents: [StaffAccountEvent] = []
    }

    public private(set) var state = State()
    private let gate = WriteGate()
    /// When set, custody appends fail after this many successes: to test that nothing is half-stored.
    private let custodyFailsAfter: Int?

    public init(custodyFailsAfter: Int? = nil) {
        self.custodyFailsAfter = custodyFailsAfter
    }

    public nonisolated func transaction<Result: Sendable>(
        _ work: @escaping @Sendable (any UnitOfWork) async throws -> Result
    ) async throws -> Result {
        try await gate.withGate {
            let unit = Unit(state: await self.state, custodyFailsAfter: self.custodyFailsAfter)
            let result = try await work(unit)
            await self.commit(unit.staged)
            return result
        }
    }

    private func commit(_ staged: State) {
        state = staged
    }

    /// Contact details as canonical JSON, marked: this store does not encrypt.
    public nonisolated func seal(_ contact: ContactDetails, of report: Identifier<Report>) throws -> String {
        "plain:" + contact.canonicalJSON()
    }

    /// Adds a staff account directly, as `attest staff create` and setup would have.
    public func add(_ account: StaffAccount) {
        state.accounts.append(account)
    }

    public func account(id: Identifier<StaffAccount>) async throws -> StaffAccount? {
        state.accounts.first { $0.id == id }
    }

    public func account(email: String) async throws -> StaffAccount? {
        state.accounts.first { $0.email == email }
    }

    public func accounts() async throws -> [StaffAccount] {
        state.accounts.sorted { $0.email < $1.email }
    }

    public func setupLink(tokenHash: String, now: Date) async throws -> StaffSetupLink? {
        guard let stored = state.setupLinks[tokenHash], stored.usedAt == nil, stored.link.expiresAt > now else {
            return nil
        }
        return stored.link
    }

    public func session(tokenHash: String) async throws -> StaffSession? {
        state.sessions[tokenHash]
    }

    public func approvalRequests(pendingAt now: Date) async throws -> [StaffApprovalRequest] {
        state.approvalRequests.filter { state.decisions[$0.id] == nil && $0.expiresAt > now }
            .sorted { $0.requestedAt < $1.requestedAt }
    }

    public func approvalRequest(id: Identifier<StaffApprovalRequest>) async throws -> StaffApprovalRequest? {
        state.approvalRequests.first { $0.id == id }
    }

    public func accountActivity(before: Int64?, limit: Int) async throws -> [StaffAccountEvent] {
        Array(
            state.accountEvents.filter { event in before.map { (event.custodyIndex ?? 0) < $0 } ?? true }.reversed()
                .prefix(limit))
    }

    public func report(reference: ReportReference) async throws -> Report? {
        state.reports.first { $0.reference == reference }
    }

    public func messages(of report: Identifier<Report>) async throws -> [ThreadMessage] {
        state.messages.filter { $0.reportID == report }
    }

    public func countReports(samples: Bool) async throws -> Int {
        state.reports.filter { $0.isSample == samples }.count
    }

    public func evidence(of report: Identifier<Report>) async throws -> [EvidenceItem] {
        state.evidence.filter { $0.reportID == report }
    }

    public func evidenceItem(id: Identifier<EvidenceItem>) async throws -> EvidenceItem? {
        state.evidence.first { $0.id == id }
    }

    public func reports(in statuses: [TriageStatus], limit: Int) async throws -> [Report] {
        Array(
            state.reports.filter { statuses.contains($0.status) && !$0.isSample }
                .sorted { $0.receivedAt > $1.receivedAt }.prefix(limit))
    }

    public func incident(reference: IncidentReference) async throws -> Incident? {
        state.incidents.first { $0.reference == reference }
    }

    public func incident(id: Identifier<Incident>) async throws -> Incident? {
        state.incidents.first { $0.id == id }
    }

    public func incidents(of reports: [Identifier<Report>]) async throws -> [Identifier<Report>: IncidentReference] {
        var found: [Identifier<Report>: IncidentReference] = [:]
        for report in reports {
            if let id = state.incidentOfReport[report], let incident = state.incidents.first(where: { $0.id == id }) {
                found[report] = incident.reference
            }
        }
        return found
    }

    /// Every real report: the store may return more candidates than share an identifier; `RelatedReports` decides.
    public func reports(sharingIdentifiersWith content: ReportContent, limit: Int) async throws
        -> [RelatedReports.Candidate]
    {
        state.reports.filter { !$0.isSample }.prefix(limit).map(RelatedReports.Candidate.init)
    }

    public func recurringIdentifiers() async throws -> [IdentifierPattern] {
        Patterns.recurring(
            state.incidents.map { incident in
                (
                    incident.reference,
                    state.reports.filter { state.incidentOfReport[$0.id] == incident.id }.map(\.content)
                )
            })
    }

    public func incident(of report: Identifier<Report>) async throws -> Incident? {
        guard let id = state.incidentOfReport[report] else { return nil }
        return state.incidents.first { $0.id == id }
    }

    public func reports(of incident: Identifier<Incident>) async throws -> [Report] {
        state.reports.filter { state.incidentOfReport[$0.id] == incident }
    }

    public func reports(overlapping window: ClosedRange<Date>, limit: Int) async throws
        -> [RelatedReports.Candidate]
    {
        state.reports.filter {
            !$0.isSample && $0.content.occurrence.start <= window.upperBound
                && $0.content.occurrence.end >= window.lowerBound
        }.prefix(limit).map(RelatedReports.Candidate.init)
    }

    public func caseFile(reference: CaseFileReference) async throws -> CaseFile? {
        state.caseFiles.first { $0.reference == reference }
    }

    public func caseFiles(of incident: Identifier<Incident>) async throws -> [CaseFile] {
        state.caseFiles.filter { $0.incidents.contains(incident) }
    }

    public func parts(of caseFile: CaseFileReference) async throws -> [CaseFilePart] {
        state.parts.filter { $0.caseFile == caseFile }
    }

    public func incidents(of caseFile: CaseFile) async throws -> [Incident] {
        state.incidents.filter { caseFile.incidents.contains($0.id) }
    }

    public func evidence(of caseFile: CaseFile) async throws -> [CaseFileEvidence] {
        state.reports.filter { report in state.incidentOfReport[report.id].map(caseFile.incidents.contains) == true }
            .flatMap { report in
                state.evidence.filter { $0.reportID == report.id }.map { item in
                    CaseFileEvidence(
                        report: report.reference, item: item,
                        history: state.custody.enumerated().filter { $0.element.recordID == item.recordID }.map {
                            CustodyHistoryEntry(
                                index: Int64($0.offset), kind: $0.element.kind.rawValue,
                                time: RFC3339.string(from: $0.element.occurredAt), actor: $0.element.actor)
                        })
                }
            }
    }

    /// Makes an upload available for attachment, as the upload server does when its last byte arrives.
    public func complete(_ upload: CompletedUpload) {
        state.uploads[upload.id] = upload
    }

    /// Changes the state directly, outside any unit of work (e.g. another process closing a case file).
    public func change(_ change: (inout State) -> Void) {
        change(&state)
    }

    /// Thrown by the failing custody log.
    public struct CustodyFailure: Error {}

    /// One unit of work: every feature's repository, on a copy of the state.
    final class Unit: UnitOfWork, ReportRepository, EvidenceRepository, IncidentRepository, CaseFileRepository,
        StaffRepository, UploadRepository, CustodyLog, @unchecked Sendable
    {
        private let lock = NIOLock()
        private var state: State
        private let custodyFailsAfter: Int?

        init(state: State, custodyFailsAfter: Int?) {
            self.state = state
            self.custodyFailsAfter = custodyFailsAfter
        }

        var staged: State { lock.withLock { state } }
        var custodyLog: any CustodyLog { self }
        var reports: any ReportRepository { self }
        var evidence: any EvidenceRepository { self }
        var incidents: any IncidentRepository { self }
        var caseFiles: any CaseFileRepository { self }
        var staff: any StaffRepository { self }
        var uploads: any UploadRepository { self }

        func nextNumber(in sequence: String) async throws -> Int {
            lock.withLock {
                let next = (state.sequences[sequence] ?? 0) + 1
                state.sequences[sequence] = next
                return next
            }
        }

        func insert(_ report: PreparedReport) async throws {
            lock.withLock { state.reports.append(report.report) }
        }

        func insert(_ message: ThreadMessage) async throws {
            lock.withLock { state.messages.append(message) }
        }

        func setStatus(_ status: TriageStatus, of report: Identifier<Report>) async throws {
            lock.withLock {
                if let index = state.reports.firstIndex(where: { $0.id == report }) {
                    state.reports[index].status = status
                }
            }
        }

        func totals(of report: Identifier<Report>) async throws -> (count: Int, bytes: Int64) {
            lock.withLock {
                let items = state.evidence.filter { $0.reportID == report }
                return (items.count, items.reduce(0) { $0 + $1.size })
            }
        }

        func claimUpload(_ id: String, for report: Identifier<Report>) async throws -> CompletedUpload {
            try lock.withLock {
                if state.attachedUploads[id] != nil { throw EvidenceError.uploadAlreadyAttached }
                guard let upload = state.uploads.removeValue(forKey: id) else { throw EvidenceError.uploadNotFound }
                state.attachedUploads[id] = report
                state.storedUploads[id]?.state = .attached
                return upload
            }
        }

        func insert(_ evidence: EvidenceItem) async throws {
            lock.withLock { state.evidence.append(evidence) }
        }

        func insert(_ incident: Incident) async throws {
            lock.withLock { state.incidents.append(incident) }
        }

        func update(_ incident: Incident) async throws {
            lock.withLock {
                if let index = state.incidents.firstIndex(where: { $0.id == incident.id }) {
                    state.incidents[index] = incident
                }
            }
        }

        func link(_ report: Identifier<Report>, to incident: Identifier<Incident>) async throws {
            lock.withLock { state.incidentOfReport[report] = incident }
        }

        func lock(_ reference: CaseFileReference) async throws -> CaseFile? {
            lock.withLock { state.caseFiles.first { $0.reference == reference } }
        }

        func insert(_ caseFile: CaseFile) async throws {
            lock.withLock { state.caseFiles.append(caseFile) }
        }

        func update(_ caseFile: CaseFile) async throws {
            lock.withLock {
                if let index = state.caseFiles.firstIndex(where: { $0.id == caseFile.id }) {
                    state.caseFiles[index] = caseFile
                }
            }
        }

        func insert(_ part: CaseFilePart) async throws {
            lock.withLock { state.parts.append(part) }
        }

        func update(_ part: CaseFilePart) async throws {
            lock.withLock {
                if let index = state.parts.firstIndex(where: { $0.id == part.id }) {
                    state.parts[index].body = part.body
                    state.parts[index].sealed = part.sealed
                }
            }
        }

        func insert(_ account: StaffAccount) async throws {
            try lock.withLock {
                guard !state.accounts.contains(where: { $0.email == account.email }) else {
                    throw StaffError.emailTaken
                }
                state.accounts.append(account)
            }
        }

        func update(_ account: StaffAccount) async throws {
            lock.withLock {
                guard let index = state.accounts.firstIndex(where: { $0.id == account.id }) else { return }
                var stored = state.accounts[index]
                stored.role = account.role
                stored.receivingOffice = account.receivingOffice
                stored.isActive = account.isActive
                stored.passwordHash = account.passwordHash
                stored.totpSecret = account.totpSecret
                stored.recoveryCodeHashes = account.recoveryCodeHashes
                state.accounts[index] = stored
            }
        }

        /// Changes the account with `id`, if there is one; what `change` returns (false when there is none).
        private func changeAccount(_ id: Identifier<StaffAccount>, _ change: (inout StaffAccount) -> Bool) -> Bool {
            lock.withLock {
                guard let index = state.accounts.firstIndex(where: { $0.id == id }) else { return false }
                return change(&state.accounts[index])
            }
        }

        func startSignIns(of account: Identifier<StaffAccount>, lastTOTPStep: Int64) async throws {
            _ = changeAccount(account) {
                $0.failedAttempts = 0
                $0.lockedUntil = nil
                $0.lastTOTPStep = lastTOTPStep
                return true
            }
        }

        func insert(_ link: StaffSetupLink) async throws {
            lock.withLock { state.setupLinks[link.tokenHash] = (link, nil) }
        }

        func claimSetupLink(tokenHash: String, now: Date) async throws -> Bool {
            lock.withLock {
                guard let stored = state.setupLinks[tokenHash], stored.usedAt == nil, stored.link.expiresAt > now else {
                    return false
                }
                state.setupLinks[tokenHash] = (stored.link, now)
                return true
            }
        }

        func revokeSetupLinks(of account: Identifier<StaffAccount>) async throws {
            lock.withLock {
                for (hash, stored) in state.setupLinks where stored.link.account == account && stored.usedAt == nil {
                    var link = stored.link
                    link.expiresAt = Date(timeIntervalSince1970: 0)
                    state.setupLinks[hash] = (link, nil)
                }
            }
        }

        func insert(_ request: StaffApprovalRequest) async throws {
            lock.withLock { state.approvalRequests.append(request) }
        }

        func decide(
            _ request: Identifier<StaffApprovalRequest>, by administrator: Identifier<StaffAccount>, approved: Bool,
            at time: Date
        ) async throws -> Bool {
            lock.withLock {
                guard state.decisions[request] == nil,
                    state.approvalRequests.contains(where: { $0.id == request && $0.expiresAt > time })
                else { return false }
                state.decisions[request] = approved
                return true
            }
        }

        func record(_ event: StaffAccountEvent) async throws {
            let receipt = try await append(event.custodyEvent)
            var recorded = event
            recorded.custodyIndex = receipt.index
            lock.withLock { state.accountEvents.append(recorded) }
        }

        func reserveSignInAttempt(of account: Identifier<StaffAccount>, limit: Int, lockUntil: Date, now: Date)
            async throws -> Bool
        {
            changeAccount(account) { stored in
                if let locked = stored.lockedUntil, locked <= now {
                    stored.failedAttempts = 0
                    stored.lockedUntil = nil
                }
                guard stored.failedAttempts < limit else { return false }
                stored.failedAttempts += 1
                if stored.failedAttempts >= limit { stored.lockedUntil = lockUntil }
                return true
            }
        }

        func releaseSignInAttempt(of account: Identifier<StaffAccount>) async throws {
            _ = changeAccount(account) {
                guard $0.failedAttempts > 0 else { return false }
                $0.failedAttempts -= 1
                $0.lockedUntil = nil
                return true
            }
        }

        func resetSignInAttempts(of account: Identifier<StaffAccount>) async throws {
            _ = changeAccount(account) {
                $0.failedAttempts = 0
                $0.lockedUntil = nil
                return true
            }
        }

        func acceptTOTPStep(_ step: Int64, of account: Identifier<StaffAccount>) async throws -> Bool {
            changeAccount(account) {
                guard ($0.lastTOTPStep ?? .min) < step else { return false }
                $0.lastTOTPStep = step
                return true
            }
        }

        func consumeRecoveryCode(_ hash: String, of account: Identifier<StaffAccount>) async throws -> Bool {
            changeAccount(account) {
                guard let index = $0.recoveryCodeHashes.firstIndex(of: hash) else { return false }
                $0.recoveryCodeHashes.remove(at: index)
                return true
            }
        }

        func insert(_ session: StaffSession) async throws {
            lock.withLock { state.sessions[session.tokenHash] = session }
        }

        func update(_ session: StaffSession) async throws {
            lock.withLock {
                if state.sessions[session.tokenHash] != nil { state.sessions[session.tokenHash] = session }
            }
        }

        func deleteSession(tokenHash: String) async throws {
            lock.withLock { state.sessions[tokenHash] = nil }
        }

        func deleteSessions(of account: Identifier<StaffAccount>) async throws {
            lock.withLock { state.sessions = state.sessions.filter { $0.value.accountID != account } }
        }

        func insert(_ upload: StoredUpload) async throws {
            lock.withLock { state.storedUploads[upload.id] = upload }
        }

        func complete(
            id: String, sha256: String, sha512: String, mediaType: String, completedAt: Date, expiresAt: Date?
        ) async throws {
            lock.withLock {
                guard var upload = state.storedUploads[id], upload.state == .open else { return }
                upload.state = .complete
                upload.sha256 = sha256
                upload.sha512 = sha512
                upload.mediaType = mediaType
                upload.completedAt = completedAt
                if let expiresAt { upload.expiresAt = expiresAt }
                state.storedUploads[id] = upload
                state.uploads[id] = upload.completed
            }
        }

        func mark(id: String, as newState: StoredUpload.State) async throws {
            lock.withLock {
                state.storedUploads[id]?.state = newState
                state.storedUploads[id]?.metadata = nil
                state.uploads[id] = nil
            }
        }

        func delete(id: String) async throws {
            lock.withLock {
                guard state.storedUploads[id]?.state != .attached else { return }
                state.storedUploads[id] = nil
                state.uploads[id] = nil
            }
        }

        func expire(now: Date) async throws -> [StoredUpload] {
            let due = lock.withLock {
                state.storedUploads.values.filter {
                    $0.expiresAt < now && ($0.state == .open || $0.state == .complete)
                        && state.attachedUploads[$0.id] == nil
                }
            }
            for upload in due { try await mark(id: upload.id, as: .expired) }
            return due
        }

        func append(_ event: CustodyEvent) async throws -> CustodyReceipt {
            try lock.withLock {
                if let limit = custodyFailsAfter, state.custody.count >= limit { throw CustodyFailure() }
                state.custody.append(event)
                return CustodyReceipt(index: Int64(state.custody.count - 1), entryHash: event.contentHash)
            }
        }
    }
}

/// A case file store whose reads of `stale` answer with it, as they would have just before another change (a
/// supervisor closing it); units of work reach the real store.
public struct StaleCaseFileReads: CaseFileStore {
    public let store: any CaseFileStore
    public let stale: CaseFile

    public init(store: any CaseFileStore, stale: CaseFile) {
        self.store = store
        self.stale = stale
    }

    public func caseFile(reference: CaseFileReference) async throws -> CaseFile? {
        reference == stale.reference ? stale : try await store.caseFile(reference: reference)
    }

    public func caseFiles(of incident: Identifier<Incident>) async throws -> [CaseFile] {
        try await store.caseFiles(of: incident)
    }

    public func parts(of caseFile: CaseFileReference) async throws -> [CaseFilePart] {
        try await store.parts(of: caseFile)
    }

    public func incidents(of caseFile: CaseFile) async throws -> [Incident] {
        try await store.incidents(of: caseFile)
    }

    public func evidence(of caseFile: CaseFile) async throws -> [CaseFileEvidence] {
        try await store.evidence(of: caseFile)
    }

    public func transaction<Result: Sendable>(_ work: @escaping @Sendable (any UnitOfWork) async throws -> Result)
        async throws -> Result
    {
        try await store.transaction(work)
    }
}

/// A deterministic generator for property tests (SplitMix64). The Ledger's tests keep their own copy: they depend
/// on the Ledger alone, as an outside verifier would.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
