import AttestCore
import AttestLedger
import Vapor

/// Errors raised by the web layer itself.
enum AttestHTTPError: Error, Equatable {
    case rateLimited(retryAfterSeconds: Int)
    case malformedJSON
    case invalidUTF8
    case invalidType(field: String)
    case unsupportedMediaType
    case missingCredentials
}

/// A problem described for a client: HTTP status, stable code, localized message, field-level details.
struct ErrorDescription: Equatable {
    struct Field: Equatable, Encodable {
        var field: String
        var code: String
        var message: String
    }

    var status: HTTPResponseStatus
    var code: String
    var message: String
    var fields: [Field] = []
    var headers: HTTPHeaders = [:]
}

/// The one place where every error becomes a status, a stable code and a user-safe localized message.
/// The switches are exhaustive: a new error case does not compile until it is mapped here.
struct ErrorMapping {
    let catalogs: MessageCatalogs
    let language: String

    func text(_ key: String, _ arguments: [String: String] = [:]) -> String {
        catalogs.text(key, language: language, arguments)
    }

    func describe(_ error: any Error) -> ErrorDescription {
        switch error {
        case let error as AttestHTTPError: describe(error)
        case let failure as ValidationFailure: describe(failure)
        case let error as FollowUpError: describe(error)
        case let error as TriageStatus.Error: describe(error)
        case let error as LedgerRequestError: describe(error)
        case let error as Merkle.Error: describe(error)
        case let error as UploadError: describe(error)
        case let error as EvidenceError: describe(error)
        case let error as StaffError: describe(error)
        case let error as CaseFileStatus.Error: describe(error)
        case let error as CaseFileEditError: describe(error)
        case let error as MultipartReader.Failure: describe(error)
        case is StreamedBody.TimedOut:
            ErrorDescription(status: .requestTimeout, code: "body_timeout", message: text("error_body_timeout"))
        case let abort as any AbortError: describe(status: abort.status)
        default: ErrorDescription(status: .internalServerError, code: "internal_error", message: text("error_internal"))
        }
    }

    func describe(_ error: AttestHTTPError) -> ErrorDescription {
        switch error {
        case .rateLimited(let seconds):
            ErrorDescription(
                status: .tooManyRequests, code: "rate_limited",
                message: text("error_rate_limited", ["seconds": "\(seconds)"]),
                headers: ["Retry-After": "\(seconds)"]
            )
        case .malformedJSON:
            ErrorDescription(status: .badRequest, code: "malformed_json", message: text("error_malformed_json"))
        case .invalidUTF8:
            ErrorDescription(status: .badRequest, code: "invalid_utf8", message: text("error_invalid_utf8"))
        case .invalidType(let field):
            ErrorDescription(
                status: .unprocessableEntity, code: "validation_failed", message: text("error_validation"),
                fields: [.init(field: field, code: "invalid_type", message: text("problem_invalid_type"))]
            )
        case .unsupportedMediaType:
            ErrorDescription(
                status: .unsupportedMediaType, code: "unsupported_media_type", message: text("error_media_type")
            )
        case .missingCredentials:
            ErrorDescription(status: .unauthorized, code: "follow_up_denied", message: text("error_follow_up_denied"))
        }
    }

    func describe(_ failure: ValidationFailure) -> ErrorDescription {
        ErrorDescription(
            status: .unprocessableEntity, code: "validation_failed", message: text("error_validation"),
            fields: failure.issues.map { issue in
                .init(field: issue.field, code: Self.code(of: issue.problem), message: fieldMessage(issue))
            }
        )
    }

    func describe(_ error: FollowUpError) -> ErrorDescription {
        switch error {
        case .denied:
            ErrorDescription(status: .unauthorized, code: "follow_up_denied", message: text("error_follow_up_denied"))
        case .tooManySupplements(let max):
            ErrorDescription(
                status: .unprocessableEntity, code: "too_many_supplements",
                message: text("error_too_many_supplements", ["max": "\(max)"])
            )
        case .invalidSupplement(let issue):
            describe(ValidationFailure(issues: [issue]))
        }
    }

