import AttestCore
import Foundation
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
            for try await var chunk in StreamedBody(
                request, seconds: request.attest.configuration.multipart.bodySeconds)
            {
                guard buffer.readableBytes + chunk.readableBytes <= maxText else { throw Abort(.payloadTooLarge) }
                buffer.writeBuffer(&chunk)
            }
            do {
                return FormInput(form: try FormBody(bytes: Array(buffer.readableBytesView)))
            } catch FormBody.Error.invalidEncoding {
                throw Error.invalidEncoding
            }
        }
        // Media types and parameter names are case-insensitive (RFC 2045); the boundary's value is not.
        let boundary = type.parameters.first { $0.key.lowercased() == "boundary" }?.value
        guard type.type.lowercased() == "multipart", type.subType.lowercased() == "form-data", let boundary,
            !boundary.isEmpty, boundary.utf8.count <= 70
        else { throw AttestHTTPError.unsupportedMediaType }
        return try await readMultipart(request, boundary: boundary, maxText: maxText, source: source)
    }

    private static func readMultipart(_ request: Request, boundary: String, maxText: Int, source: EvidenceSource)
        async throws -> FormInput
    {
        let services = request.attest
        let limits = services.configuration.multipart
        var reader = MultipartReader(
            boundary: boundary, limits: limits, maxTextBytes: maxText, fileFields: [fileField])
        var values: [String: [String]] = [:]
        var uploads: [String] = []
        var disposition: (name: String, filename: String?)?
        var text: [UInt8] = []
        var receiver: WholeFileReceiver?
        var fileError: EvidenceError?
        /// Set while the rest of a refused file streams past.
        var skipping = false
        defer { receiver?.abort() }
        for try await chunk in StreamedBody(request, seconds: limits.bodySeconds) {
            for event in try reader.read(chunk) {
                switch event {
                case .part(let name, let filename):
                    disposition = (name, filename)
                case .content(var buffer):
                    guard let part = disposition else { throw MultipartReader.Failure.malformed }
                    if part.filename != nil {
                        // Every file byte is charged, also those of a refused file streaming past.
                        if part.name == fileField { try request.chargeUploadBytes(buffer.readableBytes) }
                        guard part.name == fileField, !skipping, buffer.readableBytes > 0 else { continue }
                        do {
                            if receiver == nil {
                                guard CSRF.isValid(values[CSRF.fieldName]?.first, for: request) else {
                                    throw Error.csrf
                                }
                                let limit = services.configuration.evidence.filesPerReportMax
                                guard uploads.count < limit else { throw EvidenceError.tooManyFiles(limit: limit) }
                                receiver = try await services.uploads.beginWhole(
                                    source: source, random: services.random)
                            }
                            try await receiver!.add(&buffer)
                        } catch let error as EvidenceError {
                            fileError = fileError ?? error
                            receiver?.abort()
                            receiver = nil
                            skipping = true
                        }
                    } else {
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
        try reader.finish()
        return FormInput(form: FormBody(values: values), uploads: uploads, fileError: fileError)
    }
}
