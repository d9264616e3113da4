import AttestCore
import AttestTestSupport
import Foundation
import Testing

@testable import AttestWeb

@Suite("Operator commands")
struct CommandsTests {
    @Test("Samples fill a fresh instance in both languages, marked as samples")
    func samples() async throws {
        try await withAttest { harness in
            let first = try #require(try await SamplesCommand.load(count: 12, services: harness.app.attest))
            let store = harness.app.attest.store
            #expect(try await store.countReports(samples: true) == 12)
            #expect(try await store.countReports(samples: false) == 0)
            let report = try #require(try await store.report(reference: first.reference))
            #expect(report.isSample)
            #expect(report.content.narrative.hasPrefix("[SAMPLE]"))
            let second = try #require(
                try await store.report(reference: ReportReference(year: first.reference.year, number: 2)))
            #expect(second.content.language == "es" && second.content.narrative.hasPrefix("[MUESTRA]"))
        }
    }

    @Test("Samples are refused on an instance that holds real reports")
    func samplesRefused() async throws {
        try await withAttest { harness in
            _ = try await harness.app.attest.submitReport.execute(.init(submission: .minimal()))
            await #expect(throws: SamplesCommand.Refusal.self) {
                try await SamplesCommand.load(count: 5, services: harness.app.attest)
            }
            #expect(try await harness.app.attest.store.countReports(samples: true) == 0)
        }
    }

    @Test("Configuration is read from the environment, and a bad value names its variable")
    func configuration() throws {
        let configuration = try AttestConfiguration.from(environment: [
            "ATTEST_DATA_DIR": "/tmp/somewhere", "ATTEST_LIMIT_NARRATIVE_CHARS": "5000",
            "ATTEST_RATE_LIMIT_PER_MINUTE": "0",
            "ATTEST_PUBLIC_URL": "https://attest.example.gov/",
        ])
        #expect(configuration.dataDirectory.path == "/tmp/somewhere")
        #expect(configuration.limits.narrativeMaxCharacters == 5000)
        #expect(configuration.rateLimitPerMinute == 0)
        #expect(configuration.usesTLS && configuration.publicURL == "https://attest.example.gov")
        #expect(configuration.database == .sqliteFile(URL(fileURLWithPath: "/tmp/somewhere/attest.sqlite")))
        #expect(configuration.effectiveLogOrigin == "attest.example.gov/log", "the origin follows the public URL")
        #expect(configuration.checkpointEntries == 1000 && configuration.checkpointSeconds == 10)
        let log = try AttestConfiguration.from(environment: [
            "ATTEST_LOG_ORIGIN": "custody.chicago.example/log", "ATTEST_LOG_KEY_NAME": "chicago-custody",
            "ATTEST_CHECKPOINT_ENTRIES": "50", "ATTEST_CHECKPOINT_SECONDS": "3",
        ])
        #expect(log.effectiveLogOrigin == "custody.chicago.example/log" && log.logKeyName == "chicago-custody")
        #expect(log.checkpointEntries == 50 && log.checkpointSeconds == 3)
        for (variable, value) in [
            ("ATTEST_LOG_ORIGIN", "has space"), ("ATTEST_LOG_ORIGIN", "a+b"), ("ATTEST_LOG_KEY_NAME", "x\ty"),
            ("ATTEST_CHECKPOINT_ENTRIES", "0"), ("ATTEST_CHECKPOINT_SECONDS", "-1"),
            ("ATTEST_LIMIT_NARRATIVE_CHARS", "lots"), ("ATTEST_MAX_BODY_BYTES", "10"), ("DATABASE_URL", "mysql://x/y"),
            ("ATTEST_PUBLIC_URL", "ftp://x"), ("ATTEST_SQLITE_SYNCHRONOUS", "off"), ("ATTEST_JURISDICTION", "../etc"),
        ] {
            #expect(throws: AttestConfiguration.Error.self, "\(variable)") {
                try AttestConfiguration.from(environment: [variable: value])
            }
        }
        let postgres = try AttestConfiguration.from(environment: ["DATABASE_URL": "postgres://u@localhost:5432/attest"])
        #expect(!postgres.database.isSQLite)
    }
}