    func describe(_ error: TriageStatus.Error) -> ErrorDescription {
        switch error {
        case .forbiddenTransition:
            ErrorDescription(status: .conflict, code: "forbidden_transition", message: text("error_conflict"))
        }
    }

    func describe(_ error: LedgerRequestError) -> ErrorDescription {
        switch error {
        case .invalidParameter(let name):
            ErrorDescription(
                status: .badRequest, code: "invalid_parameter", message: text("error_log_parameter", ["name": name]))
        case .beyondCheckpoint(let requested, let published):
            ErrorDescription(
                status: .badRequest, code: "beyond_checkpoint",
                message: text(
                    "error_log_beyond_checkpoint", ["requested": "\(requested)", "published": "\(published)"])
            )
        case .invalidRange(let reason):
            ErrorDescription(
                status: .badRequest, code: "invalid_range", message: text("error_log_range", ["reason": reason]))
        case .invalidTilePath:
            ErrorDescription(status: .notFound, code: "invalid_tile_path", message: text("error_log_tile_path"))
        case .entriesNotPublic:
            ErrorDescription(
                status: .forbidden, code: "entries_not_public", message: text("error_log_entries_not_public"))
        case .noSuchCheckpoint:
            ErrorDescription(status: .notFound, code: "no_checkpoint", message: text("error_log_no_checkpoint"))
        case .tileNotPublished(let published):
            ErrorDescription(
                status: .notFound, code: "tile_not_published",
                message: text("error_log_tile_not_published", ["published": "\(published)"]))
        }
    }

    func describe(_ error: UploadError) -> ErrorDescription {
        switch error {
        case .unsupportedVersion:
            ErrorDescription(
                status: .preconditionFailed, code: "tus_version", message: text("error_upload_version"),
                headers: ["Tus-Version": UploadsController.version])
        case .notFound:
            ErrorDescription(status: .notFound, code: "upload_not_found", message: text("error_upload_not_found"))
        case .gone:
            ErrorDescription(status: .gone, code: "upload_gone", message: text("error_upload_gone"))
        case .offsetMismatch(let current):
            ErrorDescription(
                status: .conflict, code: "offset_mismatch",
                message: text("error_upload_offset", ["offset": "\(current)"]))
        case .busy:
            ErrorDescription(status: .conflict, code: "upload_busy", message: text("error_upload_busy"))
        case .invalidHeader(let name):
            ErrorDescription(
                status: .badRequest, code: "invalid_header", message: text("error_upload_header", ["name": name]))
        case .wrongContentType:
            ErrorDescription(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: text("error_upload_content_type"))
        case .checksumMismatch:
            ErrorDescription(
                status: HTTPResponseStatus(statusCode: 460, reasonPhrase: "Checksum Mismatch"),
                code: "checksum_mismatch", message: text("error_upload_checksum"))
        case .beyondLength(let length):
            ErrorDescription(
                status: .payloadTooLarge, code: "beyond_length",
                message: text("error_upload_beyond_length", ["length": "\(length)"]))
        }
    }

