package config

import (
	"sort"
	"strings"
)

// FieldError is one problem with one configuration key. Key is the path of
// the key in the file, like "routes[1].approvers[0]"; Message says what is
// wrong and what would be right. Messages never contain a secret's value.
type FieldError struct {
	Key     string
	Message string
}

func (e *FieldError) Error() string {
	if e.Key == "" {
		return e.Message
	}
	return e.Key + ": " + e.Message
}

// Errors is every problem found in a configuration, in document order. Load,
// Parse and Validate return it (as an error) so that an admin fixes the whole
// file in one pass rather than one error per run.
type Errors []*FieldError

func (e Errors) Error() string {
	lines := make([]string, len(e))
	for i, fe := range e {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// list collects field errors while walking a configuration.
type list struct {
	errs Errors
}

func (l *list) add(key, message string) {
	l.errs = append(l.errs, &FieldError{Key: key, Message: message})
}

// err returns the collected errors, or a nil error (not a typed nil) if there
// are none.
func (l *list) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	return l.errs
}

// covered reports whether key is, or lies under, a key in errs: once a key
// is known to be broken, what validation says about it (or below it) is
// noise. An error about the whole file ("") covers every key.
func covered(key string, errs Errors) bool {
	for _, fe := range errs {
		if fe.Key == "" || key == fe.Key || strings.HasPrefix(key, fe.Key+".") || strings.HasPrefix(key, fe.Key+"[") {
			return true
		}
	}
	return false
}

// parentKey strips the last segment of a key path: "routes[1].sla" →
// "routes[1]" → "routes" → "".
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

// sortByLine orders errs as their keys appear in the file. A key that is not
// in the file (a missing required key) sorts at the end of its nearest
// parent that is, or first if that is the top of the file.
func sortByLine(errs Errors, lines map[string]int) {
	pos := make(map[*FieldError]int, len(errs))
	for _, fe := range errs {
		pos[fe] = lineOf(fe.Key, lines)
	}
	sort.SliceStable(errs, func(i, j int) bool { return pos[errs[i]] < pos[errs[j]] })
}

func lineOf(key string, lines map[string]int) int {
	if l, ok := lines[key]; ok {
		return l
	}
	for key = parentKey(key); key != ""; key = parentKey(key) {
		if _, ok := lines[key]; ok {
			end := 0
			for k, l := range lines {
				if l > end && (k == key || strings.HasPrefix(k, key+".") || strings.HasPrefix(k, key+"[")) {
					end = l
				}
			}
			return end
		}
	}
	return 0
}

// scrub replaces any secret value that made its way into a message. Messages
// are written not to quote secrets; this is the guarantee if one slips in
// anyway (a token pasted into the wrong key, say).
func scrub(errs Errors, secrets []string) {
	for _, fe := range errs {
		for _, s := range secrets {
			if len(s) >= 4 {
				fe.Message = strings.ReplaceAll(fe.Message, s, redacted)
			}
		}
	}
}
