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
    public var staff: any StaffDirectory
    public var jurisdiction: Jurisdiction
    public var clock: any Clock
    public var random: any RandomSource

    public init(
        store: any CaseFileStore, staff: any StaffDirectory, jurisdiction: Jurisdiction, clock: any Clock,
        random: any RandomSource
    ) {
        self.store = store
        self.staff = staff
        self.jurisdiction = jurisdiction
        self.clock = clock
        self.random = random
    }

    /// The checks every edit makes first: the role may manage case files, and the case file exists and accepts
    /// edits (checked again in the edit's unit of work, see `openCaseFile`).
    private func authorise(_ reference: CaseFileReference, actor: StaffAccount) async throws {
        guard StaffPolicy.allows(actor.role, .manageCaseFiles) else { throw StaffError.forbidden }
        guard let caseFile = try await store.caseFile(reference: reference) else {
            throw CaseFileEditError.noSuchCaseFile
        }
        guard caseFile.status.acceptsEdits else { throw CaseFileEditError.caseFileClosed }
    }

    /// The case file an edit changes, locked in the edit's unit of work: it exists and accepts edits.
    private static func openCaseFile(_ reference: CaseFileReference, in unit: any UnitOfWork) async throws
        -> CaseFile
    {
        guard let caseFile = try await unit.caseFiles.lock(reference) else { throw CaseFileEditError.noSuchCaseFile }
        guard caseFile.status.acceptsEdits else { throw CaseFileEditError.caseFileClosed }
        return caseFile
    }

    /// Adds a new part to a case file, with its `record.changed` entry; a subject gets the next `SA-` number.
    @discardableResult
    public func add(
        _ body: CaseFilePartBody, sealed: String? = nil, to reference: CaseFileReference, actor: StaffAccount
    ) async throws -> CaseFilePart {
        try await authorise(reference, actor: actor)
        if case .allegation(let allegation) = body {
            try check(allegation, among: try await store.parts(of: reference))
        }
        if case .task(let task) = body, let assignee = task.assignee {
            try await checkAssignee(Identifier(assignee))
        }
        let part = CaseFilePart(
            id: Identifier(random.uuid()), caseFile: reference, body: body, sealed: sealed, author: actor.actorID,
            createdAt: clock.now().wholeSeconds)
        return try await store.transaction { [part] unit in
            var part = part
            _ = try await Self.openCaseFile(reference, in: unit)
            if part.body.kind == .subject {
                part.number = try await unit.nextNumber(in: "subject-agent")
            }
            try await unit.caseFiles.insert(part)
            _ = try await unit.custodyLog.append(part.changedEvent(at: part.createdAt, actor: part.author))
            return part
        }
    }

    /// Changes a part. `change` gets the current part and returns the new one; the rules are checked on it.
    @discardableResult
    public func update(
        _ id: Identifier<CaseFilePart>, of reference: CaseFileReference, actor: StaffAccount,
        change: (inout CaseFilePart) throws -> Void
    ) async throws -> CaseFilePart {
        try await authorise(reference, actor: actor)
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
        guard part != before else { return part }
        let now = clock.now().wholeSeconds
        let actorID = actor.actorID
        return try await store.transaction { [part] unit in
            _ = try await Self.openCaseFile(reference, in: unit)
            try await unit.caseFiles.update(part)
            _ = try await unit.custodyLog.append(part.changedEvent(at: now, actor: actorID))
            return part
        }
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
        try await authorise(reference, actor: actor)
        if let assignee { try await checkAssignee(assignee) }
        try await change(reference, actor: actor) { $0.assignee = assignee }
    }

    /// Records the executive order's checklist.
    public func fill(_ checklist: ExecutiveOrderChecklist, of reference: CaseFileReference, actor: StaffAccount)
        async throws
    {
        try await authorise(reference, actor: actor)
        try await change(reference, actor: actor) { $0.checklist = checklist }
    }

    /// Changes the case file itself, as locked in the unit of work; nothing is written when nothing changed.
    private func change(
        _ reference: CaseFileReference, actor: StaffAccount, _ change: @escaping @Sendable (inout CaseFile) -> Void
    ) async throws {
        let now = clock.now().wholeSeconds
        let actorID = actor.actorID
        _ = try await store.transaction { unit in
            var caseFile = try await Self.openCaseFile(reference, in: unit)
            let before = caseFile
            change(&caseFile)
            guard caseFile != before else { return }
            try await unit.caseFiles.update(caseFile)
            _ = try await unit.custodyLog.append(caseFile.changedEvent(at: now, actor: actorID))
        }
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
