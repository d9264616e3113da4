import AttestCore
import Vapor

/// A parsed `application/x-www-form-urlencoded` body: every value of every name, as sent.
///
/// Parsed here rather than with Vapor's decoder so that the rules are exact: bytes must be valid UTF-8
/// after percent-decoding (otherwise the whole body is refused, nothing is guessed), repeated names keep
/// every value, and nothing is coerced.
struct FormBody: FormFields {
    private(set) var values: [String: [String]] = [:]

    /// Why a body could not be read.
    enum Error: Swift.Error {
        case invalidEncoding
    }

    init(request: Request) throws {
        guard request.headers.contentType == .urlEncodedForm else { throw AttestHTTPError.unsupportedMediaType }
        let bytes = request.body.data.map { Array($0.readableBytesView) } ?? []
        guard bytes.count <= request.attest.configuration.maxBodyBytes else { throw Abort(.payloadTooLarge) }
        try self.init(bytes: bytes)
    }

    init(values: [String: [String]]) {
        self.values = values
    }

    init(bytes: [UInt8]) throws {
        // The body size limit (ATTEST_MAX_BODY_BYTES) bounds the number of fields; parsing is linear.
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            values[name, default: []].append(value)
        }
    }

    private static func decode(_ bytes: ArraySlice<UInt8>) throws -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { throw Error.invalidEncoding }
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        guard let string = String(validating: output, as: UTF8.self) else { throw Error.invalidEncoding }
        return string
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The first value of `name`.
    subscript(_ name: String) -> String? { values[name]?.first }

    /// Every value of `name`.
    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// Whether a checkbox named `name` was ticked.
    func isChecked(_ name: String) -> Bool { self[name] != nil }
}
