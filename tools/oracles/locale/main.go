// Command locale is archivekit's oracle for Mattermost's user locale check.
//
// The server's model.IsValidLocale (server/public/model/user.go) accepts the
// empty string, and otherwise a string of at most UserLocaleMaxLength (5) bytes
// that golang.org/x/text/language.Parse accepts without any error (an unknown
// but well-formed subtag such as "jp" is an error too).
//
// Modes:
//
//	locale -data
//	    Tries every string of 1 to 5 bytes over [a-z0-9-], checks that the
//	    accepted ones have the closed form described in the header it prints,
//	    and prints archivekit/data/locales.txt (exits 1 if the form is wrong).
//	locale -prove
//	    Tries every string of 1 to 5 bytes over [A-Za-z0-9_-] (about 1.1e9,
//	    several minutes) and checks that each passes exactly when its form
//	    lowercased with '_' replaced by '-' passes. Exits 1 on a counterexample.
//	locale -verdicts
//	    Reads candidates, one JSON string a line, on stdin and writes
//	    {"input": ..., "valid": bool} a line (valid = model.IsValidLocale).
//
// Only ASCII letters, digits, '-' and '_' can occur in an accepted string:
// any other byte makes a token that is not alphanumeric, which Parse reports
// as a syntax error, and the grandfathered-tag shortcut cannot match a
// non-ASCII string of 5 bytes or less. See tools/oracles/README.md.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/language"
)

// userLocaleMaxLength mirrors model.UserLocaleMaxLength.
const userLocaleMaxLength = 5

// isValidLocale restates model.IsValidLocale.
func isValidLocale(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > userLocaleMaxLength {
		return false
	}
	_, err := language.Parse(s)
	return err == nil
}

// forEach calls visit with every string of length 1..maxLen over alphabet,
// splitting the work by first byte over the available CPUs.
func forEach(alphabet string, maxLen int, visit func(s []byte)) {
	var wg sync.WaitGroup
	firsts := make(chan byte)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, maxLen)
			for first := range firsts {
				buf[0] = first
				var rec func(n int)
				rec = func(n int) {
					visit(buf[:n])
					if n == maxLen {
						return
					}
					for i := 0; i < len(alphabet); i++ {
						buf[n] = alphabet[i]
						rec(n + 1)
					}
				}
				rec(1)
			}
		}()
	}
	for i := 0; i < len(alphabet); i++ {
		firsts <- alphabet[i]
	}
	close(firsts)
	wg.Wait()
}

func normalize(s []byte) string {
	return strings.ToLower(strings.ReplaceAll(string(s), "_", "-"))
}

// acceptedNormalized returns every accepted string over [a-z0-9-], sorted.
func acceptedNormalized() []string {
	var mu sync.Mutex
	var accepted []string
	forEach("abcdefghijklmnopqrstuvwxyz0123456789-", userLocaleMaxLength, func(s []byte) {
		if isValidLocale(string(s)) {
			mu.Lock()
			accepted = append(accepted, string(s))
			mu.Unlock()
		}
	})
	sort.Strings(accepted)
	return accepted
}

var (
	privateUse   = regexp.MustCompile(`^x(-[a-z0-9]{1,8})+$`)
	langRegion   = regexp.MustCompile(`^[a-z]{2}-[a-z]{2}$`)
	twoLetters   = regexp.MustCompile(`^[a-z]{2}$`)
	alphaNumDash = "abcdefghijklmnopqrstuvwxyz0123456789-"
)

