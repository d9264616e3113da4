import Foundation

/// Why a change to a case file's parts was refused.
public enum CaseFileEditError: Error, Equatable, Sendable {
    case noSuchCaseFile
    case noSuchPart
    /// The case file is closed: nothing in it changes until a supervisor reopens it.
    case caseFileClosed
    /// Attaching an identity or deciding a final finding is a supervisor's.
    case supervisorRequired
    /// Attaching an identity needs a reason.
    case reasonRequired
    /// An allegation names a category the jurisdiction does not have.
    case unknownCategory(String)
    /// An allegation names a subject or person that is not part of this case file.
    case unknownSubjectOrPerson
    /// An allegation needs at least one subject.
    case subjectRequired
    /// A task assigned to someone who is not an active investigator or supervisor.
    case unknownAssignee
}

/// Building a case file: subjects, persons, allegations, notes, tasks, timeline events, assignment and the
/// checklist. Every change is a `record.changed` entry; attaching a real identity to a subject and deciding a
/// final finding are a supervisor's, and an identity needs a reason that is kept with it. A closed case file
/// refuses every change (`CaseFileEditError.caseFileClosed`) until a supervisor reopens it.
public struct EditCaseFile: Sendable {
    public var store: any CaseFileStore
    public var staff: any StaffStore
    public var jurisdiction: Jurisdiction
    public var clock: any Clock
    public var random: any RandomSource

    public init(
        store: any CaseFileStore, staff: any StaffStore, jurisdiction: Jurisdiction, clock: any Clock,
        random: any RandomSource
    ) {
        self.store = store
        self.staff = staff
        self.jurisdiction = jurisdiction
        self.clock = clock
        self.random = random
    }

    /// The case file an edit changes, after the checks every edit shares: the role may manage case files, and
    /// the case file exists and accepts edits.
    private func caseFile(_ reference: CaseFileReference, actor: StaffAccount) async throws -> CaseFile {
        guard StaffPolicy.allows(actor.role, .manageCaseFiles) else { throw StaffError.forbidden }
        guard let caseFile = try await store.caseFile(reference: reference) else {
            throw CaseFileEditError.noSuchCaseFile
        }
        guard caseFile.status.acceptsEdits else { throw CaseFileEditError.caseFileClosed }
        return caseFile
    }

    /// Adds a new part to a case file.
    @discardableResult
    public func add(
        _ body: CaseFilePartBody, sealed: String? = nil, to reference: CaseFileReference, actor: StaffAccount
    ) async throws -> CaseFilePart {
        _ = try await caseFile(reference, actor: actor)
        if case .allegation(let allegation) = body {
            try check(allegation, among: try await store.parts(of: reference))
        }
        if case .task(let task) = body, let assignee = task.assignee {
            try await checkAssignee(Identifier(assignee))
        }
        let part = CaseFilePart(
            id: Identifier(random.uuid()), caseFile: reference, body: body, sealed: sealed, author: actor.actorID,
            createdAt: clock.now().wholeSeconds)
        return try await store.add(part, at: part.createdAt, actor: actor.actorID)
    }

    /// Changes a part. `change` gets the current part and returns the new one; the rules are checked on it.
    @discardableResult
    public func update(
        _ id: Identifier<CaseFilePart>, of reference: CaseFileReference, actor: StaffAccount,
        change: (inout CaseFilePart) throws -> Void
    ) async throws -> CaseFilePart {
        _ = try await caseFile(reference, actor: actor)
        let parts = try await store.parts(of: reference)
        guard var part = parts.first(where: { $0.id == id }) else {
            throw CaseFileEditError.noSuchPart
        }
        let before = part
        try change(&part)
        part.id = before.id
        part.caseFile = before.caseFile
        part.number = before.number
        guard part.body.kind == before.body.kind else { throw CaseFileEditError.noSuchPart }
        switch (before.body, part.body) {
        case (.subject(let old), .subject(let new)):
            if part.sealed != before.sealed || new.identityReason != old.identityReason {
                guard actor.role == .supervisor else { throw CaseFileEditError.supervisorRequired }
            }
        case (.allegation(let old), .allegation(let new)):
            if new.finalFinding != old.finalFinding || new.standardOfProof != old.standardOfProof
                || new.decidedBy != old.decidedBy
            {
                guard actor.role == .supervisor else { throw CaseFileEditError.supervisorRequired }
            }
            try check(new, among: parts)
        case (.task(let old), .task(let new)):
            if let assignee = new.assignee, assignee != old.assignee { try await checkAssignee(Identifier(assignee)) }
        default: break
        }
        if part != before {
            try await store.save(part, at: clock.now().wholeSeconds, actor: actor.actorID)
        }
        return part
    }

