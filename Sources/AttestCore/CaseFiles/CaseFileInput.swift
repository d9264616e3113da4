import Foundation

/// What staff type into a case file's forms, checked and turned into parts: every field's length, every
/// choice against its list, every date. Each function throws one `ValidationFailure` naming every problem it
/// found; the rules that need the case file (categories, subjects, persons, assignees) are `EditCaseFile`'s.
public struct CaseFileInput: Sendable {
    /// Longest one-line field (a label, a badge, a plate), in characters.
    public static let shortText = 200
    /// Longest multi-line field (a note, a summary, a reason), in characters.
    public static let longText = 5_000
    /// How far in the future a timeline event may be dated, in seconds (clocks differ).
    public static let futureTolerance: TimeInterval = 300

    public var jurisdiction: Jurisdiction

    public init(jurisdiction: Jurisdiction) {
        self.jurisdiction = jurisdiction
    }

    /// An observed federal agent (`subjects`).
    public func subject(_ form: some FormFields) throws -> SubjectAgent {
        var issues: [ValidationIssue] = []
        var subject = SubjectAgent()
        if let agency = form["agency"], !agency.isEmpty {
            if jurisdiction.hasAgency(agency) {
                subject.agency = agency
            } else {
                issues.append(ValidationIssue("agency", .unknownValue(agency)))
            }
        }
        subject.vestText = Self.text(form, "vest_text", into: &issues)
        subject.nameTape = Self.text(form, "name_tape", into: &issues)
        subject.badge = Self.text(form, "badge", into: &issues)
        subject.unitPatch = Self.text(form, "unit_patch", into: &issues)
        subject.plate = Self.text(form, "plate", into: &issues)
        subject.vehicle = Self.text(form, "vehicle", into: &issues)
        subject.masked = Self.optionalChoice(form, "masked", into: &issues)
        subject.plainClothes = Self.choice(form, "plain_clothes", default: .unknown, into: &issues)
        subject.bodyCamera = Self.choice(form, "body_camera", default: .unknown, into: &issues)
        subject.isSupervisor = Self.choice(form, "is_supervisor", default: .unknown, into: &issues)
        subject.credentialCheck = Self.text(form, "credential_check", max: Self.longText, into: &issues)
        try Self.require(issues)
        return subject
    }

    /// A subject agent's real identity and the reason for attaching it.
    public func identity(_ form: some FormFields) throws -> (identity: String, reason: String) {
        var issues: [ValidationIssue] = []
        let identity = Self.text(form, "identity", required: true, into: &issues)
        let reason = Self.text(form, "reason", max: Self.longText, required: true, into: &issues)
        guard issues.isEmpty, let identity, let reason else { throw ValidationFailure(issues: issues) }
        return (identity, reason)
    }

    /// A person involved, and their contact details as the sealed text (canonical JSON), if any were given.
    public func person(_ form: some FormFields) throws -> (person: InvolvedPerson, sealed: String?) {
        var issues: [ValidationIssue] = []
        let label = Self.text(form, "label", required: true, into: &issues)
        let role: PersonRole = Self.choice(form, "role", default: .other, into: &issues)
        let description = Self.text(form, "description", max: Self.longText, into: &issues)
        let report = Self.text(form, "report", into: &issues)
        if let report, ReportReference(report) == nil { issues.append(ValidationIssue("report", .malformed)) }
        let contact = ContactDetails(
            name: Self.text(form, "contact_name", into: &issues),
            phone: Self.text(form, "contact_phone", into: &issues),
            email: Self.text(form, "contact_email", into: &issues))
        guard issues.isEmpty, let label else { throw ValidationFailure(issues: issues) }
        var person = InvolvedPerson(label: label, role: role)
        person.description = description
        person.report = report.flatMap(ReportReference.init)?.description
        let hasContact = contact.name != nil || contact.phone != nil || contact.email != nil
        person.hasContact = hasContact
        let sealed = hasContact ? String(decoding: try CanonicalJSON.encode(contact), as: UTF8.self) : nil
        return (person, sealed)
    }

