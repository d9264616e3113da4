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
        // Decoded with JSONDecoder into typed GeoJSON: no Foundation object graph (JSONSerialization's NSNumber
        // bridging crashed under concurrent loads on Linux), and malformed files fail with a reason.
        let file: GeoJSON.FeatureCollection
        do {
            file = try JSONDecoder().decode(GeoJSON.FeatureCollection.self, from: data)
        } catch {
            throw Error.malformed("not a GeoJSON FeatureCollection of polygons: \(error)")
        }
        var areas: [Area] = []
        var overall = Bounds()
        for feature in file.features {
            guard case .string(let name)? = feature.properties[nameProperty] else {
                throw Error.malformed("a feature has no text property \(nameProperty)")
            }
            let number: Int
            switch feature.properties[numberProperty] {
            case .number(let value)? where value == value.rounded(): number = Int(value)
            case .string(let text)? where Int(text) != nil: number = Int(text)!
            default: throw Error.malformed("feature \(name) has no numeric \(numberProperty)")
            }
            let rawPolygons = feature.geometry.polygons
            var bounds = Bounds()
            let polygons: [[[SIMD2<Double>]]] = try rawPolygons.map { rings in
                try rings.map { ring in
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

/// The part of GeoJSON (RFC 7946) that area boundaries use.
enum GeoJSON {
    struct FeatureCollection: Decodable {
        var features: [Feature]
    }

    struct Feature: Decodable {
        var properties: [String: Property]
        var geometry: Geometry
    }

    enum Property: Decodable {
        case number(Double)
        case string(String)
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else {
                self = .other
            }
        }
    }

    /// A Polygon or MultiPolygon, as polygons of rings of positions.
    struct Geometry: Decodable {
        var polygons: [[[[Double]]]]

        enum CodingKeys: String, CodingKey {
            case type, coordinates
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(String.self, forKey: .type) {
            case "Polygon": polygons = [try container.decode([[[Double]]].self, forKey: .coordinates)]
            case "MultiPolygon": polygons = try container.decode([[[[Double]]]].self, forKey: .coordinates)
            case let other:
                throw DecodingError.dataCorruptedError(
                    forKey: .type, in: container, debugDescription: "\(other) is not a polygon"
                )
            }
        }
    }
}
