import Foundation

/// Every limit a report is checked against. Each has a documented default and can be configured.
public struct ReportLimits: Equatable, Sendable {
    /// Longest narrative, in characters.
    public var narrativeMaxCharacters = 20_000
    /// Longest place description, in characters.
    public var locationMaxCharacters = 500
    /// Longest short text (agent identifiers, names, phone, e-mail), in characters.
    public var shortTextMaxCharacters = 200
    /// Longest supplement, in characters.
    public var supplementMaxCharacters = 10_000
    /// Most supplements a reporter may add to one report.
    public var supplementsPerReportMax = 100
    /// Largest "how many agents" answer.
    public var agentCountMax = 500
    /// Most individual agent descriptions in one report.
    public var agentDescriptionsMax = 20
    /// How far in the future an incident time may lie before it is rejected, to tolerate wrong phone clocks.
    public var clockSkewTolerance: TimeInterval = 15 * 60
    /// Longest time window, in days.
    public var windowMaxDays = 31
    /// The earliest year an incident may be reported for.
    public var earliestYear = 2000

    public init() {}
}
