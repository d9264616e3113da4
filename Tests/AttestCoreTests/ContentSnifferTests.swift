import AttestCore
import Foundation
import Testing

@Suite("Evidence type detection")
struct ContentSnifferTests {
    static func bytes(_ hex: String, then text: String = "") -> [UInt8] {
        var result: [UInt8] = []
        var characters = Array(hex.filter { !$0.isWhitespace })
        while characters.count >= 2 {
            result.append(UInt8(String(characters[0...1]), radix: 16)!)
            characters.removeFirst(2)
        }
        return result + Array(text.utf8) + Array(repeating: 0, count: 40)
    }

    static let recognised: [(String, [UInt8])] = [
        ("image/jpeg", bytes("FFD8FFE0 0010", then: "JFIF")),
        ("image/png", bytes("89504E470D0A1A0A 0000000D", then: "IHDR")),
        ("image/gif", Array("GIF89a".utf8) + [1, 0, 1, 0]),
        ("image/webp", Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WEBPVP8 ".utf8)),
        ("image/heic", bytes("00000018", then: "ftypheic\0\0\0\0mif1heic")),
        ("image/tiff", bytes("49492A00 08000000")),
        ("video/mp4", bytes("00000020", then: "ftypisom\0\0\u{2}\0isomiso2avc1mp41")),
        ("video/quicktime", bytes("00000014", then: "ftypqt  \0\0\0\0qt  ")),
        ("video/3gpp", bytes("00000018", then: "ftyp3gp4")),
        ("video/webm", bytes("1A45DFA3 9F4282", then: "webm")),
        ("video/x-matroska", bytes("1A45DFA3 A34282", then: "matroska")),
        ("audio/mpeg", Array("ID3".utf8) + [4, 0, 0]),
        ("audio/mpeg", bytes("FFFB9064")),
        ("audio/aac", bytes("FFF15080")),
        ("audio/mp4", bytes("00000020", then: "ftypM4A ")),
        ("audio/wav", Array("RIFF".utf8) + [0x24, 0, 0, 0] + Array("WAVEfmt ".utf8)),
        ("audio/ogg", Array("OggS".utf8) + [0, 2]),
        ("audio/flac", Array("fLaC".utf8)),
        ("audio/amr", Array("#!AMR\n".utf8)),
        ("application/pdf", Array("%PDF-1.7\n".utf8)),
    ]

    @Test("Phone, camera and scanner formats are recognised by their first bytes")
    func recognised() {
        for (expected, prefix) in Self.recognised {
            #expect(ContentSniffer.detect(prefix: prefix)?.mediaType == expected, "\(expected)")
        }
        #expect(Set(Self.recognised.map(\.0)).isSubset(of: Set(ContentSniffer.known.map(\.mediaType))))
    }

    @Test("Executables, scripts, markup, archives and empty files are not evidence, whatever they are called")
    func refused() {
        let refused: [[UInt8]] = [
            Array("MZ\u{90}\0\u{3}\0\0\0".utf8),  // Windows executable
            [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0],  // ELF
            [0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1],  // Mach-O
            Array("#!/bin/sh\nrm -rf /\n".utf8),
            Array("<script>alert(1)</script>".utf8),
            Array("<!DOCTYPE html><html>".utf8),
            Array("<?xml version=\"1.0\"?><svg onload=\"alert(1)\"/>".utf8),
            [0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0],  // ZIP (and .docx, .apk)
            [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],  // OLE (.doc macros)
            Array("RIFF\u{4}\0\0\0ACON".utf8),  // animated cursor
            Array("\0\0\0\u{18}ftypzzzz".utf8),  // unknown ISO brand
            Array("plain text that says it is a jpg".utf8),
            [0xFF, 0xD8],  // a JPEG marker cut short
            [],
        ]
        for prefix in refused {
            #expect(ContentSniffer.detect(prefix: prefix) == nil, "\(prefix.prefix(8))")
        }
    }

    @Test("The allow-list accepts categories or exact types and rejects unknown names")
    func allowList() throws {
        let jpeg = DetectedMedia("image/jpeg", .image)
        let pdf = DetectedMedia("application/pdf", .document)
        let list = try #require(EvidenceAllowList(parsing: " image , application/pdf"))
        #expect(list.allows(jpeg) && list.allows(pdf))
        #expect(!list.allows(DetectedMedia("video/mp4", .video)))
        #expect(EvidenceAllowList.all.allows(DetectedMedia("audio/ogg", .audio)))
        #expect(EvidenceAllowList(parsing: "image,application/x-msdownload") == nil)
        #expect(EvidenceAllowList(parsing: " , ") == nil)
    }
}
