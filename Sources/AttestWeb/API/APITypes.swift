import AttestCore
import Vapor

/// `POST /api/v1/reports` body. JSON types are strict: a string where a boolean belongs is an error, never
/// coerced. Unknown members are ignored and never stored.
struct APIReportInput: Decodable {
    struct OccurredAt: Decodable {
        var from: String?
        var until: String?
        var approximate: Bool?
    }

    struct Location: Decodable {
        var description: String?
        // Numbers are read as Double so that 2.5 is a validation error on its field: Foundation's decoder
        // reports a non-integer where an Int belongs as invalid JSON, without naming the field.
        var communityArea: Double?
        var latitude: Double?
        var longitude: Double?
    }

    struct Agent: Decodable {
        var vestText: String?
        var nameTape: String?
        var badge: String?
        var plateState: String?
        var plateNumber: String?
        var masked: String?
        var plainClothes: Bool?
        var bodyCamera: Bool?
    }

    struct Agents: Decodable {
        var count: Double?
        var agency: String?
        var descriptions: [Agent]?
    }

    struct Harm: Decodable {
        var injuries: Bool?
        var medicalCareNeeded: Bool?
        var medicalCareDeniedOrDelayed: Bool?
    }

    struct Contact: Decodable {
        var name: String?
        var phone: String?
        var email: String?
        var preferredLanguage: String?
    }

    struct Consents: Decodable {
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

struct APISupplementInput: Decodable {
    var text: String?
}

struct APIEvidenceInput: Decodable {
    var uploads: [String]
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