    func describe(_ error: EvidenceError) -> ErrorDescription {
        switch error {
        case .typeNotAllowed:
            ErrorDescription(
                status: .unsupportedMediaType, code: "evidence_type_not_allowed", message: text("error_evidence_type"))
        case .tooLarge(let limit):
            ErrorDescription(
                status: .payloadTooLarge, code: "evidence_too_large",
                message: text("error_evidence_too_large", ["max": Self.byteCount(limit, language: language)]))
        case .tooManyFiles(let limit):
            ErrorDescription(
                status: .unprocessableEntity, code: "evidence_too_many_files",
                message: text("error_evidence_too_many", ["max": "\(limit)"]))
        case .reportTooLarge(let limit):
            ErrorDescription(
                status: .unprocessableEntity, code: "evidence_report_too_large",
                message: text("error_evidence_report_too_large", ["max": Self.byteCount(limit, language: language)]))
        case .senderHashMismatch:
            ErrorDescription(
                status: HTTPResponseStatus(statusCode: 460, reasonPhrase: "Checksum Mismatch"),
                code: "evidence_hash_mismatch", message: text("error_evidence_sender_hash"))
        case .uploadNotFound:
            ErrorDescription(
                status: .unprocessableEntity, code: "evidence_upload_not_found",
                message: text("error_evidence_not_found"))
        case .uploadNotComplete:
            ErrorDescription(
                status: .unprocessableEntity, code: "evidence_upload_incomplete",
                message: text("error_evidence_not_complete"))
        case .uploadAlreadyAttached:
            ErrorDescription(
                status: .conflict, code: "evidence_upload_attached", message: text("error_evidence_attached"))
        case .uploadExpired:
            ErrorDescription(
                status: .gone, code: "evidence_upload_expired", message: text("error_evidence_expired"))
        case .diskFull:
            ErrorDescription(
                status: .insufficientStorage, code: "insufficient_storage", message: text("error_disk_full"))
        case .tooMuchOpen(let limit):
            ErrorDescription(
                status: .tooManyRequests, code: "too_much_open",
                message: text("error_evidence_too_much_open", ["max": Self.byteCount(limit, language: language)]))
        }
    }

    func describe(_ error: StaffError) -> ErrorDescription {
        switch error {
        case .invalidCredentials:
            ErrorDescription(
                status: .unauthorized, code: "invalid_credentials", message: text("error_staff_credentials"))
        case .tooManyAttempts(let seconds):
            ErrorDescription(
                status: .tooManyRequests, code: "too_many_attempts",
                message: text("error_staff_too_many_attempts", ["seconds": "\(seconds)"]),
                headers: ["Retry-After": "\(seconds)"])
        case .busy(let seconds):
            ErrorDescription(
                status: .serviceUnavailable, code: "busy", message: text("error_staff_busy"),
                headers: ["Retry-After": "\(seconds)"])
        case .invalidSecondFactor:
            ErrorDescription(status: .unauthorized, code: "invalid_second_factor", message: text("error_staff_code"))
        case .weakPassword(let problem):
            switch problem {
            case .tooShort(let minimum):
                ErrorDescription(
                    status: .unprocessableEntity, code: "weak_password",
                    message: text("error_staff_password_short", ["min": "\(minimum)"]))
            case .tooLong(let maximum):
                ErrorDescription(
                    status: .unprocessableEntity, code: "weak_password",
                    message: text("error_staff_password_long", ["max": "\(maximum)"]))
            case .common:
                ErrorDescription(
                    status: .unprocessableEntity, code: "weak_password", message: text("error_staff_password_common"))
            case .containsEmail:
                ErrorDescription(
                    status: .unprocessableEntity, code: "weak_password", message: text("error_staff_password_email"))
            }
        case .passwordsDiffer:
            ErrorDescription(
                status: .unprocessableEntity, code: "passwords_differ", message: text("error_staff_passwords_differ"))
        case .emailTaken:
            ErrorDescription(status: .conflict, code: "email_taken", message: text("error_staff_email_taken"))
        case .invalidEmail:
            ErrorDescription(status: .unprocessableEntity, code: "invalid_email", message: text("error_staff_email"))
        case .invalidName:
            ErrorDescription(status: .unprocessableEntity, code: "invalid_name", message: text("error_staff_name"))
        case .invalidOffice:
            ErrorDescription(status: .unprocessableEntity, code: "invalid_office", message: text("error_staff_office"))
        case .setupLinkInvalid:
            ErrorDescription(status: .notFound, code: "setup_link_invalid", message: text("error_staff_setup_link"))
        case .partnerCodeInvalid:
            ErrorDescription(
                status: .unprocessableEntity, code: "partner_code_invalid", message: text("error_staff_partner_code"))
        case .approvalRequestInvalid:
            ErrorDescription(
                status: .conflict, code: "approval_request_invalid", message: text("error_staff_approval_invalid"))
        case .approvalNeedsAnotherAdministrator:
            ErrorDescription(
                status: .conflict, code: "approval_needs_another_administrator",
                message: text("error_staff_approval_other"))
        case .accountNotFound:
            ErrorDescription(
                status: .notFound, code: "account_not_found", message: text("error_staff_account_not_found"))
        case .ownAccount:
            ErrorDescription(status: .conflict, code: "own_account", message: text("error_staff_own_account"))
        case .sessionExpired:
            ErrorDescription(status: .unauthorized, code: "session_expired", message: text("error_staff_session"))
        case .forbidden:
            ErrorDescription(status: .forbidden, code: "forbidden", message: text("error_staff_forbidden"))
        }
    }

