import Foundation

/// A report as the resident sent it, before validation: every value is still the text or number that
/// arrived, so that validation alone decides what is acceptable, identically for the form and the API.
public struct ReportSubmission: Equatable, Sendable {
    /// When it happened, as the form gives it (local date and time) or as the API gives it (RFC 3339).
    public enum Occurrence: Equatable, Sendable {
        /// Local wall-clock values in the jurisdiction's time zone; only `date` is required.
        case local(date: String?, time: String?, endDate: String?, endTime: String?)
        /// RFC 3339 timestamps with offsets; only `from` is required.
        case instants(from: String?, until: String?)
    }

    /// One agent as the witness describes them. Every field is optional.
    public struct AgentDescription: Equatable, Sendable {
        public var vestText: String?
        public var nameTape: String?
        public var badge: String?
        public var plateState: String?
        public var plateNumber: String?
        /// `no`, `partly` or `fully`.
        public var masked: String?
        /// `yes`, `no` or `unknown`.
        public var plainClothes: String?
        /// `yes`, `no` or `unknown`.
        public var bodyCamera: String?

        public init(
            vestText: String? = nil, nameTape: String? = nil, badge: String? = nil, plateState: String? = nil,
            plateNumber: String? = nil, masked: String? = nil, plainClothes: String? = nil, bodyCamera: String? = nil
        ) {
            self.vestText = vestText
            self.nameTape = nameTape
            self.badge = badge
            self.plateState = plateState
            self.plateNumber = plateNumber
            self.masked = masked
            self.plainClothes = plainClothes
            self.bodyCamera = bodyCamera
        }

        /// Whether the witness left every field blank (an unused block of the form).
        public var isEmpty: Bool {
            [vestText, nameTape, badge, plateState, plateNumber, masked, plainClothes, bodyCamera]
                .allSatisfy { ($0 ?? "").isEmpty || $0 == "unknown" }
        }
    }

    public var occurrence: Occurrence = .local(date: nil, time: nil, endDate: nil, endTime: nil)
    public var isApproximate = false
    public var locationDescription: String?
    /// The area number chosen from the list.
    public var communityArea: String?
    public var latitude: String?
    public var longitude: String?
    public var narrative: String?
    public var categories: [String] = []
    public var agentCount: String?
    public var agency: String?
    public var agents: [AgentDescription] = []
    /// `yes`, `no` or `unknown`.
    public var injuries: String?
    /// `yes`, `no` or `unknown`.
    public var medicalCareNeeded: String?
    /// `yes`, `no` or `unknown`.
    public var medicalCareDeniedOrDelayed: String?
    public var reporterRole: String?
    /// Whether the resident chose to give contact details; when false any contact text is discarded.
    public var wantsContact = false
    public var contactName: String?
    public var contactPhone: String?
    public var contactEmail: String?
    public var contactLanguage: String?
    public var consentsToContact = false
    public var consentsToProsecutorSharing = false
    public var consentsToPublicStatistics = false
    /// The language the resident used.
    public var language: String?

    public init() {}
}
