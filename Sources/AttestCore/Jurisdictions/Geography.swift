import Foundation

/// A point on the earth in WGS 84 degrees.
public struct Coordinate: Codable, Equatable, Sendable {
    /// Degrees north, -90...90.
    public var latitude: Double
    /// Degrees east, -180...180.
    public var longitude: Double

    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// The areas of a jurisdiction (Chicago's 77 community areas, say) and point-in-polygon lookup over them.
public struct Geography: Sendable {
    /// One area: a number, a name, and its polygons (each an outer ring followed by its holes).
    public struct Area: Sendable {
        /// The area's number, e.g. 32 for the Loop.
        public var number: Int
        /// The area's name.
        public var name: String
        /// Polygons as rings of (longitude, latitude) pairs.
        var polygons: [[[SIMD2<Double>]]]
        var bounds: Bounds

        /// Whether `point` lies inside this area (even-odd rule, so holes are excluded).
        public func contains(_ point: Coordinate) -> Bool {
            guard bounds.contains(point) else { return false }
            let target = SIMD2(point.longitude, point.latitude)
            return polygons.contains { polygon in
                var inside = false
                for ring in polygon where ring.count > 2 {
                    var previous = ring[ring.count - 1]
                    for vertex in ring {
                        if (vertex.y > target.y) != (previous.y > target.y) {
                            let crossing =
                                (previous.x - vertex.x) * (target.y - vertex.y) / (previous.y - vertex.y)
                                + vertex.x
                            if target.x < crossing { inside.toggle() }
                        }
                        previous = vertex
                    }
                }
                return inside
            }
        }
    }

    struct Bounds: Sendable {
        var minLatitude = Double.infinity
        var maxLatitude = -Double.infinity
        var minLongitude = Double.infinity
        var maxLongitude = -Double.infinity

        mutating func include(_ vertex: SIMD2<Double>) {
            minLongitude = min(minLongitude, vertex.x)
            maxLongitude = max(maxLongitude, vertex.x)
            minLatitude = min(minLatitude, vertex.y)
            maxLatitude = max(maxLatitude, vertex.y)
        }

        func contains(_ point: Coordinate) -> Bool {
            point.latitude >= minLatitude && point.latitude <= maxLatitude && point.longitude >= minLongitude
                && point.longitude <= maxLongitude
        }

        func expanded(byKilometres margin: Double) -> Bounds {
            let latitudeDegrees = margin / 111.32
            let middle = (minLatitude + maxLatitude) / 2 * .pi / 180
            let longitudeDegrees = margin / (111.32 * max(cos(middle), 0.01))
            return Bounds(
                minLatitude: minLatitude - latitudeDegrees, maxLatitude: maxLatitude + latitudeDegrees,
                minLongitude: minLongitude - longitudeDegrees, maxLongitude: maxLongitude + longitudeDegrees
            )
        }
    }

    /// The result of placing a point in the jurisdiction.
    public enum Placement: Equatable, Sendable {
        /// Inside the numbered area.
        case inside(area: Int)
        /// Outside every area but within the margin around the jurisdiction (a border street, say).
        case nearby
        /// Far outside the jurisdiction.
        case outside
    }

    /// The areas, ordered by number.
    public let areas: [Area]
    /// What an area is called, per language (e.g. "Community area").
    public let unitName: LocalizedLabel
    /// Where the boundaries come from, to be shown wherever they are used.
    public let attribution: String
    /// How far outside the areas a point may lie and still be accepted, in kilometres.
    public let marginKilometres: Double
    private let margin: Bounds

    /// Whether `number` names one of the areas.
    public func hasArea(_ number: Int) -> Bool { areas.contains { $0.number == number } }

    /// Places `point` in an area, near the jurisdiction, or outside it.
    public func place(_ point: Coordinate) -> Placement {
        if let area = areas.first(where: { $0.contains(point) }) { return .inside(area: area.number) }
        return margin.contains(point) ? .nearby : .outside
    }

    /// Errors in a geography file.
    public enum Error: Swift.Error, Equatable {
        /// The file is not a GeoJSON FeatureCollection of Polygons or MultiPolygons with the named properties.
        case malformed(String)
    }

    /// Reads a GeoJSON FeatureCollection whose features carry an area number and name property.
    public init(
        geoJSON data: Data, numberProperty: String, nameProperty: String, unitName: LocalizedLabel,
        attribution: String, marginKilometres: Double
    ) throws {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let features = root["features"] as? [[String: Any]]
        else { throw Error.malformed("not a FeatureCollection") }
        var areas: [Area] = []
        var overall = Bounds()
        for feature in features {
            guard let properties = feature["properties"] as? [String: Any],
                let geometry = feature["geometry"] as? [String: Any],
                let type = geometry["type"] as? String,
                let name = properties[nameProperty] as? String
            else { throw Error.malformed("a feature lacks properties or geometry") }
            let number: Int
            if let value = properties[numberProperty] as? Int {
                number = value
            } else if let text = properties[numberProperty] as? String, let value = Int(text) {
                number = value
            } else {
                throw Error.malformed("feature \(name) has no numeric \(numberProperty)")
            }
            let rawPolygons: [Any]
            switch type {
            case "Polygon": rawPolygons = [geometry["coordinates"] as Any]
            case "MultiPolygon": rawPolygons = geometry["coordinates"] as? [Any] ?? []
            default: throw Error.malformed("feature \(name) is a \(type), not a polygon")
            }
            var bounds = Bounds()
            let polygons: [[[SIMD2<Double>]]] = try rawPolygons.map { polygon in
                guard let rings = polygon as? [[[Double]]] else { throw Error.malformed("bad coordinates in \(name)") }
                return try rings.map { ring in
                    try ring.map { pair in
                        guard pair.count >= 2 else { throw Error.malformed("bad position in \(name)") }
                        let vertex = SIMD2(pair[0], pair[1])
                        bounds.include(vertex)
                        overall.include(vertex)
                        return vertex
                    }
                }
            }
            areas.append(Area(number: number, name: name, polygons: polygons, bounds: bounds))
        }
        guard !areas.isEmpty else { throw Error.malformed("no areas") }
        self.areas = areas.sorted { $0.number < $1.number }
        self.unitName = unitName
        self.attribution = attribution
        self.marginKilometres = marginKilometres
        self.margin = overall.expanded(byKilometres: marginKilometres)
    }
}
