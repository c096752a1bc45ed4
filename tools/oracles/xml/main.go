// Command xml is archivekit's oracle for the SVG check of `mmctl import validate`.
//
// mmctl decodes an emoji image whose extension maps to image/svg+xml with
// xml.NewDecoder(f).Decode(&struct{}{}) and refuses it when that fails
// ("error decoding emoji SVG file: ..."). This program reads candidate
// documents, one JSON string of base64 a line, on stdin and writes one JSON
// object a line on stdout:
//
//	{"input": "<base64>", "error": null | "Go's error text"}
//
// This is our own restatement of mmctl's check; see tools/oracles/README.md.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
)

type verdict struct {
	Input string  `json:"input"`
	Error *string `json:"error"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)

	for lineNo := 1; in.Scan(); lineNo++ {
		var encoded string
		if err := json.Unmarshal(in.Bytes(), &encoded); err != nil {
			fmt.Fprintf(os.Stderr, "line %d: not a JSON string: %v\n", lineNo, err)
			os.Exit(2)
		}
		doc, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			fmt.Fprintf(os.Stderr, "line %d: not base64: %v\n", lineNo, err)
			os.Exit(2)
		}
		var svg struct{}
		v := verdict{Input: encoded}
		if err := xml.NewDecoder(bytes.NewReader(doc)).Decode(&svg); err != nil {
			text := err.Error()
			v.Error = &text
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
