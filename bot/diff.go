package bot

import (
	"context"
	"fmt"
	"strings"
)

// changes shows a reviewer or a signer what differs between the words the
// signer wrote (or the published reply a correction changes) and the
// draft's current words; "" when there is nothing to compare.
func (s *Service) changes(ctx context.Context, tx Tx, d *Draft) (label, text string, err error) {
	var base string
	switch {
	case d.Kind == DraftRetraction:
		return "", "", nil
	case d.Kind == DraftCorrection:
		t, err := tx.Draft(ctx, d.Target)
		if err != nil {
			return "", "", err
		}
		base, label = t.Text(), "Changes from the published reply"
	case writer(d) != d.AuthorID:
		for i := len(d.Versions) - 1; i >= 0; i-- {
			if d.Versions[i].EditorID == d.AuthorID {
				base = d.Versions[i].Text
				break
			}
		}
		label = "Changes from the signer's words"
	}
	if base == "" || base == d.Text() {
		return "", "", nil
	}
	return label, WordDiff(Sanitize(base), Sanitize(d.Text())), nil
}

// Limits of a word diff as a card shows it.
const (
	diffContext = 3  // unchanged words shown around a change
	diffHunks   = 10 // changes shown; the rest are counted
)

// WordDiff says, word by word, how b differs from a: one line "− …" with
// the words removed and one "+ …" with the words added for each change,
// with a few unchanged words around it. Whitespace is not compared.
func WordDiff(a, b string) string {
	x, y := strings.Fields(a), strings.Fields(b)
	// Longest common subsequence, by suffix.
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type hunk struct {
		before, removed, added []string
		i, j                   int // where the unchanged words after it start
	}
	var hunks []hunk
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		if i < len(x) && j < len(y) && x[i] == y[j] {
			i, j = i+1, j+1
			continue
		}
		h := hunk{before: x[max(0, i-diffContext):i]}
		for (i < len(x) || j < len(y)) && !(i < len(x) && j < len(y) && x[i] == y[j]) {
			if j >= len(y) || (i < len(x) && lcs[i+1][j] >= lcs[i][j+1]) {
				h.removed = append(h.removed, x[i])
				i++
			} else {
				h.added = append(h.added, y[j])
				j++
			}
		}
		h.i, h.j = i, j
		hunks = append(hunks, h)
	}
	var out []string
	for k, h := range hunks {
		if k == diffHunks {
			out = append(out, fmt.Sprintf("… and %d more changes", len(hunks)-diffHunks))
			break
		}
		after := x[h.i:min(len(x), h.i+diffContext)]
		line := func(sign string, words []string) string {
			var b strings.Builder
			b.WriteString(sign)
			if h.i-len(h.removed)-len(h.before) > 0 {
				b.WriteString(" …")
			}
			for _, w := range h.before {
				b.WriteString(" " + w)
			}
			for _, w := range words {
				b.WriteString(" " + w)
			}
			for _, w := range after {
				b.WriteString(" " + w)
			}
			if h.i+len(after) < len(x) {
				b.WriteString(" …")
			}
			return b.String()
		}
		if len(h.removed) > 0 {
			out = append(out, line("−", h.removed))
		}
		if len(h.added) > 0 {
			out = append(out, line("+", h.added))
		}
	}
	return strings.Join(out, "\n")
}
