import Foundation

/// Passwords long enough to pass the length rule that attackers try first: well-known long entries of leaked
/// password lists, keyboard rows and simple patterns. Compared in lower case.
enum CommonPasswords {
    static let list: Set<String> = [
        "123456789012", "1234567890123", "12345678901234", "123456789abc", "1234567890qwerty", "123123123123",
        "111111111111", "000000000000", "121212121212", "987654321098", "147258369147", "123456123456",
        "password1234", "password12345", "password123!", "password2024", "password2025", "password2026",
        "passwordpassword", "password1234567", "p@ssw0rd1234", "p@ssword1234", "passw0rd1234", "mypassword123",
        "qwerty123456", "qwertyuiop12", "qwertyuiop123", "qwertyuiopasdf", "qwertyqwerty", "qwerty12345678",
        "1q2w3e4r5t6y", "1q2w3e4r5t6y7u", "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "zaq12wsxcde3", "qazwsxedcrfv",
        "asdfghjkl123", "asdfasdfasdf", "asdfghjklqwe", "qweasdzxc123", "zxcvbnm12345", "abc123abc123",
        "abcdefghijkl", "abcd12345678", "abcdefgh1234", "iloveyou1234", "iloveyou12345", "welcome12345",
        "welcome123456", "letmein12345", "changeme1234", "changeme12345", "administrator", "administrator1",
        "admin1234567", "adminadmin123", "superman1234", "batman123456", "football1234", "baseball1234",
        "basketball12", "monkey123456", "dragon123456", "sunshine1234", "princess1234", "starwars1234",
        "trustno1trustno1", "correcthorsebatterystaple", "michael12345", "jennifer1234", "computer1234",
        "internet1234", "whatever1234", "chicago12345", "chicago2026!", "chicagobears", "chicagocubs1",
        "summer2026!!", "winter2026!!", "spring2026!!", "autumn2026!!", "december2026", "november2026",
        "attest123456", "attestattest", "investigator", "supervisor12", "prosecutor12",
    ]

    static func contains(_ lowered: String) -> Bool {
        if list.contains(lowered) { return true }
        let characters = Array(lowered)
        // One character repeated, or a run of one repeated short unit ("abcabcabcabc").
        for unit in 1...4 where characters.count % unit == 0 {
            let head = Array(characters[0..<unit])
            if stride(from: 0, to: characters.count, by: unit).allSatisfy({ Array(characters[$0..<$0 + unit]) == head })
            {
                return true
            }
        }
        // Straight ascending or descending sequences of letters or digits ("abcdefghijklm", "987654321098").
        let scalars = lowered.unicodeScalars.map(\.value)
        let steps = zip(scalars, scalars.dropFirst()).map { Int($1) - Int($0) }
        if steps.allSatisfy({ $0 == 1 || $0 == -9 }) || steps.allSatisfy({ $0 == -1 || $0 == 9 }) { return true }
        return false
    }
}
