import AttestCore
import AttestPersistence
import Vapor

/// Building a case file: subject agents (a real identity only by a supervisor, with a reason), persons (contact
/// sealed), allegations with their authority facts and findings, the timeline, notes, tasks and assignment.
/// Every change is a `record.changed` custody entry; a refused change re-renders the page with its reason and
/// stores nothing.
struct CaseFilePartsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let files = routes.grouped("staff", "case-files", ":reference")
        files.staff(.POST, "assignee", permission: .manageCaseFiles, use: assign)
        files.staff(.POST, "subjects", permission: .manageCaseFiles, use: addSubject)
        files.staff(.POST, "subjects", ":part", "identity", permission: .attachIdentity, use: attachIdentity)
        files.staff(.POST, "persons", permission: .manageCaseFiles, use: addPerson)
        files.staff(.POST, "allegations", permission: .manageCaseFiles, use: addAllegation)
        files.staff(.POST, "allegations", ":part", "finding", permission: .decideFindings, use: decideFinding)
        files.staff(.POST, "notes", permission: .manageCaseFiles, use: addNote)
        files.staff(.POST, "tasks", permission: .manageCaseFiles, use: addTask)
        files.staff(.POST, "tasks", ":part", "done", permission: .manageCaseFiles, use: completeTask)
        files.staff(.POST, "events", permission: .manageCaseFiles, use: addEvent)
    }

    private static func reference(_ request: Request) throws -> CaseFileReference {
        guard let text = request.parameters.get("reference"), let reference = CaseFileReference(text) else {
            throw Abort(.notFound)
        }
        return reference
    }

    private static func partID(_ request: Request) throws -> Identifier<CaseFilePart> {
        guard let text = request.parameters.get("part"), let uuid = UUID(uuidString: text) else {
            throw Abort(.notFound)
        }
        return Identifier(uuid)
    }

    /// Parses the form (`CaseFileInput`), runs one change (`EditCaseFile`) and goes back to the case file; a
    /// refusal shows the page again with its reason.
    private func change(
        _ request: Request, staff: SignedInStaff, anchor: String,
        _ work: (FormBody, CaseFileInput, EditCaseFile, CaseFileReference) async throws -> Void
    ) async throws -> Response {
        let form = try StaffController.form(request)
        let reference = try Self.reference(request)
        let services = request.attest
        let mapping = ErrorMapping(catalogs: services.catalogs, language: request.language)
        do {
            try await work(form, CaseFileInput(jurisdiction: services.jurisdiction), services.editCaseFile, reference)
        } catch let error as CaseFileEditError {
            let description = mapping.describe(error)
            return try await CaseFilesController().render(
                request, staff: staff, error: description.message, status: description.status)
        } catch let failure as ValidationFailure {
            let description = mapping.describe(failure)
            let message = ([description.message] + description.fields.map(\.message)).joined(separator: " ")
            return try await CaseFilesController().render(
                request, staff: staff, error: message, status: description.status)
        }
        return request.redirect(to: "\(Paths.staffCaseFiles)/\(reference)#\(anchor)", redirectType: .normal)
    }

    func assign(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "assignment") { form, input, editor, reference in
            try await editor.assign(reference, to: try input.assignee(form), actor: staff.account)
        }
    }

    func addSubject(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "subjects") { form, input, editor, reference in
            try await editor.add(.subject(try input.subject(form)), to: reference, actor: staff.account)
        }
    }

    func attachIdentity(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "subjects") { form, input, editor, reference in
            let given = try input.identity(form)
            try await editor.attachIdentity(
                given.identity, reason: given.reason, to: try Self.partID(request), of: reference,
                actor: staff.account)
        }
    }

    func addPerson(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "persons") { form, input, editor, reference in
            let given = try input.person(form)
            try await editor.add(.person(given.person), sealed: given.sealed, to: reference, actor: staff.account)
        }
    }

    func addAllegation(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "allegations") { form, input, editor, reference in
            try await editor.add(.allegation(try input.allegation(form)), to: reference, actor: staff.account)
        }
    }

    func decideFinding(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "allegations") { form, input, editor, reference in
            let given = try input.finding(form)
            try await editor.decide(
                given.finding, standard: given.standard, on: try Self.partID(request), of: reference,
                actor: staff.account)
        }
    }

    func addNote(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "notes") { form, input, editor, reference in
            try await editor.add(.note(try input.note(form)), to: reference, actor: staff.account)
        }
    }

    func addTask(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "tasks") { form, input, editor, reference in
            try await editor.add(.task(try input.task(form)), to: reference, actor: staff.account)
        }
    }

    func completeTask(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "tasks") { _, _, editor, reference in
            try await editor.update(try Self.partID(request), of: reference, actor: staff.account) { part in
                guard case .task(var task) = part.body else { throw CaseFileEditError.noSuchPart }
                task.isDone = true
                part.body = .task(task)
            }
        }
    }

    func addEvent(request: Request, staff: SignedInStaff) async throws -> Response {
        try await change(request, staff: staff, anchor: "timeline") { form, input, editor, reference in
            let event = try input.event(form, now: request.attest.clock.now())
            try await editor.add(.event(event), to: reference, actor: staff.account)
        }
    }
}

