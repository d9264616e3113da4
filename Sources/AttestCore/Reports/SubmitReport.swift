import Foundation

/// A resident files a report: validate it, give it a reference and a follow-up code, store it and record
/// `report.received` in the custody log, all in one transaction.
public struct SubmitReport: Sendable {
    public var store: any ReportStore
    public var clock: any Clock
    public var random: any RandomSource
    public var validator: ReportValidator
    public var evidenceLimits: EvidenceLimits

    public init(
        store: any ReportStore, clock: any Clock, random: any RandomSource, validator: ReportValidator,
        evidenceLimits: EvidenceLimits = EvidenceLimits()
    ) {
        self.store = store
        self.clock = clock
        self.random = random
        self.validator = validator
        self.evidenceLimits = evidenceLimits
    }

    public struct Input: Sendable {
        public var submission: ReportSubmission
        /// Marks synthetic sample data.
        public var isSample: Bool
        /// Completed uploads to attach, by id.
        public var uploads: [String]

        public init(submission: ReportSubmission, isSample: Bool = false, uploads: [String] = []) {
            self.submission = submission
            self.isSample = isSample
            self.uploads = uploads
        }
    }

    /// What the reporter takes away. The follow-up code exists only here; it is never stored.
    public struct Receipt: Sendable {
        public var reference: ReportReference
        public var followUpCode: FollowUpCode
        public var receivedAt: Date
        public var status: TriageStatus
        /// SHA-256 of what was submitted (canonical content).
        public var contentHash: String
        /// The custody log entry of `report.received`.
        public var custody: CustodyReceipt
        /// The files attached with the report.
        public var evidence: [AttachedEvidence] = []
    }

    /// Files the report; throws `ValidationFailure` without storing anything when the input is invalid.
    public func execute(_ input: Input) async throws -> Receipt {
        let now = clock.now()
        let output = try validator.validate(input.submission, now: now)
        let code = FollowUpCode(random: random)
        let canonicalContent = output.content.canonicalJSON()
        let contentHash = ContentHash.sha256Hex(canonicalContent)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = validator.jurisdiction.timeZone
        let year = calendar.component(.year, from: now)
        let id = Identifier<Report>(UUID.version7(at: now, random: random))
        let jurisdiction = validator.jurisdiction.code
        let evidenceLimits = self.evidenceLimits
        let random = self.random
        // Numbered in the transaction; everything else about the stored report is worked out here, in parallel
        // with other requests.
        let prepared = try PreparedReport(
            Report(
                id: id, reference: ReportReference(year: year, number: 0), jurisdiction: jurisdiction,
                status: .received, receivedAt: now, content: output.content, contentHash: contentHash,
                canonicalContent: canonicalContent, contact: output.contact, followUpCodeHash: code.hash,
                isSample: input.isSample
            ), sealingWith: store)
        return try await store.transaction { unit in
            let reference = ReportReference(year: year, number: try await unit.nextNumber(in: "report-\(year)"))
            try await unit.reports.insert(prepared.numbered(reference))
            let custody = try await unit.custodyLog.append(
                CustodyEvent(
                    kind: .reportReceived, occurredAt: now, actor: "public", recordID: "report:\(reference)",
                    contentHash: contentHash
                )
            )
            let evidence = try await EvidenceAttachment.attach(
                input.uploads, to: id, actor: "public", limits: evidenceLimits, random: random, in: unit)
            return Receipt(
                reference: reference, followUpCode: code, receivedAt: now, status: .received,
                contentHash: contentHash, custody: custody, evidence: evidence
            )
        }
    }
}
