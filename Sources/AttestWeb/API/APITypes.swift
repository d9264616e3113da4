import AttestCore
import Vapor

/// `POST /api/v1/reports` body. JSON types are strict: a string where a boolean belongs is an error, never
/// coerced. Unknown members are ignored and never stored. Read with `JSONFields` (`Decodable` is kept for the
/// tests that compare the two).
struct APIReportInput: JSONFieldsDecodable, Decodable, Equatable {
    struct OccurredAt: Decodable, Equatable {
        var from: String?
        var until: String?
        var approximate: Bool?
    }

    struct Location: Decodable, Equatable {
        var description: String?
        // Numbers are read as Double so that 2.5 is a validation error on its field: Foundation's decoder
        // reports a non-integer where an Int belongs as invalid JSON, without naming the field.
        var communityArea: Double?
        var latitude: Double?
        var longitude: Double?
    }

    struct Agent: Decodable, Equatable {
        var vestText: String?
        var nameTape: String?
        var badge: String?
        var plateState: String?
        var plateNumber: String?
        var masked: String?
        var plainClothes: Bool?
        var bodyCamera: Bool?
    }

    struct Agents: Decodable, Equatable {
        var count: Double?
        var agency: String?
        var descriptions: [Agent]?
    }

    struct Harm: Decodable, Equatable {
        var injuries: Bool?
        var medicalCareNeeded: Bool?
        var medicalCareDeniedOrDelayed: Bool?
    }

    struct Contact: Decodable, Equatable {
        var name: String?
        var phone: String?
        var email: String?
        var preferredLanguage: String?
    }

    struct Consents: Decodable, Equatable {
        var contact: Bool?
        var shareWithProsecutor: Bool?
        var publicStatistics: Bool?
    }

    var occurredAt: OccurredAt?
    var location: Location?
    var narrative: String?
    var categories: [String]?
    var agents: Agents?
    var harm: Harm?
    var reporterRole: String?
    var contact: Contact?
    var consents: Consents?
    var language: String?
    /// Completed uploads (tus upload ids) to attach as evidence.
    var uploads: [String]?

    init(fields: JSONFields) throws {
        if let when = try fields.object("occurredAt") {
            occurredAt = OccurredAt(
                from: try when.string("from"), until: try when.string("until"),
                approximate: try when.bool("approximate"))
        }
        if let place = try fields.object("location") {
            location = Location(
                description: try place.string("description"), communityArea: try place.number("communityArea"),
                latitude: try place.number("latitude"), longitude: try place.number("longitude"))
        }
        narrative = try fields.string("narrative")
        categories = try fields.strings("categories")
        if let seen = try fields.object("agents") {
            agents = Agents(
                count: try seen.number("count"), agency: try seen.string("agency"),
                descriptions: try seen.objects("descriptions") { agent in
                    Agent(
                        vestText: try agent.string("vestText"), nameTape: try agent.string("nameTape"),
                        badge: try agent.string("badge"), plateState: try agent.string("plateState"),
                        plateNumber: try agent.string("plateNumber"), masked: try agent.string("masked"),
                        plainClothes: try agent.bool("plainClothes"), bodyCamera: try agent.bool("bodyCamera"))
                })
        }
        if let hurt = try fields.object("harm") {
            harm = Harm(
                injuries: try hurt.bool("injuries"), medicalCareNeeded: try hurt.bool("medicalCareNeeded"),
                medicalCareDeniedOrDelayed: try hurt.bool("medicalCareDeniedOrDelayed"))
        }
        reporterRole = try fields.string("reporterRole")
        if let reach = try fields.object("contact") {
            contact = Contact(
                name: try reach.string("name"), phone: try reach.string("phone"), email: try reach.string("email"),
                preferredLanguage: try reach.string("preferredLanguage"))
        }
        if let allowed = try fields.object("consents") {
            consents = Consents(
                contact: try allowed.bool("contact"), shareWithProsecutor: try allowed.bool("shareWithProsecutor"),
                publicStatistics: try allowed.bool("publicStatistics"))
        }
        language = try fields.string("language")
        uploads = try fields.strings("uploads")
    }

    /// A whole number as text, or the number as written (which validation then refuses as malformed).
    private static func integerText(_ value: Double?) -> String? {
        guard let value else { return nil }
        if value == value.rounded(), abs(value) < 1e9 { return String(Int(value)) }
        return "\(value)"
    }

    private static func answer(_ value: Bool?) -> String? {
        value.map { $0 ? "yes" : "no" }
    }

