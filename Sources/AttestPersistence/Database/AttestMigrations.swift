import FluentKit

/// Every migration, in order. One struct per change; `revert` is the exact inverse.
public enum AttestMigrations {
    public static let all: [any Migration] = [
        CreateSequences(),
        CreateReports(),
        CreateCustodyEntries(),
        CreateMerkleLog(),
        CreateEvidence(),
        CreateStaff(),
        CreateIncidents(),
        CreateCaseFiles(),
        CreateCaseFileParts(),
        CreateSearchIndex(),
        CreateReportIdentifiers(),
        CreateOccurrenceWindowIndex(),
        AddRelatedProfiles(),
        DeferSearchIndexing(),
        TuneSearchMerging(),
        IndexSearchableCaseFileText(),
        CreateStaffAdministration(),
        IndexReportTextInSwift(),
        DeferPostgresSearchIndexing(),
        IndexPostgresSearchInSwift(),
        CreateSequencerStateFunction(),
    ]
}
