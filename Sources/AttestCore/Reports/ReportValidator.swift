import Foundation

/// Turns a raw submission into validated report content, or into the complete list of its problems.
///
/// Field names are the paths the API uses (`location.latitude`, `agents.descriptions[0].badge`); the form
/// names its inputs the same way, so one list of problems serves both.
public struct ReportValidator: Sendable {
    public var jurisdiction: Jurisdiction
    public var limits: ReportLimits

    public init(jurisdiction: Jurisdiction, limits: ReportLimits) {
        self.jurisdiction = jurisdiction
        self.limits = limits
    }

    /// The validated content and contact details (nil when anonymous).
    public struct Output: Equatable, Sendable {
        public var content: ReportContent
        public var contact: ContactDetails?
    }

    /// Validates `submission` as of `now`.
    public func validate(_ submission: ReportSubmission, now: Date) throws(ValidationFailure) -> Output {
        var issues: [ValidationIssue] = []
        let occurrence = validateOccurrence(submission, now: now, issues: &issues)
        let location = validateLocation(submission, issues: &issues)
        let narrative = TextRules.check(
            submission.narrative, field: "narrative", maxCharacters: limits.narrativeMaxCharacters, multiline: true,
            required: true, into: &issues
        )
        let categories = validateCategories(submission.categories, issues: &issues)
        let agents = validateAgents(submission, issues: &issues)
        let harm = Harm(
            injuries: triState(submission.injuries, field: "harm.injuries", issues: &issues),
            medicalCareNeeded: triState(submission.medicalCareNeeded, field: "harm.medicalCareNeeded", issues: &issues),
            medicalCareDeniedOrDelayed: triState(
                submission.medicalCareDeniedOrDelayed, field: "harm.medicalCareDeniedOrDelayed", issues: &issues
            )
        )
        let role = enumValue(ReporterRole.self, submission.reporterRole, field: "reporterRole", issues: &issues)
        let contact = validateContact(submission, issues: &issues)
        var language = jurisdiction.defaultLanguage
        if let requested = submission.language, !requested.isEmpty {
            if jurisdiction.languages.contains(requested) {
                language = requested
            } else {
                issues.append(ValidationIssue("language", .unknownValue(String(requested.prefix(20)))))
            }
        }
        guard issues.isEmpty, let occurrence, let narrative else { throw ValidationFailure(issues: issues) }
        let consents = Consents(
            mayContact: contact != nil && submission.consentsToContact,
            mayShareWithProsecutor: submission.consentsToProsecutorSharing,
            mayCountInStatistics: submission.consentsToPublicStatistics
        )
        let content = ReportContent(
            occurrence: occurrence, location: location, narrative: narrative, categories: categories, agents: agents,
            harm: harm, reporterRole: role, consents: consents, language: language
        )
        return Output(content: content, contact: contact)
    }

    // MARK: - When

