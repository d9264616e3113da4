/// Named text fields as a form or query string delivers them: the first value of a name, or all of them. Core
/// validates input through it, so that the rules live once, whichever adapter received the fields.
public protocol FormFields {
    /// The first value given for `name`, or nil.
    subscript(_ name: String) -> String? { get }
    /// Every value given for `name`, in order.
    func all(_ name: String) -> [String]
}