    func submission() -> ReportSubmission {
        var submission = ReportSubmission()
        submission.occurrence = .instants(from: occurredAt?.from, until: occurredAt?.until)
        submission.isApproximate = occurredAt?.approximate ?? false
        submission.locationDescription = location?.description
        submission.communityArea = Self.integerText(location?.communityArea)
        submission.latitude = location?.latitude.map { "\($0)" }
        submission.longitude = location?.longitude.map { "\($0)" }
        submission.narrative = narrative
        submission.categories = categories ?? []
        submission.agentCount = Self.integerText(agents?.count)
        submission.agency = agents?.agency
        submission.agents = (agents?.descriptions ?? []).map { agent in
            ReportSubmission.AgentDescription(
                vestText: agent.vestText, nameTape: agent.nameTape, badge: agent.badge, plateState: agent.plateState,
                plateNumber: agent.plateNumber, masked: agent.masked, plainClothes: Self.answer(agent.plainClothes),
                bodyCamera: Self.answer(agent.bodyCamera)
            )
        }
        submission.injuries = Self.answer(harm?.injuries)
        submission.medicalCareNeeded = Self.answer(harm?.medicalCareNeeded)
        submission.medicalCareDeniedOrDelayed = Self.answer(harm?.medicalCareDeniedOrDelayed)
        submission.reporterRole = reporterRole
        if let contact {
            submission.wantsContact = true
            submission.contactName = contact.name
            submission.contactPhone = contact.phone
            submission.contactEmail = contact.email
            submission.contactLanguage = contact.preferredLanguage
        }
        submission.consentsToContact = consents?.contact ?? false
        submission.consentsToProsecutorSharing = consents?.shareWithProsecutor ?? false
        submission.consentsToPublicStatistics = consents?.publicStatistics ?? false
        submission.language = language
        return submission
    }
}

struct APISupplementInput: JSONFieldsDecodable {
    var text: String?

    init(fields: JSONFields) throws {
        text = try fields.string("text")
    }
}

struct APIEvidenceInput: JSONFieldsDecodable {
    var uploads: [String]

    init(fields: JSONFields) throws {
        // Required: absent is a missing field, null a value of the wrong type.
        guard fields.members.contains(where: { $0.0 == "uploads" }) else { throw JSONFields.Missing(path: "uploads") }
        guard let uploads = try fields.strings("uploads") else { throw JSONFields.WrongType(path: "uploads") }
        self.uploads = uploads
    }
}

/// One attached file: its fingerprints, size and detected type, and the custody entry that recorded it.
struct APIEvidence: Content {
    var sha256: String
    var sha512: String
    var size: Int64
    var mediaType: String
    var receivedAt: String
    var custody: APICustody?

    init(_ item: EvidenceItem, custody: CustodyReceipt? = nil) {
        sha256 = item.sha256
        sha512 = item.sha512
        size = item.size
        mediaType = item.mediaType
        receivedAt = RFC3339.string(from: item.receivedAt)
        self.custody = custody.map { APICustody(index: $0.index, entryHash: $0.entryHash) }
    }
}

struct APIEvidenceReceipt: Content {
    var evidence: [APIEvidence]
}

struct APICustody: Content {
    var index: Int64
    var entryHash: String
}

struct APIReceipt: Content {
    var reference: String
    var followUpCode: String
    var status: String
    var receivedAt: String
    var contentHash: String
    var custody: APICustody
    var evidence: [APIEvidence] = []

    /// The JSON body, written directly (on every submission; `JSONEncoder` cost more than the rest of the
    /// response). `APITests` decode it with `JSONDecoder` and compare every field.
    var json: String {
        "{\"reference\":\(CanonicalJSON.quoted(reference)),\"followUpCode\":\(CanonicalJSON.quoted(followUpCode)),"
            + "\"status\":\(CanonicalJSON.quoted(status)),\"receivedAt\":\(CanonicalJSON.quoted(receivedAt)),"
            + "\"contentHash\":\(CanonicalJSON.quoted(contentHash)),\"custody\":{\"index\":\(custody.index),"
            + "\"entryHash\":\(CanonicalJSON.quoted(custody.entryHash))},\"evidence\":\(evidenceJSON)}"
    }

    private var evidenceJSON: String {
        guard !evidence.isEmpty, let data = try? JSONEncoder().encode(evidence) else { return "[]" }
        return String(decoding: data, as: UTF8.self)
    }
}

struct APIReportStatus: Content {
    struct Message: Content {
        var author: String
        var body: String
        var createdAt: String
    }
    var reference: String
    var status: String
    var receivedAt: String
    var contentHash: String
    var messages: [Message]
    var evidence: [APIEvidence]
}

struct APISupplementReceipt: Content {
    var createdAt: String
    var contentHash: String
    var custody: APICustody
}

struct APIJurisdiction: Content {
    struct Term: Content {
        var code: String
        var label: String
    }
    struct Area: Content {
        var number: Int
        var name: String
    }
    var code: String
    var name: String
    var timeZone: String
    var languages: [String]
    var categories: [Term]
    var agencies: [Term]
    var areas: [Area]
    var areaAttribution: String
}
