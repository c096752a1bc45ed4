// Command mail is archivekit's oracle for Mattermost's email syntax check.
//
// It reads candidate strings, one JSON string per line, on stdin and writes one
// JSON object per line on stdout:
//
//	{"input": "...", "valid": bool, "valid_lowered": bool}
//
// "valid" is the server's model.IsValidEmail(input); "valid_lowered" is the same
// check applied to strings.ToLower(input), which is what the bulk importer does
// (it lowercases the email, without trimming, before User.IsValid runs).
// The 128-byte length limit of User.IsValid is not part of either verdict.
//
// With -detail each object also carries what net/mail.ParseAddress returned
// ("parsed", "name", "address"), for debugging a port of the parser.
//
// This is our own restatement of the server's rule, written against Go's
// net/mail; see tools/oracles/README.md.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"net/mail"
	"os"
	"strings"
)

// isValidEmail restates model.IsValidEmail (server/public/model/utils.go,
// after mattermost/mattermost#29661): the input must already be lowercase,
// must parse as one RFC 5322 address whose bare address is exactly the input
// (so no display name, angle brackets, comments, quoting or surrounding
// space), and must hold at most one '@'.
func isValidEmail(s string) bool {
	if strings.ToLower(s) != s {
		return false
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s {
		return false
	}
	return strings.Count(s, "@") <= 1
}

type verdict struct {
	Input        string  `json:"input"`
	Valid        bool    `json:"valid"`
	ValidLowered bool    `json:"valid_lowered"`
	Parsed       *bool   `json:"parsed,omitempty"`
	Name         *string `json:"name,omitempty"`
	Address      *string `json:"address,omitempty"`
}

func main() {
	detail := flag.Bool("detail", false, "also report net/mail.ParseAddress's result")
	flag.Parse()

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	for lineNo := 1; in.Scan(); lineNo++ {
		var s string
		if err := json.Unmarshal(in.Bytes(), &s); err != nil {
			fmt.Fprintf(os.Stderr, "line %d: not a JSON string: %v\n", lineNo, err)
			os.Exit(2)
		}
		v := verdict{Input: s, Valid: isValidEmail(s), ValidLowered: isValidEmail(strings.ToLower(s))}
		if *detail {
			addr, err := mail.ParseAddress(s)
			ok := err == nil
			v.Parsed = &ok
			if ok {
				v.Name, v.Address = &addr.Name, &addr.Address
			}
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
