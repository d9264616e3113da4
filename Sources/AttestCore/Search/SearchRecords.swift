import Foundation

/// A staff search: results only of the kinds the role may read, and a `record.viewed` entry for every record a
/// result shows an excerpt of, written before the results are returned, as a record's own page does. A result
/// whose record cannot be named is not shown. The entries name records and their content hashes; the terms are in
/// none of them, nor anywhere else.
public struct SearchRecords: Sendable {
    public var index: any SearchIndex
    public var views: RecordViews

    public init(index: any SearchIndex, views: RecordViews) {
        self.index = index
        self.views = views
    }

    /// Searches `kinds` (those the role may not read are left out) and records what the results show.
    public func execute(_ query: SearchQuery, kinds: Set<SearchKind>, limit: Int, actor: StaffAccount) async throws
        -> [SearchHit]
    {
        guard StaffPolicy.allows(actor.role, .search) else { throw StaffError.forbidden }
        let readable = kinds.filter { StaffPolicy.allows(actor.role, $0.permission) }
        let hits = try await index.search(query, kinds: readable, limit: limit).filter { $0.source != nil }
        try await views.execute(hits.compactMap(\.source), actor: actor)
        return hits
    }
}
