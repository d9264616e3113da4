import AttestCore
import Foundation

/// The report form as data: sections of fields, each with its label, hint, value, options and error, so
/// one template renders every field with the same labelling, error linking and bidirectional isolation.
struct ReportForm: Encodable {
    struct Option: Encodable {
        var value: String
        var label: String
        var isSelected: Bool
    }

    struct Field: Encodable {
        enum Kind: String, Encodable {
            case text, textarea, date, time, number, select, radios, checkbox, checkboxes, email, tel
        }
        var kind: Kind
        var name: String
        var id: String
        var label: String
        var hint: String?
        var value: String
        var options: [Option]
        var isRequired: Bool
        var error: String?
        var autocomplete: String
        var inputMode: String?
        var maxLength: Int?
        var isChecked: Bool

        enum CodingKeys: String, CodingKey {
            case kind, name, id, label, hint, value, options, isRequired, error, autocomplete, inputMode, maxLength
            case isChecked, hasHint, hasError, describedBy
        }

        // Templates test explicit booleans rather than the presence of optionals.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(name, forKey: .name)
            try container.encode(id, forKey: .id)
            try container.encode(label, forKey: .label)
            try container.encode(hint ?? "", forKey: .hint)
            try container.encode(value, forKey: .value)
            try container.encode(options, forKey: .options)
            try container.encode(isRequired, forKey: .isRequired)
            try container.encode(error ?? "", forKey: .error)
            try container.encode(autocomplete, forKey: .autocomplete)
            try container.encode(inputMode ?? "text", forKey: .inputMode)
            try container.encode(maxLength ?? 100_000, forKey: .maxLength)
            try container.encode(isChecked, forKey: .isChecked)
            try container.encode(hint != nil, forKey: .hasHint)
            try container.encode(error != nil, forKey: .hasError)
            let described = [hint.map { _ in id + "-hint" }, error.map { _ in id + "-error" }].compactMap { $0 }
            try container.encode(described.joined(separator: " "), forKey: .describedBy)
        }
    }

    struct Section: Encodable {
        var id: String
        var legend: String
        var intro: String?
        var fields: [Field]
        var isCollapsible: Bool
        var isOpen: Bool
        var hasLocationButton: Bool
        var hasIntro: Bool { intro != nil }

        enum CodingKeys: String, CodingKey {
            case id, legend, intro, fields, isCollapsible, isOpen, hasLocationButton, hasIntro
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(legend, forKey: .legend)
            try container.encode(intro ?? "", forKey: .intro)
            try container.encode(fields, forKey: .fields)
            try container.encode(isCollapsible, forKey: .isCollapsible)
            try container.encode(isOpen, forKey: .isOpen)
            try container.encode(hasLocationButton, forKey: .hasLocationButton)
            try container.encode(hasIntro, forKey: .hasIntro)
        }
    }

    struct SummaryItem: Encodable {
        var href: String
        var message: String
    }

    var sections: [Section]
    var errorSummary: [SummaryItem]
    var generalError: String?
    var hasErrors: Bool { !errorSummary.isEmpty }
    var hasGeneralError: Bool { generalError != nil }

    enum CodingKeys: String, CodingKey {
        case sections, errorSummary, generalError, hasErrors, hasGeneralError
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sections, forKey: .sections)
        try container.encode(errorSummary, forKey: .errorSummary)
        try container.encode(generalError ?? "", forKey: .generalError)
        try container.encode(hasErrors, forKey: .hasErrors)
        try container.encode(hasGeneralError, forKey: .hasGeneralError)
    }

    /// Number of agent blocks the form offers without JavaScript.
    static let agentBlocks = 3

    static func id(for name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }
}

/// Builds the form for a jurisdiction and language from submitted values and validation problems.
struct ReportFormBuilder {
    let jurisdiction: Jurisdiction
    let language: String
    let limits: ReportLimits
    let mapping: ErrorMapping
    let form: FormBody?
    let issues: [ValidationIssue]

    private func t(_ key: String) -> String { mapping.text(key) }

    private func value(_ name: String) -> String { form?[name] ?? "" }

    private func error(_ name: String) -> String? {
        issues.first { $0.field == name }.map { mapping.problemMessage($0.problem) }
    }

    private func field(
        _ kind: ReportForm.Field.Kind, _ name: String, label: String? = nil, hint: String? = nil,
        required: Bool = false, options: [ReportForm.Option] = [], autocomplete: String = "off",
        inputMode: String? = nil, maxLength: Int? = nil
    ) -> ReportForm.Field {
        let labelKey = "field_" + name.replacingOccurrences(of: ".", with: "_")
        return ReportForm.Field(
            kind: kind, name: name, id: ReportForm.id(for: name), label: label ?? t(labelKey), hint: hint,
            value: value(name), options: options, isRequired: required, error: error(name),
            autocomplete: autocomplete, inputMode: inputMode, maxLength: maxLength,
            isChecked: form?.isChecked(name) ?? false
        )
    }

