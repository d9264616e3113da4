import AttestWeb
import Foundation
import Logging
import Vapor

/// Attest's entry point: detect the environment, bootstrap logging, build the application from the
/// environment's configuration, run the command (`serve` by default), shut down.
@main
enum Entrypoint {
    static func main() async throws {
        var environment = try Environment.detect()
        try LoggingSystem.bootstrap(from: &environment)
        let app = try await Application.make(environment)
        do {
            let configuration = try AttestConfiguration.from(environment: ProcessInfo.processInfo.environment)
            try await configure(app, with: configuration)
            try await app.execute()
        } catch {
            // A clear message and a failing exit status, not a crash report.
            try? await app.asyncShutdown()
            FileHandle.standardError.write(Data("attest: \(error)\n".utf8))
            exit(1)
        }
        try await app.asyncShutdown()
    }
}