    /// Attaches a subject agent's real identity: a supervisor's act, with a reason kept beside it.
    public func attachIdentity(
        _ identity: String, reason: String, to id: Identifier<CaseFilePart>, of reference: CaseFileReference,
        actor: StaffAccount
    ) async throws {
        guard actor.role == .supervisor else { throw CaseFileEditError.supervisorRequired }
        guard !TextRules.isBlank(reason) else { throw CaseFileEditError.reasonRequired }
        let now = clock.now().wholeSeconds
        try await update(id, of: reference, actor: actor) { part in
            guard case .subject(var subject) = part.body else { throw CaseFileEditError.noSuchPart }
            subject.identityReason = reason
            subject.identityAttachedBy = actor.actorID
            subject.identityAttachedAt = now
            part.body = .subject(subject)
            part.sealed = identity
        }
    }

    /// Records a supervisor's final finding on an allegation.
    public func decide(
        _ finding: Finding, standard: StandardOfProof, on id: Identifier<CaseFilePart>,
        of reference: CaseFileReference, actor: StaffAccount
    ) async throws {
        guard actor.role == .supervisor else { throw CaseFileEditError.supervisorRequired }
        try await update(id, of: reference, actor: actor) { part in
            guard case .allegation(var allegation) = part.body else { throw CaseFileEditError.noSuchPart }
            allegation.finalFinding = finding
            allegation.standardOfProof = standard
            allegation.decidedBy = actor.actorID
            part.body = .allegation(allegation)
        }
    }

    /// Assigns the case file to an investigator or supervisor (or to nobody).
    public func assign(_ reference: CaseFileReference, to assignee: Identifier<StaffAccount>?, actor: StaffAccount)
        async throws
    {
        var caseFile = try await caseFile(reference, actor: actor)
        if let assignee { try await checkAssignee(assignee) }
        guard caseFile.assignee != assignee else { return }
        caseFile.assignee = assignee
        try await store.save(caseFile, at: clock.now().wholeSeconds, actor: actor.actorID)
    }

    /// Records the executive order's checklist.
    public func fill(_ checklist: ExecutiveOrderChecklist, of reference: CaseFileReference, actor: StaffAccount)
        async throws
    {
        var caseFile = try await caseFile(reference, actor: actor)
        guard caseFile.checklist != checklist else { return }
        caseFile.checklist = checklist
        try await store.save(caseFile, at: clock.now().wholeSeconds, actor: actor.actorID)
    }

    /// An allegation names a category of the jurisdiction and subjects and persons among the case file's `parts`.
    private func check(_ allegation: Allegation, among parts: [CaseFilePart]) throws {
        guard jurisdiction.hasCategory(allegation.category) else {
            throw CaseFileEditError.unknownCategory(allegation.category)
        }
        guard !allegation.subjects.isEmpty else { throw CaseFileEditError.subjectRequired }
        let subjects = Set(parts.filter { $0.body.kind == .subject }.compactMap(\.number))
        let persons = Set(parts.filter { $0.body.kind == .person }.map(\.id.rawValue))
        guard Set(allegation.subjects).isSubset(of: subjects), Set(allegation.persons).isSubset(of: persons) else {
            throw CaseFileEditError.unknownSubjectOrPerson
        }
    }

    private func checkAssignee(_ id: Identifier<StaffAccount>) async throws {
        guard let account = try await staff.account(id: id), account.isActive,
            account.role == .investigator || account.role == .supervisor
        else { throw CaseFileEditError.unknownAssignee }
    }
}
