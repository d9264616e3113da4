import AttestCore
import AttestPersistence
import Vapor

/// On a first start with no administrator, `attest serve` prints a one-time setup link (valid one hour) that
/// creates the administrator with two-factor authentication. Each start prints a fresh one until then.
struct FirstStartSetupLink: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        guard application.environment != .testing, Self.isServing else { return }
        if let link = try await Self.issue(application.attest) {
            // Written straight to standard output (print buffers when it is not a terminal).
            FileHandle.standardOutput.write(
                Data(
                    """

                    ┌ Attest has no administrator yet. Create one, with two-factor authentication, at:
                    │   \(link)
                    └ This link works once and for one hour; a restart prints a new one.


                    """.utf8))
        }
    }

    /// Whether this process runs `attest serve` (the default command), not a one-off command.
    static var isServing: Bool {
        let arguments = CommandLine.arguments.dropFirst()
        return arguments.isEmpty || arguments.first == "serve"
    }

    /// A first-start link, or nil when an administrator exists.
    static func issue(_ services: AttestServices) async throws -> String? {
        guard let token = try await services.createStaffAccount.firstStartLink() else { return nil }
        return "\(services.configuration.publicURL)\(Paths.staffSetup)/\(token)"
    }
}

/// `attest staff create --email E --name N --role R [--office O]`: creates an account and prints its one-time
/// setup link (valid one hour), where the person sets a password and enrolls two-factor authentication.
struct StaffCommand: AsyncCommandGroup {
    var help: String { "Manage staff accounts." }
    var commands: [String: any AnyAsyncCommand] { ["create": CreateStaffCommand()] }
    var defaultCommand: (any AnyAsyncCommand)? { nil }
}

struct CreateStaffCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "email", help: "The person's e-mail address (their sign-in name).")
        var email: String?
        @Option(name: "name", help: "The name shown to colleagues.")
        var name: String?
        @Option(name: "role", help: "intake, investigator, supervisor, prosecutor, auditor or administrator.")
        var role: String?
        @Option(name: "office", help: "A prosecutor's receiving office (its code in the jurisdiction).")
        var office: String?
    }

    struct UsageError: Error, CustomStringConvertible {
        var description: String
    }

    var help: String { "Create a staff account and print its one-time setup link." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let link = try await Self.create(
            context.application.attest, email: signature.email, name: signature.name, role: signature.role,
            office: signature.office)
        context.console.success("✓ Account created. Send this one-time setup link (valid one hour): \(link)")
    }

    static func create(_ services: AttestServices, email: String?, name: String?, role: String?, office: String?)
        async throws -> String
    {
        guard let email, let name, let roleText = role else {
            throw UsageError(description: "--email, --name and --role are required")
        }
        guard let role = StaffRole(rawValue: roleText) else {
            throw UsageError(
                description: "--role must be one of \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let (_, token) = try await services.createStaffAccount.execute(
            .init(email: email, displayName: name, role: role, receivingOffice: office))
        return "\(services.configuration.publicURL)\(Paths.staffSetup)/\(token)"
    }
}