    private func choices(_ name: String, _ values: [(String, String)], default fallback: String? = nil)
        -> [ReportForm.Option]
    {
        let current = form?[name] ?? fallback
        return values.map { ReportForm.Option(value: $0.0, label: $0.1, isSelected: $0.0 == current) }
    }

    private func triState(_ name: String) -> ReportForm.Field {
        field(
            .radios, name,
            options: choices(
                name, [("yes", t("answer_yes")), ("no", t("answer_no")), ("unknown", t("answer_unknown"))])
        )
    }

    func build(generalError: String? = nil) -> ReportForm {
        let short = limits.shortTextMaxCharacters
        var sections: [ReportForm.Section] = []
        let fallback = jurisdiction.defaultLanguage
        sections.append(
            section(
                "when",
                [
                    field(.date, "date", hint: t("hint_date"), required: true),
                    field(.time, "time", hint: t("hint_time")),
                    field(.date, "endDate", hint: t("hint_endDate")),
                    field(.time, "endTime"),
                    field(.checkbox, "approximate"),
                ]
            )
        )
        let areas = [("", t("area_unknown"))] + jurisdiction.geography.areas.map { (String($0.number), $0.name) }
        sections.append(
            section(
                "where",
                [
                    field(
                        .textarea, "location.description", hint: t("hint_location"),
                        maxLength: limits.locationMaxCharacters),
                    field(
                        .select, "location.communityArea",
                        label: jurisdiction.geography.unitName.text(in: language, fallback: fallback),
                        options: choices("location.communityArea", areas)
                    ),
                    field(.text, "location.latitude", hint: t("hint_coordinates"), inputMode: "decimal", maxLength: 32),
                    field(.text, "location.longitude", inputMode: "decimal", maxLength: 32),
                ],
                hasLocationButton: true
            )
        )
        let categories = jurisdiction.categories.map { category in
            ReportForm.Option(
                value: category.code, label: category.labels.text(in: language, fallback: fallback),
                isSelected: form?.all("categories").contains(category.code) ?? false
            )
        }
        sections.append(
            section(
                "what",
                [
                    field(
                        .textarea, "narrative", hint: t("hint_narrative"), required: true,
                        maxLength: limits.narrativeMaxCharacters
                    ),
                    field(.checkboxes, "categories", hint: t("hint_categories"), options: categories),
                ]
            )
        )
        let agencies = jurisdiction.agencies.map { ($0.code, $0.labels.text(in: language, fallback: fallback)) }
        sections.append(
            section(
                "agents",
                [
                    field(.number, "agents.count", inputMode: "numeric"),
                    field(.radios, "agents.agency", options: choices("agents.agency", agencies)),
                ]
            )
        )
        for index in 0..<ReportForm.agentBlocks {
            let prefix = "agents.descriptions[\(index)]."
            let masked = [("no", t("masked_no")), ("partly", t("masked_partly")), ("fully", t("masked_fully"))]
            var agentFields = [
                field(.text, prefix + "vestText", label: t("field_agents_descriptions_vestText"), maxLength: short),
                field(.text, prefix + "nameTape", label: t("field_agents_descriptions_nameTape"), maxLength: short),
                field(.text, prefix + "badge", label: t("field_agents_descriptions_badge"), maxLength: short),
                field(.text, prefix + "plateState", label: t("field_agents_descriptions_plateState"), maxLength: short),
                field(
                    .text, prefix + "plateNumber", label: t("field_agents_descriptions_plateNumber"), maxLength: short),
                field(
                    .radios, prefix + "masked", label: t("field_agents_descriptions_masked"),
                    options: choices(prefix + "masked", masked)
                ),
            ]
            for name in ["plainClothes", "bodyCamera"] {
                var tri = triState(prefix + name)
                tri.label = t("field_agents_descriptions_\(name)")
                agentFields.append(tri)
            }
            let hasContent = agentFields.contains { !$0.value.isEmpty || $0.error != nil }
            sections.append(
                ReportForm.Section(
                    id: "agent-\(index)", legend: mapping.text("agent_numbered", ["n": "\(index + 1)"]),
                    intro: index == 0 ? t("section_agent_intro") : nil, fields: agentFields, isCollapsible: true,
                    isOpen: index == 0 || hasContent, hasLocationButton: false
                )
            )
        }
        sections.append(
            section(
                "harm",
                [
                    triState("harm.injuries"), triState("harm.medicalCareNeeded"),
                    triState("harm.medicalCareDeniedOrDelayed"),
                ]
            )
        )
        let roles = ReporterRole.allCases.map { ($0.rawValue, t("role_\($0.rawValue)")) }
        sections.append(section("you", [field(.radios, "reporterRole", options: choices("reporterRole", roles))]))
        sections.append(
            section(
                "contact",
                [
                    field(
                        .radios, "contactChoice",
                        options: choices(
                            "contactChoice", [("anonymous", t("contact_anonymous")), ("contact", t("contact_give"))],
                            default: "anonymous"
                        )
                    ),
                    field(.text, "contact.name", autocomplete: "name", maxLength: short),
                    field(.tel, "contact.phone", autocomplete: "tel", inputMode: "tel", maxLength: short),
                    field(.email, "contact.email", autocomplete: "email", maxLength: short),
                    field(.text, "contact.preferredLanguage", maxLength: short),
                ]
            )
        )
        sections.append(
            section(
                "consents",
                [
                    field(.checkbox, "consents.contact"),
                    field(.checkbox, "consents.shareWithProsecutor"),
                    field(.checkbox, "consents.publicStatistics"),
                ]
            )
        )
        var summary = issues.map { issue in
            ReportForm.SummaryItem(href: "#" + ReportForm.id(for: issue.field), message: mapping.fieldMessage(issue))
        }
        if issues.contains(where: { $0.field == "contact" }) {
            summary = summary.map { item in
                var item = item
                if item.href == "#contact" { item.href = "#contact-phone" }
                return item
            }
        }
        return ReportForm(sections: sections, errorSummary: summary, generalError: generalError)
    }

