import AttestCore
import Foundation
import MultipartKit
import NIOCore
import Vapor

/// A submitted form, read from a streamed body: `application/x-www-form-urlencoded` (collected, at most
/// `ATTEST_MAX_BODY_BYTES`), or `multipart/form-data`, whose text fields are collected within the same limit
/// and whose file fields stream to disk as uploads, never held in memory.
struct FormInput {
    var form: FormBody
    /// Files that arrived in file fields, each a completed upload (its id), in order.
    var uploads: [String] = []
    /// Why a file was refused (the rest of the form was still read, so what was typed is kept).
    var fileError: EvidenceError?

    enum Error: Swift.Error {
        /// A file arrived before a valid CSRF token (the token field comes first in Attest's forms).
        case csrf
        case invalidEncoding
    }

    /// The file field of Attest's forms.
    static let fileField = "evidence"

    static func read(_ request: Request, source: EvidenceSource) async throws -> FormInput {
        let maxText = request.attest.configuration.maxBodyBytes
        guard let type = request.headers.contentType else { throw AttestHTTPError.unsupportedMediaType }
        if type == .urlEncodedForm {
            var buffer = ByteBuffer()
            for try await var chunk in StreamedBody(request) {
                guard buffer.readableBytes + chunk.readableBytes <= maxText else { throw Abort(.payloadTooLarge) }
                buffer.writeBuffer(&chunk)
            }
            do {
                return FormInput(form: try FormBody(bytes: Array(buffer.readableBytesView)))
            } catch FormBody.Error.invalidEncoding {
                throw Error.invalidEncoding
            }
        }
        guard type.type == "multipart", type.subType == "form-data", let boundary = type.parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 70
        else { throw AttestHTTPError.unsupportedMediaType }
        return try await readMultipart(request, boundary: boundary, maxText: maxText, source: source)
    }

    private enum Event {
        case header(String, String)
        case body(ByteBuffer)
        case end
    }

    private final class Events: @unchecked Sendable {
        var list: [Event] = []
    }

    private static func readMultipart(_ request: Request, boundary: String, maxText: Int, source: EvidenceSource)
        async throws -> FormInput
    {
        let services = request.attest
        let parser = MultipartParser(boundary: boundary)
        let events = Events()
        parser.onHeader = { events.list.append(.header($0, $1)) }
        parser.onBody = { events.list.append(.body($0)) }
        parser.onPartComplete = { events.list.append(.end) }

        var values: [String: [String]] = [:]
        var uploads: [String] = []
        var textBytes = 0
        var disposition: (name: String, filename: String?)?
        var text: [UInt8] = []
        var receiver: WholeFileReceiver?
        var fileError: EvidenceError?
        /// Set while the rest of a refused file streams past.
        var skipping = false
        defer { receiver?.abort() }
        for try await chunk in StreamedBody(request) {
            do {
                try parser.execute(chunk)
            } catch {
                throw Error.invalidEncoding
            }
            let pending = events.list
            events.list.removeAll()
            for event in pending {
                switch event {
                case .header(let name, let value):
                    if name.lowercased() == "content-disposition" { disposition = parseDisposition(value) }
                case .body(var buffer):
                    guard let part = disposition else { throw Error.invalidEncoding }
                    if part.filename != nil {
                        guard part.name == fileField, !skipping, buffer.readableBytes > 0 else { continue }
                        do {
                            if receiver == nil {
                                guard CSRF.isValid(values[CSRF.fieldName]?.first, for: request) else {
                                    throw Error.csrf
                                }
                                let limit = services.configuration.evidence.filesPerReportMax
                                guard uploads.count < limit else { throw EvidenceError.tooManyFiles(limit: limit) }
                                receiver = try services.uploads.beginWhole(source: source, random: services.random)
                            }
                            try await receiver!.add(&buffer)
                        } catch let error as EvidenceError {
                            fileError = fileError ?? error
                            receiver?.abort()
                            receiver = nil
                            skipping = true
                        }
                    } else {
                        textBytes += buffer.readableBytes
                        guard textBytes <= maxText else { throw Abort(.payloadTooLarge) }
                        text += buffer.readableBytesView
                    }
                case .end:
                    if let part = disposition {
                        if let file = receiver {
                            receiver = nil
                            do {
                                uploads.append(try await file.finish(now: services.clock.now()))
                            } catch let error as EvidenceError {
                                fileError = fileError ?? error
                            }
                        } else if part.filename == nil {
                            guard let value = String(validating: text, as: UTF8.self) else {
                                throw Error.invalidEncoding
                            }
                            values[part.name, default: []].append(value)
                        }
                    }
                    disposition = nil
                    text = []
                    skipping = false
                }
            }
        }
        return FormInput(form: FormBody(values: values), uploads: uploads, fileError: fileError)
    }

    /// `form-data; name="narrative"` or `form-data; name="evidence"; filename="IMG_0001.jpg"`.
    static func parseDisposition(_ value: String) -> (name: String, filename: String?)? {
        var name: String?
        var filename: String?
        for parameter in value.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            var raw = pair[1].trimmingCharacters(in: .whitespaces)
            if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 { raw = String(raw.dropFirst().dropLast()) }
            if key == "name" { name = raw }
            if key == "filename" { filename = raw }
        }
        return name.map { ($0, filename) }
    }
}
