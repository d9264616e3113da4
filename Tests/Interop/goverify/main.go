// goverify checks Attest's custody log with golang.org/x/mod/sumdb/note and sumdb/tlog, the Go module
// checksum database's own verifier code, which nobody on the Attest project wrote.
//
//	goverify checkpoint VKEY NOTE                        signature and body of a checkpoint
//	goverify inclusion VKEY NOTE INDEX LEAFHASH PROOF     an inclusion proof (one base64 hash per line)
//	goverify consistency VKEY OLDNOTE NEWNOTE PROOF       a consistency proof between two checkpoints
//	goverify tiles BASEURL VKEY NOTE                      reads every hash tile through tlog.TileHashReader
//	                                                      (which checks each tile against the signed root)
//	                                                      and has x/mod prove inclusion of every entry
//
// Exit status 0 means verified; anything else means rejected, with the reason on stderr.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return data
}

// open verifies a signed checkpoint note and parses its three-line body (c2sp.org/tlog-checkpoint).
func open(vkeyPath, notePath string) checkpoint {
	verifier, err := note.NewVerifier(strings.TrimSpace(string(read(vkeyPath))))
	if err != nil {
		fail("verifier key: %v", err)
	}
	n, err := note.Open(read(notePath), note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint note: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		fail("checkpoint body must be exactly three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 1 || strconv.FormatInt(size, 10) != lines[1] {
		fail("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint root: %v", err)
	}
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: root}}
}

func hashes(path string) []tlog.Hash {
	var out []tlog.Hash
	for _, line := range strings.Split(strings.TrimRight(string(read(path)), "\n"), "\n") {
		if line == "" {
			continue
		}
		h, err := tlog.ParseHash(line)
		if err != nil {
			fail("proof hash %q: %v", line, err)
		}
		out = append(out, h)
	}
	return out
}

// tileReader fetches C2SP tlog-tiles paths (which, unlike sumdb's, carry no height component).
type tileReader struct{ base string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		response, err := http.Get(r.base + "/" + path)
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(response.Body)
		response.Body.Close()
		if err != nil {
			return nil, err
		}
		if response.StatusCode != 200 {
			return nil, fmt.Errorf("%s: HTTP %d", path, response.StatusCode)
		}
		out[i] = data
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func main() {
	if len(os.Args) < 2 {
		fail("usage: goverify checkpoint|inclusion|consistency|tiles …")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "checkpoint":
		c := open(args[0], args[1])
		fmt.Printf("ok checkpoint %s size %d\n", c.origin, c.tree.N)
	case "inclusion":
		c := open(args[0], args[1])
		index, err := strconv.ParseInt(args[2], 10, 64)
		if err != nil {
			fail("index: %v", err)
		}
		leaf, err := tlog.ParseHash(args[3])
		if err != nil {
			fail("leaf hash: %v", err)
		}
		if err := tlog.CheckRecord(hashes(args[4]), c.tree.N, c.tree.Hash, index, leaf); err != nil {
			fail("inclusion of %d in %d: %v", index, c.tree.N, err)
		}
		fmt.Printf("ok inclusion %d in %d\n", index, c.tree.N)
	case "consistency":
		old, new := open(args[0], args[1]), open(args[0], args[2])
		if err := tlog.CheckTree(hashes(args[3]), new.tree.N, new.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			fail("consistency %d → %d: %v", old.tree.N, new.tree.N, err)
		}
		fmt.Printf("ok consistency %d -> %d\n", old.tree.N, new.tree.N)
	case "tiles":
		c := open(args[1], args[2])
		reader := tlog.TileHashReader(c.tree, tileReader{base: strings.TrimRight(args[0], "/")})
		for index := int64(0); index < c.tree.N; index++ {
			proof, err := tlog.ProveRecord(c.tree.N, index, reader)
			if err != nil {
				fail("proving %d from tiles: %v", index, err)
			}
			leaves, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
			if err != nil {
				fail("leaf %d: %v", index, err)
			}
			if err := tlog.CheckRecord(proof, c.tree.N, c.tree.Hash, index, leaves[0]); err != nil {
				fail("inclusion of %d: %v", index, err)
			}
		}
		root, err := tlog.TreeHash(c.tree.N, reader)
		if err != nil {
			fail("tree hash from tiles: %v", err)
		}
		if root != c.tree.Hash {
			fail("tree hash from tiles differs from the signed root")
		}
		fmt.Printf("ok tiles: %d entries proved from tiles\n", c.tree.N)
	default:
		fail("unknown command %q", os.Args[1])
	}
}