    private func section(
        _ id: String, _ fields: [ReportForm.Field], hasLocationButton: Bool = false
    ) -> ReportForm.Section {
        var fields = fields
        // A problem with the contact choice as a whole is shown on the phone field, where it is fixed.
        if id == "contact", let problem = error("contact"),
            let index = fields.firstIndex(where: { $0.name == "contact.phone" })
        {
            fields[index].error = fields[index].error ?? problem
        }
        return ReportForm.Section(
            id: id, legend: t("section_\(id)"),
            intro: mapping.catalogs.catalogs[language]?.messages["section_\(id)_intro"]
                ?? mapping.catalogs.catalogs[mapping.catalogs.fallbackLanguage]?.messages["section_\(id)_intro"],
            fields: fields, isCollapsible: false, isOpen: true, hasLocationButton: hasLocationButton
        )
    }
}

extension ReportSubmission {
    /// Reads the form's fields into a submission; names are the API's field paths.
    init(form: FormBody, language: String) {
        self.init()
        occurrence = .local(date: form["date"], time: form["time"], endDate: form["endDate"], endTime: form["endTime"])
        isApproximate = form.isChecked("approximate")
        locationDescription = form["location.description"]
        communityArea = form["location.communityArea"]
        latitude = form["location.latitude"]
        longitude = form["location.longitude"]
        narrative = form["narrative"]
        categories = form.all("categories")
        agentCount = form["agents.count"]
        agency = form["agents.agency"]
        var highest = -1
        for name in form.values.keys where name.hasPrefix("agents.descriptions[") {
            let digits = name.dropFirst("agents.descriptions[".count).prefix { $0.isNumber }
            if digits.count <= 4, let index = Int(digits) { highest = max(highest, index) }
        }
        agents =
            highest < 0
            ? []
            : (0...highest).map { index in
                let prefix = "agents.descriptions[\(index)]."
                return ReportSubmission.AgentDescription(
                    vestText: form[prefix + "vestText"], nameTape: form[prefix + "nameTape"],
                    badge: form[prefix + "badge"],
                    plateState: form[prefix + "plateState"], plateNumber: form[prefix + "plateNumber"],
                    masked: form[prefix + "masked"], plainClothes: form[prefix + "plainClothes"],
                    bodyCamera: form[prefix + "bodyCamera"]
                )
            }
        injuries = form["harm.injuries"]
        medicalCareNeeded = form["harm.medicalCareNeeded"]
        medicalCareDeniedOrDelayed = form["harm.medicalCareDeniedOrDelayed"]
        reporterRole = form["reporterRole"]
        wantsContact = form["contactChoice"] == "contact"
        contactName = form["contact.name"]
        contactPhone = form["contact.phone"]
        contactEmail = form["contact.email"]
        contactLanguage = form["contact.preferredLanguage"]
        consentsToContact = form.isChecked("consents.contact")
        consentsToProsecutorSharing = form.isChecked("consents.shareWithProsecutor")
        consentsToPublicStatistics = form.isChecked("consents.publicStatistics")
        self.language = language
    }
}
