import AttestCore
import Foundation

/// Where the test fixtures live.
public enum Fixtures {
    static let resources: URL = {
        if let url = Bundle.module.url(forResource: "Resources", withExtension: nil) { return url }
        return Bundle.module.bundleURL.appendingPathComponent("Resources")
    }()

    /// The fictional jurisdiction's directory: Riverton, Spanish first, Mountain time, two districts.
    public static let rivertonDirectory = resources.appendingPathComponent("Jurisdictions/riverton")

    /// The fictional jurisdiction.
    public static func riverton() throws -> Jurisdiction {
        try JurisdictionLoader.load(directory: rivertonDirectory)
    }

    /// A point inside Riverton's district 7 (Millbrook).
    public static let millbrook = Coordinate(latitude: 45.02, longitude: -99.98)
    /// A point inside Riverton's district 9 (Harbor Flats), in its second polygon.
    public static let harborFlatsNorth = Coordinate(latitude: 45.07, longitude: -99.94)
}

extension ReportSubmission {
    /// The smallest valid submission: roughly when, and what happened.
    public static func minimal(date: String = "2026-11-20", narrative: String = "Agents pushed a man to the ground.")
        -> ReportSubmission
    {
        var submission = ReportSubmission()
        submission.occurrence = .local(date: date, time: nil, endDate: nil, endTime: nil)
        submission.narrative = narrative
        return submission
    }
}