/// What the case file page shows of its parts, and the choices its forms offer.
struct CaseFilePartsView: Encodable {
    struct Option: Encodable {
        var value: String
        var label: String
    }
    struct Subject: Encodable {
        var id: String
        var code: String
        var details: [String]
        var hasIdentity: Bool
        /// Empty for a role that may not see them (`CaseFilePart.visible(to:)`).
        var identity: String
        var identityReason: String
        var identityAction: String
    }
    struct Person: Encodable {
        var id: String
        var label: String
        var role: String
        var description: String
        var report: String
        var contact: String
    }
    struct AllegationItem: Encodable {
        var id: String
        var category: String
        var subjects: String
        var persons: String
        var summary: String
        var facts: [String]
        var recommended: String
        var final: String
        var finalCode: String
        var standard: String
        var findingAction: String
    }
    struct TimelineItem: Encodable {
        var time: String
        var text: String
        var source: String
    }
    struct Note: Encodable {
        var time: String
        var author: String
        var text: String
    }
    struct Task: Encodable {
        var id: String
        var title: String
        var assignee: String
        var due: String
        var isDone: Bool
        var doneAction: String
    }

    struct Evidence: Encodable {
        var id: String
        var report: String
        var mediaType: String
        var size: String
        var sha256: String
        /// The item's custody entries: index, type, time and actor.
        var history: [String]
    }

    var evidence: [Evidence] = []
    var canDownload = false
    var subjects: [Subject] = []
    var persons: [Person] = []
    var allegations: [AllegationItem] = []
    var timeline: [TimelineItem] = []
    var notes: [Note] = []
    var tasks: [Task] = []
    var assignee: String = ""
    var assignees: [Option] = []
    var agencies: [Option] = []
    var categories: [Option] = []
    var maskings: [Option] = []
    var answers: [Option] = []
    var roles: [Option] = []
    var warrantKinds: [Option] = []
    var findings: [Option] = []
    var standards: [Option] = []
    var canAttachIdentity = false
    var canDecide = false
    var base: String = ""