    private func validateOccurrence(
        _ submission: ReportSubmission, now: Date, issues: inout [ValidationIssue]
    ) -> Occurrence? {
        let start: Date?
        var end: Date?
        var endField: String
        var endIsExplicit = true
        switch submission.occurrence {
        case .local(let date, let time, let endDate, let endTime):
            endField = endTime?.isEmpty == false ? "endTime" : "endDate"
            let startDay = localDate(date, field: "date", required: true, issues: &issues)
            let startTime = localTime(time, field: "time", issues: &issues)
            let endDay = localDate(endDate, field: "endDate", required: false, issues: &issues)
            let endClock = localTime(endTime, field: "endTime", issues: &issues)
            guard let startDay else { return nil }
            start = instant(startDay, startTime ?? .init(hour: 0, minute: 0, second: 0), field: "time", &issues)
            if endDay != nil || endClock != nil {
                let day = endDay ?? startDay
                if let endClock {
                    end = instant(day, endClock, field: "endTime", &issues)
                } else if let midnight = instant(day, .init(hour: 0, minute: 0, second: 0), field: "endDate", &issues) {
                    end = midnight.addingTimeInterval(86_400 - 1)
                    endIsExplicit = false
                }
            } else if startTime == nil, let start {
                // A date without a time means "some time that day".
                end = start.addingTimeInterval(86_400 - 1)
                endIsExplicit = false
            }
        case .instants(let from, let until):
            endField = "occurredAt.until"
            start = timestamp(from, field: "occurredAt.from", required: true, issues: &issues)
            end = timestamp(until, field: "occurredAt.until", required: false, issues: &issues)
        }
        guard let start else { return nil }
        let startField: String
        if case .local = submission.occurrence { startField = "date" } else { startField = "occurredAt.from" }
        let latest = now.addingTimeInterval(limits.clockSkewTolerance)
        if start > latest {
            issues.append(ValidationIssue(startField, .inFuture))
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = jurisdiction.timeZone
        if calendar.component(.year, from: start) < limits.earliestYear {
            issues.append(ValidationIssue(startField, .tooOld(earliestYear: limits.earliestYear)))
            return nil
        }
        var finish = end ?? start
        if !endIsExplicit { finish = min(finish, max(now, start)) }
        if endIsExplicit, finish > latest {
            issues.append(ValidationIssue(endField, .inFuture))
            return nil
        }
        if finish < start {
            issues.append(ValidationIssue(endField, .reversedWindow))
            return nil
        }
        if finish.timeIntervalSince(start) > Double(limits.windowMaxDays) * 86_400 {
            issues.append(ValidationIssue(endField, .windowTooLong(maxDays: limits.windowMaxDays)))
            return nil
        }
        return Occurrence(start: start, end: finish, isApproximate: submission.isApproximate)
    }

    private func localDate(
        _ text: String?, field: String, required: Bool, issues: inout [ValidationIssue]
    ) -> RFC3339.LocalDate? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            if required { issues.append(ValidationIssue(field, .required)) }
            return nil
        }
        switch RFC3339.parseDate(text) {
        case .value(let date): return date
        case .malformed: issues.append(ValidationIssue(field, .malformed))
        case .impossible: issues.append(ValidationIssue(field, .impossibleDate))
        }
        return nil
    }

    private func localTime(_ text: String?, field: String, issues: inout [ValidationIssue]) -> RFC3339.LocalTime? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        switch RFC3339.parseTime(text) {
        case .value(let time): return time
        case .malformed: issues.append(ValidationIssue(field, .malformed))
        case .impossible: issues.append(ValidationIssue(field, .impossibleDate))
        }
        return nil
    }

    private func instant(
        _ date: RFC3339.LocalDate, _ time: RFC3339.LocalTime, field: String, _ issues: inout [ValidationIssue]
    ) -> Date? {
        guard let instant = RFC3339.instant(date: date, time: time, in: jurisdiction.timeZone) else {
            issues.append(ValidationIssue(field, .impossibleDate))
            return nil
        }
        return instant
    }

    private func timestamp(_ text: String?, field: String, required: Bool, issues: inout [ValidationIssue]) -> Date? {
        guard let text, !text.isEmpty else {
            if required { issues.append(ValidationIssue(field, .required)) }
            return nil
        }
        switch RFC3339.parseTimestamp(text) {
        case .value(let date): return date
        case .malformed: issues.append(ValidationIssue(field, .malformed))
        case .impossible: issues.append(ValidationIssue(field, .impossibleDate))
        }
        return nil
    }

    // MARK: - Where

    private func validateLocation(_ submission: ReportSubmission, issues: inout [ValidationIssue]) -> IncidentLocation {
        let description = TextRules.check(
            submission.locationDescription, field: "location.description",
            maxCharacters: limits.locationMaxCharacters, into: &issues
        )
        var area: Int?
        if let text = submission.communityArea?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let number = Int(text), jurisdiction.geography.hasArea(number) {
                area = number
            } else {
                issues.append(ValidationIssue("location.communityArea", .unknownValue(String(text.prefix(20)))))
            }
        }
        let latitude = number(submission.latitude, field: "location.latitude", range: -90...90, issues: &issues)
        let longitude = number(submission.longitude, field: "location.longitude", range: -180...180, issues: &issues)
        var coordinate: Coordinate?
        switch (latitude, longitude) {
        case (let latitude?, let longitude?):
            let point = Coordinate(latitude: latitude, longitude: longitude)
            switch jurisdiction.geography.place(point) {
            case .inside(let number):
                coordinate = point
                if area == nil { area = number }
            case .nearby:
                coordinate = point
            case .outside:
                issues.append(ValidationIssue("location.latitude", .outsideJurisdiction))
            }
        case (nil, nil):
            break
        case (nil, _):
            if submission.latitude?.isEmpty ?? true { issues.append(ValidationIssue("location.latitude", .required)) }
        case (_, nil):
            if submission.longitude?.isEmpty ?? true { issues.append(ValidationIssue("location.longitude", .required)) }
        }
        return IncidentLocation(description: description, area: area, coordinate: coordinate)
    }

    private func number(
        _ text: String?, field: String, range: ClosedRange<Double>, issues: inout [ValidationIssue]
    ) -> Double? {
        // Numbers as the API sends them need no trimming (Foundation's trimming cost 1 % of a submission).
        let allowed: (UInt8) -> Bool = { (0x30...0x39).contains($0) || "+-.eE".utf8.contains($0) }
        let plain = text.flatMap { $0.utf8.allSatisfy(allowed) ? $0 : nil }
        guard let text = plain ?? text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard text.utf8.count <= 32, text.utf8.allSatisfy(allowed),
            let value = Double(text), value.isFinite
        else {
            issues.append(ValidationIssue(field, .malformed))
            return nil
        }
        guard range.contains(value) else {
            issues.append(ValidationIssue(field, .outOfRange(min: range.lowerBound, max: range.upperBound)))
            return nil
        }
        return value
    }

    // MARK: - What and who

    private func validateCategories(_ codes: [String], issues: inout [ValidationIssue]) -> [String] {
        if codes.count > jurisdiction.categories.count {
            issues.append(ValidationIssue("categories", .tooMany(max: jurisdiction.categories.count)))
            return []
        }
        var seen: Set<String> = []
        for code in codes {
            if !jurisdiction.hasCategory(code) {
                issues.append(ValidationIssue("categories", .unknownValue(String(code.prefix(40)))))
            } else if !seen.insert(code).inserted {
                issues.append(ValidationIssue("categories", .duplicate(code)))
            }
        }
        // Stored in taxonomy order, so the same choices always hash the same.
        return jurisdiction.categories.map(\.code).filter(seen.contains)
    }

    private func validateAgents(_ submission: ReportSubmission, issues: inout [ValidationIssue]) -> AgentsSeen {
        var count: Int?
        if let text = submission.agentCount?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if text.count <= 9, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text) {
                if value > limits.agentCountMax {
                    issues.append(
                        ValidationIssue("agents.count", .outOfRange(min: 0, max: Double(limits.agentCountMax))))
                } else {
                    count = value
                }
            } else {
                issues.append(ValidationIssue("agents.count", .malformed))
            }
        }
        var agency: String?
        if let code = submission.agency, !code.isEmpty {
            if jurisdiction.hasAgency(code) {
                agency = code
            } else {
                issues.append(ValidationIssue("agents.agency", .unknownValue(String(code.prefix(40)))))
            }
        }
        let given = submission.agents.filter { !$0.isEmpty }
        if given.count > limits.agentDescriptionsMax {
            issues.append(ValidationIssue("agents.descriptions", .tooMany(max: limits.agentDescriptionsMax)))
            return AgentsSeen(count: count, agency: agency, descriptions: [])
        }
        var descriptions: [AgentDescription] = []
        for (index, agent) in submission.agents.enumerated() where !agent.isEmpty {
            let prefix = "agents.descriptions[\(index)]."
            func text(_ value: String?, _ name: String) -> String? {
                TextRules.check(
                    value, field: prefix + name, maxCharacters: limits.shortTextMaxCharacters, into: &issues)
            }
            descriptions.append(
                AgentDescription(
                    vestText: text(agent.vestText, "vestText"),
                    nameTape: text(agent.nameTape, "nameTape"),
                    badge: text(agent.badge, "badge"),
                    plateState: text(agent.plateState, "plateState"),
                    plateNumber: text(agent.plateNumber, "plateNumber"),
                    masked: enumValue(Masking.self, agent.masked, field: prefix + "masked", issues: &issues),
                    plainClothes: triState(agent.plainClothes, field: prefix + "plainClothes", issues: &issues),
                    bodyCamera: triState(agent.bodyCamera, field: prefix + "bodyCamera", issues: &issues)
                )
            )
        }
        return AgentsSeen(count: count, agency: agency, descriptions: descriptions)
    }

    private func validateContact(_ submission: ReportSubmission, issues: inout [ValidationIssue]) -> ContactDetails? {
        // Anonymous is the default: text typed into the contact fields before choosing to stay anonymous
        // is discarded, never stored.
        guard submission.wantsContact else { return nil }
        let limit = limits.shortTextMaxCharacters
        let name = TextRules.check(submission.contactName, field: "contact.name", maxCharacters: limit, into: &issues)
        var phone = TextRules.check(
            submission.contactPhone, field: "contact.phone", maxCharacters: limit, into: &issues)
        var email = TextRules.check(
            submission.contactEmail, field: "contact.email", maxCharacters: limit, into: &issues)
        let language = TextRules.check(
            submission.contactLanguage, field: "contact.preferredLanguage", maxCharacters: limit, into: &issues
        )
        if let value = phone {
            let digits = value.filter { $0.isASCII && $0.isNumber }
            let allowed = value.allSatisfy { ($0.isASCII && $0.isNumber) || " +-().".contains($0) }
            if !allowed || !(7...15).contains(digits.count) {
                issues.append(ValidationIssue("contact.phone", .malformed))
                phone = nil
            }
        }
        if let value = email {
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            let isPlausible =
                parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
                && !parts[1].hasSuffix(".") && !value.contains(where: \.isWhitespace)
            if !isPlausible {
                issues.append(ValidationIssue("contact.email", .malformed))
                email = nil
            }
        }
        let hadMethodProblem = issues.contains { $0.field == "contact.phone" || $0.field == "contact.email" }
        if phone == nil, email == nil, !hadMethodProblem {
            issues.append(ValidationIssue("contact", .missingContactMethod))
            return nil
        }
        return ContactDetails(name: name, phone: phone, email: email, preferredLanguage: language)
    }

    // MARK: - Enumerations

    private func triState(_ text: String?, field: String, issues: inout [ValidationIssue]) -> TriState {
        enumValue(TriState.self, text, field: field, issues: &issues) ?? .unknown
    }

    private func enumValue<Value: RawRepresentable<String>>(
        _ type: Value.Type, _ text: String?, field: String, issues: inout [ValidationIssue]
    ) -> Value? {
        guard let text, !text.isEmpty else { return nil }
        guard let value = Value(rawValue: text) else {
            issues.append(ValidationIssue(field, .unknownValue(String(text.prefix(40)))))
            return nil
        }
        return value
    }
}
