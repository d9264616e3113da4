import AttestCore
import AttestTestSupport
import Foundation
import Testing

@Suite("Jurisdictions and geography")
struct JurisdictionTests {
    @Test("The fictional jurisdiction loads with its own languages, zone, taxonomy and geography")
    func riverton() throws {
        let riverton = try Fixtures.riverton()
        #expect(riverton.code == "riverton")
        #expect(riverton.defaultLanguage == "es")
        #expect(riverton.timeZone.identifier == "America/Denver")
        #expect(riverton.categories.map(\.code) == ["excessive_force", "records_tampering"])
        #expect(riverton.categories[0].isPriority)
        #expect(riverton.geography.areas.map(\.number) == [7, 9])
        #expect(riverton.geography.unitName.text(in: "en", fallback: "es") == "District")
        #expect(riverton.publication.delayDays == 45)
    }

    @Test("Point in polygon finds areas, including in a second polygon, and tells near from far")
    func placement() throws {
        let geography = try Fixtures.riverton().geography
        #expect(geography.place(Fixtures.millbrook) == .inside(area: 7))
        #expect(geography.place(Fixtures.harborFlatsNorth) == .inside(area: 9))
        #expect(geography.place(Coordinate(latitude: 45.07, longitude: -99.99)) == .nearby)
        #expect(geography.place(Coordinate(latitude: 45.5, longitude: -99.98)) == .outside)
    }

    @Test("Holes are excluded from their polygon")
    func holes() throws {
        let geoJSON = """
            {"type":"FeatureCollection","features":[{"type":"Feature","properties":{"n":1,"name":"Ring"},
            "geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}}]}
            """
        let geography = try Geography(
            geoJSON: Data(geoJSON.utf8), numberProperty: "n", nameProperty: "name", unitName: LocalizedLabel([:]),
            attribution: "", marginKilometres: 1
        )
        #expect(geography.place(Coordinate(latitude: 2, longitude: 2)) == .inside(area: 1))
        #expect(geography.place(Coordinate(latitude: 5, longitude: 5)) == .nearby)
    }

    @Test("A jurisdiction with an unknown time zone or a default language it does not offer is refused")
    func invalidJurisdiction() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var config =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: Fixtures.rivertonDirectory.appendingPathComponent("jurisdiction.json"))
            ) as! [String: Any]
        try FileManager.default.copyItem(
            at: Fixtures.rivertonDirectory.appendingPathComponent("districts.geojson"),
            to: directory.appendingPathComponent("districts.geojson")
        )
        config["timeZone"] = "Mars/Olympus"
        try JSONSerialization.data(withJSONObject: config).write(
            to: directory.appendingPathComponent("jurisdiction.json"))
        #expect(throws: JurisdictionLoader.Error.self) { try JurisdictionLoader.load(directory: directory) }
        config["timeZone"] = "America/Denver"
        config["defaultLanguage"] = "pl"
        try JSONSerialization.data(withJSONObject: config).write(
            to: directory.appendingPathComponent("jurisdiction.json"))
        #expect(throws: JurisdictionLoader.Error.self) { try JurisdictionLoader.load(directory: directory) }
    }
}