    /// An allegation with its authority facts and recommended finding.
    public func allegation(_ form: some FormFields) throws -> Allegation {
        var issues: [ValidationIssue] = []
        var allegation = Allegation(category: form["category"] ?? "")
        for raw in form.all("subjects") {
            if let code = SubjectAgentCode(raw) {
                allegation.subjects.append(code.number)
            } else {
                issues.append(ValidationIssue("subjects", .unknownValue(raw)))
            }
        }
        for raw in form.all("persons") {
            if let uuid = UUID(uuidString: raw) {
                allegation.persons.append(uuid)
            } else {
                issues.append(ValidationIssue("persons", .unknownValue(raw)))
            }
        }
        allegation.summary = Self.text(form, "summary", max: Self.longText, into: &issues)
        allegation.warrantShown = Self.choice(form, "warrant_shown", default: .unknown, into: &issues)
        allegation.warrantKind = Self.choice(form, "warrant_kind", default: .unknown, into: &issues)
        allegation.consentToEntry = Self.choice(form, "consent_to_entry", default: .unknown, into: &issues)
        allegation.statedPurpose = Self.text(form, "stated_purpose", max: Self.longText, into: &issues)
        allegation.recommendedFinding = Self.choice(form, "recommended_finding", default: .open, into: &issues)
        try Self.require(issues)
        return allegation
    }

    /// A supervisor's final finding and the standard of proof it meets.
    public func finding(_ form: some FormFields) throws -> (finding: Finding, standard: StandardOfProof) {
        var issues: [ValidationIssue] = []
        let finding: Finding? = Self.optionalChoice(form, "final_finding", into: &issues)
        let standard: StandardOfProof? = Self.optionalChoice(form, "standard_of_proof", into: &issues)
        if finding == nil, issues.isEmpty { issues.append(ValidationIssue("final_finding", .required)) }
        if standard == nil, issues.isEmpty { issues.append(ValidationIssue("standard_of_proof", .required)) }
        guard issues.isEmpty, let finding, let standard else { throw ValidationFailure(issues: issues) }
        return (finding, standard)
    }

    /// A case note.
    public func note(_ form: some FormFields) throws -> CaseNote {
        var issues: [ValidationIssue] = []
        let text = Self.text(form, "note", max: Self.longText, required: true, into: &issues)
        guard issues.isEmpty, let text else { throw ValidationFailure(issues: issues) }
        return CaseNote(text: text)
    }

    /// A task, with its assignee and due date (`YYYY-MM-DD`) if given.
    public func task(_ form: some FormFields) throws -> CaseTask {
        var issues: [ValidationIssue] = []
        let title = Self.text(form, "title", required: true, into: &issues)
        let assignee = Self.staffID(form, "assignee", into: &issues)
        var due: String?
        if let raw = form["due"], !raw.isEmpty {
            switch RFC3339.parseDate(raw) {
            case .value: due = raw
            case .malformed: issues.append(ValidationIssue("due", .malformed))
            case .impossible: issues.append(ValidationIssue("due", .impossibleDate))
            }
        }
        guard issues.isEmpty, let title else { throw ValidationFailure(issues: issues) }
        var task = CaseTask(title: title)
        task.assignee = assignee?.rawValue
        task.due = due
        return task
    }

    /// A timeline event: local date and time in the jurisdiction's zone, not in the future (as of `now`).
    public func event(_ form: some FormFields, now: Date) throws -> TimelineEvent {
        var issues: [ValidationIssue] = []
        let text = Self.text(form, "event_text", max: Self.longText, required: true, into: &issues)
        var occurredAt: Date?
        switch (RFC3339.parseDate(form["event_date"] ?? ""), RFC3339.parseTime(form["event_time"] ?? "")) {
        case (.value(let date), .value(let time)):
            occurredAt = RFC3339.instant(date: date, time: time, in: jurisdiction.timeZone)
            if occurredAt == nil { issues.append(ValidationIssue("event_date", .impossibleDate)) }
        case (.impossible, _), (_, .impossible):
            issues.append(ValidationIssue("event_date", .impossibleDate))
        default:
            issues.append(ValidationIssue("event_date", (form["event_date"] ?? "").isEmpty ? .required : .malformed))
        }
        if let occurredAt, occurredAt > now.addingTimeInterval(Self.futureTolerance) {
            issues.append(ValidationIssue("event_date", .inFuture))
        }
        guard issues.isEmpty, let text, let occurredAt else { throw ValidationFailure(issues: issues) }
        return TimelineEvent(occurredAt: occurredAt.wholeSeconds, text: text)
    }