    func describe(_ error: CaseFileStatus.Error) -> ErrorDescription {
        switch error {
        case .forbiddenTransition:
            ErrorDescription(status: .conflict, code: "forbidden_transition", message: text("error_conflict"))
        case .outcomeRequired:
            ErrorDescription(
                status: .unprocessableEntity, code: "outcome_required", message: text("error_case_outcome"))
        case .outcomeNotAllowed:
            ErrorDescription(
                status: .unprocessableEntity, code: "outcome_not_allowed", message: text("error_bad_request"))
        case .supervisorRequired:
            ErrorDescription(status: .forbidden, code: "supervisor_required", message: text("error_case_supervisor"))
        case .noSuchCaseFile:
            ErrorDescription(status: .notFound, code: "not_found", message: text("error_not_found"))
        }
    }

    func describe(_ error: CaseFileEditError) -> ErrorDescription {
        switch error {
        case .noSuchCaseFile, .noSuchPart:
            ErrorDescription(status: .notFound, code: "not_found", message: text("error_not_found"))
        case .caseFileClosed:
            ErrorDescription(status: .conflict, code: "case_file_closed", message: text("error_case_closed"))
        case .supervisorRequired:
            ErrorDescription(
                status: .forbidden, code: "supervisor_required", message: text("error_case_part_supervisor"))
        case .reasonRequired:
            ErrorDescription(
                status: .unprocessableEntity, code: "reason_required", message: text("error_case_identity_reason"))
        case .unknownCategory(let code):
            ErrorDescription(
                status: .unprocessableEntity, code: "unknown_value",
                message: text("error_case_unknown_category", ["value": code]))
        case .unknownSubjectOrPerson:
            ErrorDescription(
                status: .unprocessableEntity, code: "unknown_value", message: text("error_case_unknown_party"))
        case .subjectRequired:
            ErrorDescription(
                status: .unprocessableEntity, code: "subject_required", message: text("error_case_subject_required"))
        case .unknownAssignee:
            ErrorDescription(
                status: .unprocessableEntity, code: "unknown_value", message: text("error_case_unknown_assignee"))
        }
    }

    /// A form body refused while it was being read; the connection reads no more of it.
    func describe(_ error: MultipartReader.Failure) -> ErrorDescription {
        switch error {
        case .headerTooLarge:
            ErrorDescription(
                status: .payloadTooLarge, code: "multipart_header_too_large",
                message: text("error_multipart_header_too_large"))
        case .tooManyParts:
            ErrorDescription(
                status: .payloadTooLarge, code: "multipart_too_many_parts",
                message: text("error_multipart_too_many_parts"))
        case .nameTooLong:
            ErrorDescription(
                status: .payloadTooLarge, code: "multipart_name_too_long",
                message: text("error_multipart_name_too_long"))
        case .tooMuchText:
            ErrorDescription(
                status: .payloadTooLarge, code: "payload_too_large", message: text("error_payload_too_large"))
        case .malformed:
            ErrorDescription(
                status: .badRequest, code: "invalid_form_encoding", message: text("error_invalid_form_encoding"))
        }
    }