    static func make(
        _ record: CaseFileRecord, accounts: [StaffAccount], staff: SignedInStaff, request: Request
    ) -> CaseFilePartsView {
        let caseFile = record.caseFile
        let parts = record.parts
        let incidents = record.incidents
        let services = request.attest
        let language = request.language
        let mapping = ErrorMapping(catalogs: services.catalogs, language: language)
        let jurisdiction = services.jurisdiction
        let fallback = jurisdiction.defaultLanguage
        let zone = jurisdiction.timeZone
        let role = staff.account.role
        func time(_ date: Date) -> String { DisplayFormat.dateTime(date, language: language, zone: zone) }
        func answer(_ value: TriState) -> String { mapping.text("answer_\(value.rawValue)") }
        let names = Dictionary(uniqueKeysWithValues: accounts.map { ($0.id.rawValue, $0.displayName) })
        let agencyLabels = Dictionary(
            uniqueKeysWithValues: jurisdiction.agencies.map {
                ($0.code, $0.labels.text(in: language, fallback: fallback))
            })
        let categoryLabels = Dictionary(
            uniqueKeysWithValues: jurisdiction.categories.map {
                ($0.code, $0.labels.text(in: language, fallback: fallback))
            })
        var view = CaseFilePartsView()
        view.base = "\(Paths.staffCaseFiles)/\(caseFile.reference)"
        view.canAttachIdentity = StaffPolicy.allows(role, .attachIdentity)
        view.canDownload = StaffPolicy.allows(role, .downloadEvidence)
        // The evidence of every report of the case file's incidents, each with its custody history.
        view.evidence = record.evidence.map { found in
            let item = found.item
            return Evidence(
                id: item.id.description, report: found.report.description, mediaType: item.mediaType,
                size: ErrorMapping.byteCount(item.size, language: language), sha256: item.sha256,
                history: found.history.map {
                    $0.kind.isEmpty ? "#\($0.index)" : "#\($0.index) \($0.kind) \($0.time) \($0.actor)"
                })
        }
        view.canDecide = StaffPolicy.allows(role, .decideFindings)
        view.assignee = caseFile.assignee.flatMap { names[$0.rawValue] } ?? ""
        view.assignees = accounts.filter { $0.isActive && ($0.role == .investigator || $0.role == .supervisor) }
            .map { Option(value: $0.id.rawValue.uuidString, label: $0.displayName) }
        view.agencies = jurisdiction.agencies.map { Option(value: $0.code, label: agencyLabels[$0.code] ?? $0.code) }
        view.categories = jurisdiction.categories.map {
            Option(value: $0.code, label: categoryLabels[$0.code] ?? $0.code)
        }
        view.maskings = Masking.allCases.map {
            Option(value: $0.rawValue, label: mapping.text("masked_\($0.rawValue)"))
        }
        view.answers = TriState.allCases.map { Option(value: $0.rawValue, label: answer($0)) }
        view.roles = PersonRole.allCases.map { Option(value: $0.rawValue, label: mapping.text("role_\($0.rawValue)")) }
        view.warrantKinds = WarrantKind.allCases.map {
            Option(value: $0.rawValue, label: mapping.text("warrant_\($0.rawValue)"))
        }
        view.findings = Finding.allCases.map {
            Option(value: $0.rawValue, label: mapping.text("finding_\($0.rawValue)"))
        }
        view.standards = StandardOfProof.allCases.map {
            Option(value: $0.rawValue, label: mapping.text("proof_\($0.rawValue)"))
        }
        var personLabels: [UUID: String] = [:]
        for part in parts {
            if case .person(let person) = part.body { personLabels[part.id.rawValue] = person.label }
        }
        for stored in parts {
            // What the role may not see is gone before anything is shown (`CaseFilePart.visible(to:)`).
            let part = stored.visible(to: role)
            let id = part.id.rawValue.uuidString
            switch part.body {
            case .subject(let subject):
                let code = SubjectAgentCode(number: part.number ?? 0).description
                var details: [String] = []
                if let agency = subject.agency { details.append(agencyLabels[agency] ?? agency) }
                for (key, value) in [
                    ("agent_vest", subject.vestText), ("agent_name_tape", subject.nameTape),
                    ("agent_badge", subject.badge), ("subject_unit_patch", subject.unitPatch),
                    ("subject_plate", subject.plate), ("subject_vehicle", subject.vehicle),
                    ("subject_credential_check", subject.credentialCheck),
                ] {
                    if let value { details.append("\(mapping.text(key)): \(value)") }
                }
                if let masked = subject.masked {
                    details.append("\(mapping.text("agent_masked")): \(mapping.text("masked_\(masked.rawValue)"))")
                }
                details.append("\(mapping.text("agent_plain_clothes")): \(answer(subject.plainClothes))")
                details.append("\(mapping.text("agent_body_camera")): \(answer(subject.bodyCamera))")
                details.append("\(mapping.text("subject_is_supervisor")): \(answer(subject.isSupervisor))")
                view.subjects.append(
                    Subject(
                        id: id, code: code, details: details, hasIdentity: stored.sealed != nil,
                        identity: part.sealed ?? "", identityReason: subject.identityReason ?? "",
                        identityAction: "\(view.base)/subjects/\(id)/identity"))
            case .person(let person):
                var contact = ""
                if let sealed = part.sealed,
                    let details = try? JSONDecoder().decode(ContactDetails.self, from: Data(sealed.utf8))
                {
                    contact = [details.name, details.phone, details.email].compactMap { $0 }.joined(separator: " · ")
                }
                view.persons.append(
                    Person(
                        id: id, label: person.label, role: mapping.text("role_\(person.role.rawValue)"),
                        description: person.description ?? "", report: person.report ?? "", contact: contact))
            case .allegation(let allegation):
                let facts =
                    [
                        "\(mapping.text("allegation_warrant_shown")): \(answer(allegation.warrantShown))",
                        "\(mapping.text("allegation_warrant_kind")): \(mapping.text("warrant_\(allegation.warrantKind.rawValue)"))",
                        "\(mapping.text("allegation_consent")): \(answer(allegation.consentToEntry))",
                    ] + (allegation.statedPurpose.map { ["\(mapping.text("allegation_purpose")): \($0)"] } ?? [])
                view.allegations.append(
                    AllegationItem(
                        id: id, category: categoryLabels[allegation.category] ?? allegation.category,
                        subjects: allegation.subjects.map { SubjectAgentCode(number: $0).description }
                            .joined(separator: ", "),
                        persons: allegation.persons.compactMap { personLabels[$0] }.joined(separator: ", "),
                        summary: allegation.summary ?? "", facts: facts,
                        recommended: mapping.text("finding_\(allegation.recommendedFinding.rawValue)"),
                        final: mapping.text("finding_\(allegation.finalFinding.rawValue)"),
                        finalCode: allegation.finalFinding.rawValue,
                        standard: mapping.text("proof_\(allegation.standardOfProof.rawValue)"),
                        findingAction: "\(view.base)/allegations/\(id)/finding"))
            case .note(let note):
                view.notes.append(
                    Note(time: time(part.createdAt), author: part.author, text: note.text))
            case .task(let task):
                view.tasks.append(
                    Task(
                        id: id, title: task.title, assignee: task.assignee.flatMap { names[$0] } ?? "",
                        due: task.due ?? "", isDone: task.isDone, doneAction: "\(view.base)/tasks/\(id)/done"))
            case .event:
                break  // merged into the timeline below
            }
        }
        // The timeline also shows when each incident began, from its reports, in order.
        var items: [(Date, TimelineItem)] = parts.compactMap { part in
            guard case .event(let event) = part.body else { return nil }
            return (
                event.occurredAt,
                TimelineItem(time: time(event.occurredAt), text: event.text, source: mapping.text("timeline_staff"))
            )
        }
        for incident in incidents {
            items.append(
                (
                    incident.windowStart,
                    TimelineItem(
                        time: time(incident.windowStart),
                        text: mapping.text("timeline_incident", ["reference": incident.reference.description]),
                        source: incident.reference.description)
                ))
        }
        view.timeline = items.sorted { $0.0 < $1.0 }.map(\.1)
        return view
    }
}
