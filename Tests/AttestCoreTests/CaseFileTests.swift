import AttestCore
import Foundation
import Testing

@Suite("Case file workflow")
struct CaseFileWorkflowTests {
    /// Every allowed move, and who may make it; everything not listed is forbidden.
    static let allowed: [CaseFileStatus: [CaseFileStatus: Set<StaffRole>]] = [
        .open: [.active: [.investigator, .supervisor]],
        .active: [.pendingEvidence: [.investigator, .supervisor], .supervisorReview: [.investigator, .supervisor]],
        .pendingEvidence: [.active: [.investigator, .supervisor], .supervisorReview: [.investigator, .supervisor]],
        .supervisorReview: [.active: [.supervisor], .closed: [.supervisor]],
        .closed: [.active: [.supervisor]],
    ]

    @Test("The full table: every status × every next status × every role, with and without an outcome")
    func table() {
        for from in CaseFileStatus.allCases {
            for to in CaseFileStatus.allCases {
                for role in [StaffRole.investigator, .supervisor] {
                    for outcome in [nil] + CaseFileOutcome.allCases.map(Optional.some) {
                        let roles = Self.allowed[from]?[to]
                        let result = Result { () throws(CaseFileStatus.Error) in
                            try from.moving(to: to, by: role, outcome: outcome)
                        }
                        switch result {
                        case .success(let next):
                            #expect(next == to)
                            #expect(roles?.contains(role) == true, "\(from) → \(to) by \(role) must be refused")
                            #expect((to == .closed) == (outcome != nil))
                        case .failure(let error):
                            if roles == nil {
                                #expect(error == .forbiddenTransition(from: from, to: to))
                            } else if roles?.contains(role) == false {
                                #expect(error == .supervisorRequired, "\(from) → \(to) by \(role)")
                            } else {
                                #expect(error == (to == .closed ? .outcomeRequired : .outcomeNotAllowed))
                            }
                        }
                    }
                }
            }
        }
        #expect(CaseFileReference("cf-2026-000012")?.description == "CF-2026-000012")
        #expect(CaseFileReference("CF-26-1") == nil)
    }
}
