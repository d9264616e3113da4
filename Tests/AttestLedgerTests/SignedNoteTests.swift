import Crypto
import Foundation
import Testing

@testable import AttestLedger

@Suite("Signed notes and checkpoints (C2SP)")
struct SignedNoteTests {
    static let peterSkey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let peterVkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let enochVkey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let text =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterLine =
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochLine =
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    @Test("x/mod's signer and verifier keys parse, and signing reproduces its signature byte for byte")
    func xmodVector() throws {
        let signer = try NoteSigner(signerKey: Self.peterSkey)
        #expect(signer.verifier.vkey == Self.peterVkey)
        #expect(signer.signerKey == Self.peterSkey)
        #expect(try NoteVerifier(vkey: Self.peterVkey) == signer.verifier)
        #expect(
            signer.verifier.publicKey.rawRepresentation
                == Data(hexString: "1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6"))
        let note = try SignedNote.sign(Self.text, with: [signer])
        #expect(note == Self.text + "\n" + Self.peterLine)
    }

    @Test("Notes open with one known key, two keys, or an unknown key beside a known one")
    func open() throws {
        let peter = try NoteVerifier(vkey: Self.peterVkey)
        let enoch = try NoteVerifier(vkey: Self.enochVkey)
        let both = Self.text + "\n" + Self.peterLine + Self.enochLine
        #expect(
            try SignedNote.open(Data(both.utf8), verifiers: [peter, enoch]).verified.map(\.name) == [
                "PeterNeumann", "EnochRoot",
            ])
        #expect(try SignedNote.open(Data(both.utf8), verifiers: [enoch]).text == Self.text)
        #expect(throws: NoteError.unverified) {
            try SignedNote.open(Data((Self.text + "\n" + Self.enochLine).utf8), verifiers: [peter])
        }
    }

    @Test("The C2SP signed-note example verifies")
    func c2spExample() throws {
        let verifier = try NoteVerifier(vkey: "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k")
        let note =
            "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
        #expect(try SignedNote.open(Data(note.utf8), verifiers: [verifier]).text == "This is an example message.\n")
    }

    static let malformedNotes: [(String, String)] = {
        let spacedName =
            "— Peter Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        let signed: String = text + "\n" + peterLine
        var notes: [(String, String)] = []
        notes.append(("text alone", text))
        notes.append(("text and a newline", text + "\n"))
        notes.append(("no final newline", String(signed.dropLast())))
        notes.append(("leading \\x01", "\u{01}" + signed))
        notes.append(("a name with a space", text + "\n" + spacedName))
        notes.append(("a line after the signatures", signed + "hello\n"))
        notes.append(("too many signatures", text + "\n" + String(repeating: enochLine, count: 101) + peterLine))
        notes.append(("CRLF line endings", text.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n" + peterLine))
        return notes
    }()

    @Test("Malformed notes are rejected as x/mod rejects them", arguments: malformedNotes)
    func malformed(name: String, note: String) throws {
        let peter = try NoteVerifier(vkey: Self.peterVkey)
        #expect(throws: NoteError.self, "\(name)") { try SignedNote.open(Data(note.utf8), verifiers: [peter]) }
    }

    @Test("Invalid UTF-8 (a leading \\xff byte) is rejected")
    func invalidUTF8() throws {
        let peter = try NoteVerifier(vkey: Self.peterVkey)
        let note = Data([0xff]) + Data((Self.text + "\n" + Self.peterLine).utf8)
        #expect(throws: NoteError.malformedNote("not valid UTF-8")) { try SignedNote.open(note, verifiers: [peter]) }
    }

    @Test("A signature with bytes inserted fails verification")
    func tamperedSignature() throws {
        let peter = try NoteVerifier(vkey: Self.peterVkey)
        var line = Array(Self.peterLine.utf8)
        line.insert(contentsOf: Array("ABCD".utf8), at: 60)
        let note = Data((Self.text + "\n").utf8) + Data(line)
        #expect(throws: NoteError.invalidSignature(name: "PeterNeumann")) {
            try SignedNote.open(note, verifiers: [peter])
        }
    }

    @Test(
        "Bad verifier keys are rejected",
        arguments: [
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
            "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "PeterNeumann+c74f20a3", "",
        ])
    func badVerifierKeys(vkey: String) {
        #expect(throws: NoteError.self) { try NoteVerifier(vkey: vkey) }
    }

    @Test("The end-to-end checkpoint vector is reproduced byte for byte (§7.6), and verifies")
    func endToEndCheckpoint() throws {
        let signer = try NoteSigner(name: "example.org/custody-log-test", seed: Data(0..<32))
        #expect(signer.verifier.keyIDHex == "011cef4e")
        #expect(
            signer.verifier.vkey == "example.org/custody-log-test+011cef4e+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4"
        )
        var frontier = MerkleFrontier()
        for leaf in specLeaves.prefix(7) { frontier.append(TreeHash.leaf(leaf)) }
        let seven = try Checkpoint(origin: signer.name, size: 7, root: frontier.root).signed(by: signer)
        #expect(
            seven.hasSuffix(
                "\n— example.org/custody-log-test ARzvTgpCD0X/gWRVA686N45d3Ieei1Hd4FRXm5RAxyXEqFp90gSkXt3Sev/Lr2q/lGamlGSYeixx8WMZo3ejaRQpTwg=\n"
            ))
        frontier.append(TreeHash.leaf(specLeaves[7]))
        let eight = try Checkpoint(origin: signer.name, size: 8, root: frontier.root).signed(by: signer)
        #expect(
            eight == """
                example.org/custody-log-test
                8
                XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

                — example.org/custody-log-test ARzvTn1F0Ev3QVTVTfUivxf1t4F7TJul7iHawnMPSLBmoEAZ5upNiTB132R5D6D38eO8urjeCrshWYMn9Gj+HkFJyw8=

                """)
        let opened = try Checkpoint.open(Data(eight.utf8), verifier: signer.verifier)
        #expect(opened.size == 8 && opened.root == frontier.root && opened.origin == signer.name)
    }

    @Test("A checkpoint signed by another key with the same name, or with a changed line, is rejected")
    func forgedCheckpoints() throws {
        let signer = try NoteSigner(name: "example.org/log", seed: Data(0..<32))
        let impostor = try NoteSigner(name: "example.org/log", seed: Data(repeating: 7, count: 32))
        let checkpoint = Checkpoint(origin: "example.org/log", size: 5, root: TreeHash.leaf(Data("x".utf8)))
        #expect(throws: NoteError.unverified) {
            try Checkpoint.open(Data(try checkpoint.signed(by: impostor).utf8), verifier: signer.verifier)
        }
        let note = try checkpoint.signed(by: signer)
        for changed in [
            note.replacingOccurrences(of: "\n5\n", with: "\n6\n"),
            note.replacingOccurrences(of: checkpoint.root.base64, with: checkpoint.root.flippingBit(0).base64),
        ] {
            #expect(throws: NoteError.invalidSignature(name: "example.org/log")) {
                try Checkpoint.open(Data(changed.utf8), verifier: signer.verifier)
            }
        }
    }

    @Test(
        "Checkpoint bodies must be exactly origin, size and root",
        arguments: [
            "o\n5\n", "o\n05\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
            "o\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0\n",
            "o\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\next\n",
            "\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
            "o\n-5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
            "o\n5\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
        ])
    func malformedCheckpoints(text: String) {
        #expect(throws: NoteError.self) { try Checkpoint(text: text) }
    }
}

extension Data {
    init(hexString: String) {
        self.init(
            stride(from: 0, to: hexString.count, by: 2).map { offset in
                let start = hexString.index(hexString.startIndex, offsetBy: offset)
                return UInt8(hexString[start..<hexString.index(start, offsetBy: 2)], radix: 16)!
            })
    }
}