// closedForm splits the accepted set into whole tags and regions and checks
// that accepted = tags ∪ {l-r : l a two-letter tag, r a region} ∪ private use.
func closedForm(accepted []string) (tags, regions []string, err error) {
	set := map[string]bool{}
	regionSet := map[string]bool{}
	for _, s := range accepted {
		set[s] = true
		if langRegion.MatchString(s) {
			regionSet[s[3:]] = true
		}
	}
	var langs2 []string
	for _, s := range accepted {
		if !langRegion.MatchString(s) && !privateUse.MatchString(s) {
			tags = append(tags, s)
			if twoLetters.MatchString(s) {
				langs2 = append(langs2, s)
			}
		}
	}
	for r := range regionSet {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, l := range langs2 {
		for _, r := range regions {
			if !set[l+"-"+r] {
				return nil, nil, fmt.Errorf("%s-%s is refused although %s and region %s occur", l, r, l, r)
			}
		}
	}
	n := len(tags) + len(langs2)*len(regions)
	// every private-use string that fits: x-a, x-ab, x-abc, x-a-b
	for _, s := range allStrings(alphaNumDash, userLocaleMaxLength) {
		if privateUse.MatchString(s) {
			n++
			if !set[s] {
				return nil, nil, fmt.Errorf("private-use %s is refused", s)
			}
		}
	}
	if n != len(accepted) {
		return nil, nil, fmt.Errorf("closed form has %d strings, the server accepts %d", n, len(accepted))
	}
	return tags, regions, nil
}

// allStrings lists strings of length 1..maxLen over alphabet that start with 'x'
// (the only ones private use can match), to keep the list small.
func allStrings(alphabet string, maxLen int) []string {
	out := []string{}
	var rec func(prefix string)
	rec = func(prefix string) {
		out = append(out, prefix)
		if len(prefix) == maxLen {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			rec(prefix + alphabet[i:i+1])
		}
	}
	rec("x")
	return out
}

// xtextVersion names the golang.org/x/text the program was built with; GOPATH
// builds carry no module version, so the caller states it (-xtext).
var xtextVersion = flag.String("xtext", "v0.16.0 (Debian golang-golang-x-text-dev)", "x/text version, for the header")

func dataHeader(accepted int) string {
	return fmt.Sprintf(`# Accepted Mattermost user locales: model.IsValidLocale (server/public/model/user.go), that is
# golang.org/x/text/language.Parse without any error, at most 5 bytes (UserLocaleMaxLength).
# Generated by tools/oracles/locale (-data) with golang.org/x/text %s and %s.
# One entry a line after this header: every accepted string except the two families below,
# then "*-rr" lines, each meaning "any two-letter language here, then -rr" (en-us, pt-br).
# Exact rule, checked over every string of 1-5 bytes (see tools/oracles/README.md), where
# ENTRIES is the set of lines and s = locale.lower().replace("_", "-"):
#   valid(locale) = locale == "" or (
#       locale.isascii() and len(locale) <= 5 and "*" not in locale and (
#           s in ENTRIES
#           or (len(s) == 5 and s[2] == "-" and s[:2] in ENTRIES and "*" + s[2:] in ENTRIES)
#           or re.fullmatch(r"x(-[a-z0-9]{1,8})+", s)))
# Check isascii() before lowering: Python lowers some non-ASCII letters to ASCII ones (the
# Kelvin sign to "k"), while Parse refuses every non-ASCII byte; "*" only marks the region
# lines. The last alternative is private use (x-a, x-ab, x-abc, x-a-b). %d strings are
# accepted in all.
`, *xtextVersion, runtime.Version(), accepted)
}

func printData() {
	accepted := acceptedNormalized()
	tags, regions, err := closedForm(accepted)
	if err != nil {
		fmt.Fprintln(os.Stderr, "the accepted set lost its closed form:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	fmt.Fprint(out, dataHeader(len(accepted)))
	for _, t := range tags {
		fmt.Fprintln(out, t)
	}
	for _, r := range regions {
		fmt.Fprintln(out, "*-"+r)
	}
}

func prove() {
	accepted := map[string]bool{}
	for _, s := range acceptedNormalized() {
		accepted[s] = true
	}
	var tried, passed, wrong atomic.Int64
	var mu sync.Mutex
	forEach("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", userLocaleMaxLength, func(s []byte) {
		tried.Add(1)
		ok := isValidLocale(string(s))
		if ok {
			passed.Add(1)
		}
		if ok != accepted[normalize(s)] {
			if wrong.Add(1) <= 20 {
				mu.Lock()
				fmt.Fprintf(os.Stderr, "counterexample: %q passes=%v\n", s, ok)
				mu.Unlock()
			}
		}
	})
	fmt.Printf("tried %d strings over [A-Za-z0-9_-] of 1-5 bytes: %d pass, %d counterexamples\n",
		tried.Load(), passed.Load(), wrong.Load())
	if wrong.Load() != 0 {
		os.Exit(1)
	}
}

func verdicts() {
	in := bufio.NewScanner(os.Stdin)
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
		if err := enc.Encode(struct {
			Input string `json:"input"`
			Valid bool   `json:"valid"`
		}{s, isValidLocale(s)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func main() {
	doData := flag.Bool("data", false, "print archivekit/data/locales.txt")
	doProve := flag.Bool("prove", false, "check case and '_' insensitivity exhaustively")
	doVerdicts := flag.Bool("verdicts", false, "judge JSON strings read from stdin")
	flag.Parse()
	switch {
	case *doData:
		printData()
	case *doProve:
		prove()
	case *doVerdicts:
		verdicts()
	default:
		flag.Usage()
		os.Exit(2)
	}
}