    /// Who a case file is assigned to (`assignee`; empty for nobody).
    public func assignee(_ form: some FormFields) throws -> Identifier<StaffAccount>? {
        var issues: [ValidationIssue] = []
        let assignee = Self.staffID(form, "assignee", into: &issues)
        try Self.require(issues)
        return assignee
    }

    /// A move through the workflow: the next status, and the outcome when closing.
    public func move(_ form: some FormFields) throws -> (next: CaseFileStatus, outcome: CaseFileOutcome?) {
        var issues: [ValidationIssue] = []
        let next: CaseFileStatus? = Self.optionalChoice(form, "status", into: &issues)
        let outcome: CaseFileOutcome? = Self.optionalChoice(form, "outcome", into: &issues)
        if next == nil, issues.isEmpty { issues.append(ValidationIssue("status", .required)) }
        guard issues.isEmpty, let next else { throw ValidationFailure(issues: issues) }
        return (next, outcome)
    }

    /// Longest checklist answer, in characters.
    public static let checklistText = 500

    /// The executive order's checklist: yes, no or unanswered, and short texts.
    public func checklist(_ form: some FormFields) throws -> ExecutiveOrderChecklist {
        var issues: [ValidationIssue] = []
        func answer(_ name: String) -> Bool? {
            switch form[name] {
            case "yes": true
            case "no": false
            default: nil
            }
        }
        func text(_ name: String) -> String? {
            Self.text(form, name, max: Self.checklistText, multiline: true, into: &issues)
        }
        var checklist = ExecutiveOrderChecklist()
        checklist.bodyCameraPreserved = answer("body_camera_preserved")
        checklist.bodyCameraIDs = text("body_camera_ids")
        checklist.supervisorIdentificationAttempted = answer("supervisor_identification_attempted")
        checklist.supervisorIdentificationResult = text("supervisor_identification_result")
        checklist.emsSummoned = answer("ems_summoned")
        checklist.emsSummonedAt = text("ems_summoned_at")
        checklist.aidRendered = answer("aid_rendered")
        checklist.policeReportNumber = text("police_report_number")
        try Self.require(issues)
        return checklist
    }

    private static func require(_ issues: [ValidationIssue]) throws {
        guard issues.isEmpty else { throw ValidationFailure(issues: issues) }
    }

    private static func text(
        _ form: some FormFields, _ name: String, max: Int = shortText, multiline: Bool? = nil,
        required: Bool = false, into issues: inout [ValidationIssue]
    ) -> String? {
        TextRules.check(
            form[name], field: name, maxCharacters: max, multiline: multiline ?? (max > shortText),
            required: required, into: &issues)
    }

    private static func choice<Value: RawRepresentable>(
        _ form: some FormFields, _ name: String, default fallback: Value, into issues: inout [ValidationIssue]
    ) -> Value where Value.RawValue == String {
        optionalChoice(form, name, into: &issues) ?? fallback
    }

    private static func optionalChoice<Value: RawRepresentable>(
        _ form: some FormFields, _ name: String, into issues: inout [ValidationIssue]
    ) -> Value? where Value.RawValue == String {
        guard let raw = form[name], !raw.isEmpty else { return nil }
        guard let value = Value(rawValue: raw) else {
            issues.append(ValidationIssue(name, .unknownValue(raw)))
            return nil
        }
        return value
    }

    private static func staffID(_ form: some FormFields, _ name: String, into issues: inout [ValidationIssue])
        -> Identifier<StaffAccount>?
    {
        guard let raw = form[name], !raw.isEmpty else { return nil }
        guard let uuid = UUID(uuidString: raw) else {
            issues.append(ValidationIssue(name, .unknownValue(raw)))
            return nil
        }
        return Identifier(uuid)
    }
}
