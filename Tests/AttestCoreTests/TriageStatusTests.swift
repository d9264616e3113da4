import AttestCore
import Testing

@Suite("Triage state machine")
struct TriageStatusTests {
    /// The whole table: every allowed move. Every pair not listed must be refused.
    static let allowed: Set<[TriageStatus]> = [
        [.received, .screening], [.received, .duplicate], [.received, .spam],
        [.screening, .accepted], [.screening, .needsInfo], [.screening, .duplicate], [.screening, .outOfScope],
        [.screening, .spam],
        [.needsInfo, .screening], [.needsInfo, .outOfScope],
        [.duplicate, .screening], [.outOfScope, .screening], [.spam, .screening],
    ]

    static let allPairs = TriageStatus.allCases.flatMap { from in TriageStatus.allCases.map { to in (from, to) } }

    @Test("Every transition is allowed or forbidden exactly as the table says", arguments: allPairs)
    func transition(from: TriageStatus, to: TriageStatus) throws {
        let isAllowed = Self.allowed.contains([from, to])
        #expect(from.canMove(to: to) == isAllowed)
        if isAllowed {
            #expect(try from.moving(to: to) == to)
        } else {
            #expect(throws: TriageStatus.Error.forbiddenTransition(from: from, to: to)) { try from.moving(to: to) }
        }
    }

    @Test("Accepted is final for triage, and nothing moves back to received")
    func terminalAndInitial() {
        #expect(TriageStatus.accepted.allowedNextStatuses.isEmpty)
        #expect(TriageStatus.allCases.allSatisfy { !$0.canMove(to: .received) })
    }

    @Test("Status codes are the stable API values")
    func rawValues() {
        #expect(
            TriageStatus.allCases.map(\.rawValue) == [
                "received", "screening", "accepted", "needs_info", "duplicate", "out_of_scope", "spam",
            ])
    }
}
