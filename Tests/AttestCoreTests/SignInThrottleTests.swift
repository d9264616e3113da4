import AttestCore
import Foundation
import Testing

@Suite("Staff: sign-in throttling and account events")
struct SignInThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("A client gets its attempts per minute, then a wait that ends with the minute")
    func perMinute() {
        let throttle = SignInThrottle(
            limits: .init(attemptsPerMinute: 3, triesPerPair: 5, window: 900), random: SystemRandomSource())
        for _ in 0..<3 { #expect(throttle.admit(client: "198.51.100.7", now: start) == nil) }
        #expect(throttle.admit(client: "198.51.100.7", now: start.addingTimeInterval(20)) == 40)
        #expect(throttle.admit(client: "203.0.113.9", now: start.addingTimeInterval(20)) == nil, "another client")
        #expect(throttle.admit(client: "198.51.100.7", now: start.addingTimeInterval(60)) == nil, "a new minute")
    }

    @Test("Racing reservations on one pair never exceed its tries; a right answer gives its try back")
    func racingPairs() async {
        let throttle = SignInThrottle(
            limits: .init(attemptsPerMinute: 0, triesPerPair: 5, window: 900), random: SystemRandomSource())
        let start = self.start
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<64 { group.addTask { throttle.reserve(pair: "address:a|ana@city.example", now: start) } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 5)
        #expect(throttle.reserve(pair: "address:b|ana@city.example", now: start), "another client")
        throttle.release(pair: "address:a|ana@city.example", now: start)
        #expect(throttle.reserve(pair: "address:a|ana@city.example", now: start), "a try given back")
        #expect(!throttle.reserve(pair: "address:a|ana@city.example", now: start))
        throttle.clear(pair: "address:a|ana@city.example", now: start)
        #expect(throttle.reserve(pair: "address:a|ana@city.example", now: start), "cleared by a complete sign-in")
        #expect(
            throttle.reserve(pair: "address:a|ana@city.example", now: start.addingTimeInterval(900)), "a new window")
    }

    @Test("Past its table size the throttle stops counting new clients instead of refusing everyone")
    func bounded() {
        let throttle = SignInThrottle(
            limits: .init(attemptsPerMinute: 1, triesPerPair: 1, window: 900, maxEntries: 2),
            random: SystemRandomSource())
        #expect(throttle.admit(client: "a", now: start) == nil)
        #expect(throttle.admit(client: "b", now: start) == nil)
        #expect(throttle.admit(client: "c", now: start) == nil)
        #expect(throttle.admit(client: "c", now: start) == nil, "not counted: the table is full")
        #expect(throttle.admit(client: "a", now: start) != nil, "counted clients stay limited")
    }

    @Test("An account event names the account and the role granted, never a name or an address")
    func accountEvents() {
        let account = Identifier<StaffAccount>(UUID(uuidString: "0190A1B2-C3D4-7E5F-8899-AABBCCDDEEFF")!)
        let event = StaffAccountEvent(
            account: account, action: .roleChanged, role: .supervisor, actor: "staff:1a2b3c4d",
            occurredAt: start.addingTimeInterval(0.7))
        #expect(event.occurredAt == start, "whole seconds")
        #expect(event.custodyEvent.kind == .staffRoleChanged)
        #expect(event.recordID == "staff-account:\(account)/role:supervisor")
        #expect(event.custodyEvent.actor == "staff:1a2b3c4d")
        let disabled = StaffAccountEvent(
            account: account, action: .disabled, role: nil, actor: StaffAccountEvent.system, occurredAt: start)
        #expect(disabled.recordID == "staff-account:\(account)")
        #expect(disabled.contentHash != event.contentHash)
        #expect(
            Set(StaffAccountEvent.Action.allCases.map(\.custodyKind)).count == StaffAccountEvent.Action.allCases.count)
        #expect(StaffRole.allCases.filter(\.isPrivileged) == [.supervisor, .administrator])
    }
}
