import Foundation

/// A field of a case file part that only roles holding `permission` may see.
///
/// `CaseFilePartBody.restrictedFields` is the one list of them, and every reader follows it: the case file page
/// shows a part as `CaseFilePart.visible(to:)` leaves it, and search indexes a part's `searchableText`, which has
/// none of them. A field added to the list leaves the page of every role without the permission and the index
/// at once.
public struct RestrictedField: Sendable, CustomStringConvertible {
    /// The kind of part the field belongs to.
    public let kind: CaseFilePartBody.Kind
    /// The field's name in the part's JSON body.
    public let name: String
    /// What a role needs to see the field.
    public let permission: StaffPermission
    private let assign: @Sendable (inout CaseFilePartBody, String?) -> Void

    private init(
        kind: CaseFilePartBody.Kind, name: String, permission: StaffPermission,
        assign: @escaping @Sendable (inout CaseFilePartBody, String?) -> Void
    ) {
        self.kind = kind
        self.name = name
        self.permission = permission
        self.assign = assign
    }

    /// A text field of a subject agent.
    static func subject(
        _ name: String, _ field: WritableKeyPath<SubjectAgent, String?> & Sendable, permission: StaffPermission
    ) -> RestrictedField {
        RestrictedField(kind: .subject, name: name, permission: permission) { body, value in
            guard case .subject(var subject) = body else { return }
            subject[keyPath: field] = value
            body = .subject(subject)
        }
    }

    /// Sets the field in `body` (a body of another kind is left alone); nil removes it.
    public func set(_ value: String?, in body: inout CaseFilePartBody) {
        assign(&body, value)
    }

    public var description: String { "\(kind.rawValue).\(name)" }
}

extension CaseFilePartBody {
    /// Every field a case file part keeps from some roles: why and by whom a real identity was attached to a
    /// subject agent is a supervisor's to know, like the identity itself.
    public static let restrictedFields: [RestrictedField] = [
        .subject("identityReason", \.identityReason, permission: .attachIdentity),
        .subject("identityAttachedBy", \.identityAttachedBy, permission: .attachIdentity),
    ]

    /// The body without the restricted fields `isHidden` picks.
    func removing(where isHidden: (RestrictedField) -> Bool) -> CaseFilePartBody {
        var body = self
        for field in Self.restrictedFields where field.kind == kind && isHidden(field) {
            field.set(nil, in: &body)
        }
        return body
    }
}

extension CaseFilePart {
    /// What a role needs to see a part's sealed personal data: a subject's real identity or a person's contact.
    public static func sealedPermission(of kind: CaseFilePartBody.Kind) -> StaffPermission? {
        switch kind {
        case .subject: .attachIdentity
        case .person: .viewContact
        case .allegation, .note, .task, .event: nil
        }
    }

    /// The part as `role` may see it: restricted fields and sealed personal data it lacks the permission for are
    /// removed.
    public func visible(to role: StaffRole) -> CaseFilePart {
        var part = self
        part.body = body.removing { !StaffPolicy.allows(role, $0.permission) }
        if let permission = Self.sealedPermission(of: body.kind), !StaffPolicy.allows(role, permission) {
            part.sealed = nil
        }
        return part
    }

    /// The text search indexes for the part: every text value of its body, in the canonical JSON's order, without
    /// any restricted field (whichever role searches) and never the sealed personal data.
    public var searchableText: String {
        let body = body.removing { _ in true }
        guard let json = try? body.canonicalJSON(), let value = try? JSONSerialization.jsonObject(with: json) else {
            return ""
        }
        var texts: [String] = []
        func collect(_ value: Any) {
            switch value {
            case let text as String: texts.append(text)
            case let array as [Any]: array.forEach(collect)
            case let object as [String: Any]: object.keys.sorted().forEach { collect(object[$0]!) }
            default: break
            }
        }
        collect(value)
        return texts.joined(separator: " ")
    }
}
