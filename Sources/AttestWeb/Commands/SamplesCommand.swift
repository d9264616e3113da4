import AttestCore
import Vapor

/// `attest samples`: fills a fresh instance with synthetic sample reports in each of the jurisdiction's first
/// two languages, marked as samples, so someone trying Attest sees it working. Refuses when real reports exist.
struct SamplesCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "count", help: "How many sample reports (default 36, at most 500).")
        var count: Int?
    }

    var help: String { "Load synthetic sample reports into an instance that has no real reports." }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        let count = signature.count ?? 36
        let first = try await Self.load(count: count, services: context.application.attest)
        context.console.print("Added \(count) sample reports (marked as samples).")
        if let first {
            context.console.print(
                "Try /follow-up with reference \(first.reference) and code \(first.followUpCode.grouped)"
            )
        }
    }

    /// Adds `count` sample reports; refuses when the instance holds any real report. Returns the first receipt.
    static func load(count: Int, services: AttestServices) async throws -> SubmitReport.Receipt? {
        guard (1...500).contains(count) else { throw Refusal(description: "--count must be from 1 to 500") }
        let real = try await services.store.countReports(samples: false)
        guard real == 0 else {
            throw Refusal(description: "refusing to add samples: this instance holds \(real) real report(s)")
        }
        var generator = SystemRandomNumberGenerator()
        let jurisdiction = services.jurisdiction
        let languages = Array(services.languages.prefix(2))
        let now = services.clock.now()
        var first: SubmitReport.Receipt?
        for index in 0..<count {
            let language = languages[index % languages.count]
            let marker = services.catalogs.text("sample_marker", language: language)
            let narratives = SampleText.narratives[language] ?? SampleText.narratives["en"]!
            var submission = ReportSubmission()
            let start = now.addingTimeInterval(-Double.random(in: 3_600...(90 * 86_400), using: &generator))
            submission.occurrence = .instants(
                from: RFC3339.string(from: start), until: RFC3339.string(from: start.addingTimeInterval(1_800))
            )
            submission.isApproximate = Bool.random(using: &generator)
            submission.narrative = "\(marker) " + narratives[index % narratives.count]
            submission.communityArea = jurisdiction.geography.areas.randomElement(using: &generator).map {
                String($0.number)
            }
            submission.categories = Array(
                jurisdiction.categories.shuffled(using: &generator).prefix(Int.random(in: 1...3, using: &generator))
                    .map(\.code)
            )
            submission.agentCount = String(Int.random(in: 1...8, using: &generator))
            submission.agency = jurisdiction.agencies.randomElement(using: &generator)?.code
            submission.agents = [
                .init(
                    vestText: ["POLICE ICE", "ERO", "BORDER PATROL", nil].randomElement(using: &generator)!,
                    plateState: "IL", plateNumber: "SAMPLE\(index)",
                    masked: Masking.allCases.randomElement(using: &generator)!.rawValue
                )
            ]
            submission.reporterRole = ReporterRole.allCases.randomElement(using: &generator)!.rawValue
            submission.consentsToPublicStatistics = true
            submission.consentsToProsecutorSharing = Bool.random(using: &generator)
            submission.language = language
            let receipt = try await services.submitReport.execute(.init(submission: submission, isSample: true))
            if first == nil { first = receipt }
        }
        return first
    }
}

enum SampleText {
    static let narratives: [String: [String]] = [
        "en": [
            "Synthetic example. Four agents in tactical vests stopped a man walking to work and pushed him against a car.",
            "Synthetic example. Agents without visible badges entered the courtyard of an apartment building.",
            "Synthetic example. A grey SUV boxed in a car at a gas station; agents refused to give their names.",
            "Synthetic example. Pepper spray was used on people filming from the sidewalk.",
            "Synthetic example. Masked agents detained a teenager outside a school for about an hour.",
            "Synthetic example. A woman who fell during an arrest asked for an ambulance and was told to wait.",
        ],
        "es": [
            "Ejemplo sintético. Cuatro agentes con chalecos detuvieron a un hombre que iba a trabajar y lo empujaron contra un coche.",
            "Ejemplo sintético. Agentes sin placas visibles entraron al patio de un edificio de apartamentos.",
            "Ejemplo sintético. Una camioneta gris encerró un coche en una gasolinera; los agentes no dieron sus nombres.",
            "Ejemplo sintético. Usaron gas pimienta contra personas que grababan desde la acera.",
            "Ejemplo sintético. Agentes enmascarados detuvieron a un adolescente frente a una escuela durante una hora.",
            "Ejemplo sintético. Una mujer que cayó durante un arresto pidió una ambulancia y le dijeron que esperara.",
        ],
    ]
}