    /// A byte count for people: "4 GiB", "512 MiB", "900 bytes".
    static func byteCount(_ bytes: Int64, language: String) -> String {
        let formatter = ByteCountFormatter()
        formatter.countStyle = .binary
        formatter.allowedUnits = [.useBytes, .useKB, .useMB, .useGB, .useTB]
        return formatter.string(fromByteCount: bytes)
    }

    /// Proof inputs the log refuses (request parameters are checked before these can arise).
    func describe(_ error: Merkle.Error) -> ErrorDescription {
        switch error {
        case .indexOutOfRange, .invalidSizes, .wrongProofLength, .rootMismatch:
            ErrorDescription(
                status: .badRequest, code: "invalid_range", message: text("error_log_range", ["reason": "\(error)"]))
        case .missingNode:
            ErrorDescription(status: .internalServerError, code: "internal_error", message: text("error_internal"))
        }
    }

    func describe(status: HTTPResponseStatus) -> ErrorDescription {
        switch status.code {
        case 413:
            ErrorDescription(status: status, code: "payload_too_large", message: text("error_payload_too_large"))
        case 404:
            ErrorDescription(status: status, code: "not_found", message: text("error_not_found"))
        case 405:
            ErrorDescription(status: status, code: "method_not_allowed", message: text("error_method_not_allowed"))
        case 415:
            ErrorDescription(status: status, code: "unsupported_media_type", message: text("error_media_type"))
        case 400..<500:
            ErrorDescription(status: status, code: "bad_request", message: text("error_bad_request"))
        default:
            ErrorDescription(status: .internalServerError, code: "internal_error", message: text("error_internal"))
        }
    }

    /// The message for one field problem, e.g. "Too long: at most 20000 characters."
    func problemMessage(_ problem: ValidationIssue.Problem) -> String {
        let code = Self.code(of: problem)
        switch problem {
        case .tooLong(let max), .tooMany(let max):
            return text("problem_\(code)", ["max": "\(max)"])
        case .tooOld(let year):
            return text("problem_\(code)", ["year": "\(year)"])
        case .windowTooLong(let days):
            return text("problem_\(code)", ["days": "\(days)"])
        case .outOfRange(let min, let max):
            return text("problem_\(code)", ["min": Self.number(min), "max": Self.number(max)])
        case .unknownValue(let value), .duplicate(let value):
            return text("problem_\(code)", ["value": value])
        case .required, .blank, .controlCharacters, .malformed, .impossibleDate, .inFuture, .reversedWindow,
            .outsideJurisdiction, .missingContactMethod:
            return text("problem_\(code)")
        }
    }

    /// The field's label and the problem, for summaries and the API.
    func fieldMessage(_ issue: ValidationIssue) -> String {
        "\(fieldLabel(issue.field)): \(problemMessage(issue.problem))"
    }

    /// The localized label of a field path; agent fields name the agent's number.
    func fieldLabel(_ field: String) -> String {
        var key = ""
        var index: Int?
        var digits = ""
        var inBrackets = false
        for character in field {
            switch character {
            case "[": inBrackets = true
            case "]":
                inBrackets = false
                index = Int(digits)
            case "." where !inBrackets: key.append("_")
            default:
                if inBrackets { digits.append(character) } else { key.append(character) }
            }
        }
        let label = text("field_\(key)")
        guard let index else { return label }
        return text("agent_numbered", ["n": "\(index + 1)"]) + " – " + label
    }

    static func code(of problem: ValidationIssue.Problem) -> String {
        switch problem {
        case .required: "required"
        case .blank: "blank"
        case .tooLong: "too_long"
        case .controlCharacters: "control_characters"
        case .malformed: "invalid_format"
        case .impossibleDate: "impossible_date"
        case .inFuture: "in_future"
        case .tooOld: "too_old"
        case .reversedWindow: "reversed_window"
        case .windowTooLong: "window_too_long"
        case .outOfRange: "out_of_range"
        case .outsideJurisdiction: "outside_jurisdiction"
        case .unknownValue: "unknown_value"
        case .tooMany: "too_many"
        case .duplicate: "duplicate"
        case .missingContactMethod: "missing_contact_method"
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
