// Package handlers_test checks what holds for every adapter: they translate
// and render, and every word a person reads comes from bot/.
package handlers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// adapters are the packages that speak to a platform for Liaison. Their
// fakes (slackfake, discordfake) stand for the platforms and are not checked.
var adapters = []string{"slack", "discord"}

// prose is what a sentence looks like: two words in a row.
var prose = regexp.MustCompile(`[A-Za-z][a-z']+[,;:]? [a-z][a-z']+`)

// toOperators are the calls whose text goes to logs and errors (which
// reach people only through the domain's "Internal error."), not to a
// person on a platform.
var toOperators = map[string]bool{
	"Errorf": true, "Error": true, "Warn": true, "Info": true, "Debug": true,
	"ErrorContext": true, "WarnContext": true, "InfoContext": true, "DebugContext": true,
}

// forOperators are the files of an adapter that speak to whoever sets
// Liaison up — `liaison doctor`'s checks, the Slack app manifest's comments,
// the Discord invite — at their terminal or in the app's settings, never to
// people on the platform: like logs, they are not the domain's to word.
// What the platform shows people from them (the app's description, the
// menu commands' names) still comes from bot/.
var forOperators = map[string]bool{"doctor.go": true, "manifest.go": true, "invite.go": true}

// TestNoWordsInAdapters fails when an adapter holds text meant for a
// person — a label, a hint, a confirmation, a refusal, help: those are
// bot/'s, so that both platforms say the same thing.
func TestNoWordsInAdapters(t *testing.T) {
	for _, dir := range adapters {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files in %s: %v", dir, err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") || forOperators[filepath.Base(path)] {
				continue
			}
			for _, w := range wordsIn(t, path) {
				t.Errorf("%s: %q reads as text for people: word it in bot/ and render what the domain gives", w.pos, w.text)
			}
		}
	}
}

type word struct {
	pos  token.Position
	text string
}

// wordsIn lists the string literals of a file that read as prose, outside
// calls to loggers and error constructors.
func wordsIn(t *testing.T, path string) []word {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []word
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.ImportSpec, *ast.Field:
			if fd, ok := n.(*ast.Field); ok && fd.Type != nil {
				ast.Inspect(fd.Type, visit) // the field's type, not its tag
			}
			return false
		case *ast.CallExpr:
			if operatorCall(n) {
				return false
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err == nil && prose.MatchString(s) {
				out = append(out, word{fset.Position(n.Pos()), s})
			}
		}
		return true
	}
	ast.Inspect(f, visit)
	return out
}

func operatorCall(c *ast.CallExpr) bool {
	switch fn := c.Fun.(type) {
	case *ast.SelectorExpr:
		if toOperators[fn.Sel.Name] {
			return true
		}
		if x, ok := fn.X.(*ast.Ident); ok && x.Name == "errors" && fn.Sel.Name == "New" {
			return true
		}
	case *ast.Ident:
		return fn.Name == "panic"
	}
	return false
}

// TestTheCheckSeesWords: the check above flags a label, and lets log and
// error texts be.
func TestTheCheckSeesWords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.go")
	src := `package x

import ("errors"; "fmt"; "log/slog")

type T struct{ A string ` + "`json:\"a thing\"`" + ` }

func f(log *slog.Logger) (string, error) {
	log.Warn("socket mode ack failed", "envelope", 1)
	_ = errors.New("no card to send")
	label := "Reply publicly"
	return label, fmt.Errorf("post in channel %s: %w", "C1", nil)
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := wordsIn(t, path)
	if len(got) != 1 || got[0].text != "Reply publicly" {
		t.Fatalf("flagged %+v, want only the label", got)
	}
}
