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

@Suite("Case file parts")
struct CaseFilePartModelTests {
    @Test("Subject agent codes: SA- and at least four digits, parsed case-insensitively; anything else refused")
    func codes() {
        #expect(SubjectAgentCode(number: 7).description == "SA-0007")
        #expect(SubjectAgentCode(number: 12_345).description == "SA-12345")
        #expect(SubjectAgentCode("sa-0042")?.number == 42)
        for bad in ["SA-42", "SA-0000", "SA-00x1", "SB-0001", "SA-٠٠٠١", "", "SA-", "SA-1234567890"] {
            #expect(SubjectAgentCode(bad) == nil, "\(bad)")
        }
    }

    @Test("Every kind of part survives canonical JSON; the content hash covers the body but not the sealed data")
    func roundTrip() throws {
        var subject = SubjectAgent()
        subject.badge = "4471"
        subject.identityAttachedAt = Date(timeIntervalSince1970: 1_795_629_600)
        var allegation = Allegation(category: "physical_force")
        allegation.subjects = [1]
        allegation.warrantKind = .administrativeI200
        var task = CaseTask(title: "Call")
        task.due = "2026-12-01"
        let bodies: [CaseFilePartBody] = [
            .subject(subject), .person(InvolvedPerson(label: "A", role: .witness)), .allegation(allegation),
            .note(CaseNote(text: "ñ \u{1F600}")), .task(task),
            .event(TimelineEvent(occurredAt: Date(timeIntervalSince1970: 1_795_000_000), text: "door")),
        ]
        for body in bodies {
            #expect(try CaseFilePartBody.decode(kind: body.kind, json: body.canonicalJSON()) == body)
        }
        let reference = try #require(CaseFileReference("CF-2026-000001"))
        var part = CaseFilePart(
            id: Identifier(UUID()), caseFile: reference, number: 1, body: .subject(subject), author: "staff:1",
            createdAt: Date())
        let hash = part.contentHash
        part.sealed = "John Roe"
        #expect(part.contentHash == hash)
        subject.badge = "4472"
        part.body = .subject(subject)
        #expect(part.contentHash != hash)
        #expect(part.recordID == "subject:SA-0001")
        part.body = .note(CaseNote(text: "x"))
        #expect(part.recordID == "case-file:CF-2026-000001/note:\(part.id)")
    }
}
