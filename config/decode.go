package config

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder fills a Config from a yaml.Node tree. It is ours rather than
// yaml.v3's Decode (with KnownFields) so that every problem — unknown key,
// wrong type, unset variable — is reported with its key path, all at once,
// and so that ${VAR} is expanded on parsed values: a secret never passes
// through the YAML parser, and so never shows up in one of its errors.
type decoder struct {
	getenv func(string) string
	errs   Errors
	lines  map[string]int // key path → line, for sorting errors
	// fromEnv maps the key of each value that came from ${VAR} to what
	// was written in the file, so errors quote the reference, not the value.
	fromEnv map[string]expansion
	aliases map[*yaml.Node]bool
	nodes   int // nodes visited, to stop alias bombs
}

// maxNodes bounds the work of decoding: a real configuration has a few
// hundred nodes; aliases of aliases can make billions.
const maxNodes = 100_000

func newDecoder(getenv func(string) string) *decoder {
	return &decoder{getenv: getenv, lines: map[string]int{}, fromEnv: map[string]expansion{}, aliases: map[*yaml.Node]bool{}}
}

type expansion struct{ value, raw string }

// unquote puts back the ${VAR} reference wherever an error quotes a value
// that came from the environment: it may be a secret in the wrong key.
func (d *decoder) unquote(errs Errors) {
	for _, fe := range errs {
		if e, ok := d.fromEnv[fe.Key]; ok && e.value != e.raw {
			fe.Message = strings.ReplaceAll(fe.Message, strconv.Quote(e.value), strconv.Quote(e.raw))
		}
	}
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

func (d *decoder) add(key, msg string) {
	d.errs = append(d.errs, &FieldError{Key: key, Message: msg})
}

// value decodes n into v. A null (an empty value, ~ or null) leaves v as it
// is, so a key written without a value keeps its default.
func (d *decoder) value(key string, n *yaml.Node, v reflect.Value) {
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.add(key, "the file expands to too many values (aliases of aliases?); stopped here")
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.aliases[n] {
			d.add(key, fmt.Sprintf("alias *%s refers to itself", n.Value))
			return
		}
		d.aliases[n] = true
		defer delete(d.aliases, n)
		d.value(key, n.Alias, v)
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	switch {
	case v.Type() == durationType:
		if s, raw, ok := d.scalar(key, n); ok {
			dur, err := parseDuration(s)
			if err != nil {
				d.add(key, fmt.Sprintf("%q is not a duration (want e.g. 30m, 4h or 90d)", raw))
				return
			}
			v.SetInt(int64(dur))
		}
		return
	case v.Type() == timeType:
		if s, raw, ok := d.scalar(key, n); ok {
			t, err := parseTime(s)
			if err != nil {
				d.add(key, fmt.Sprintf("%q is not a date and time (want RFC 3339, e.g. 2026-01-10T09:00:00Z)", raw))
				return
			}
			v.Set(reflect.ValueOf(t))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(key, n, v.Elem())
	case reflect.Struct:
		d.mapping(key, n, v)
	case reflect.Slice:
		d.sequence(key, n, v)
	case reflect.String:
		if s, _, ok := d.scalar(key, n); ok {
			v.SetString(s)
		}
	case reflect.Int:
		if s, raw, ok := d.scalar(key, n); ok {
			i, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				d.add(key, fmt.Sprintf("%q is not a whole number", raw))
				return
			}
			v.SetInt(int64(i))
		}
	case reflect.Bool:
		if s, raw, ok := d.scalar(key, n); ok {
			b, err := parseBool(s)
			if err != nil {
				d.add(key, fmt.Sprintf("%q is not true or false", raw))
				return
			}
			v.SetBool(b)
		}
	default:
		panic("config: no decoder for " + v.Type().String())
	}
}

// kindName describes a node for "want X, got Y" messages. It never quotes
// the value: a misplaced secret must not be echoed.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping (key: value lines)"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// scalar returns the value of a scalar node after ${VAR} expansion, and raw:
// what to quote in an error about the value — the text as written in the
// file, never what the environment put in it.
func (d *decoder) scalar(key string, n *yaml.Node) (s, raw string, ok bool) {
	if n.Kind != yaml.ScalarNode {
		d.add(key, "want a single value, got "+kindName(n))
		return "", "", false
	}
	s, missing, err := expand(n.Value, d.getenv)
	if err != nil {
		d.add(key, err.Error())
		return "", "", false
	}
	for _, name := range missing {
		d.add(key, "environment variable "+name+" is not set")
	}
	if len(missing) > 0 {
		return "", "", false
	}
	if s != n.Value {
		d.fromEnv[key] = expansion{value: s, raw: n.Value}
	}
	return s, n.Value, true
}

func (d *decoder) mapping(key string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		what := "want a mapping (key: value lines)"
		if key == "" {
			what = "the file must be a mapping of keys (company:, connections:, …)"
		}
		d.add(key, what+", got "+kindName(n))
		return
	}
	fields := map[string]int{}
	var names []string
	t := v.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
			names = append(names, name)
		}
	}
	// Merged mappings (<<: *anchor) first, so keys written here win.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			d.merge(key, n.Content[i+1], v)
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.add(key, fmt.Sprintf("line %d: a key must be a plain word, got %s", k.Line, kindName(k)))
			continue
		}
		child := k.Value
		if key != "" {
			child = key + "." + k.Value
		}
		if _, ok := d.lines[child]; !ok {
			d.lines[child] = k.Line
		}
		if first, ok := seen[k.Value]; ok {
			d.add(child, fmt.Sprintf("is set twice (first on line %d); keep one", first))
			continue
		}
		seen[k.Value] = k.Line
		f, ok := fields[k.Value]
		if why, retired := retiredKeys[v.Type().Name()+"."+k.Value]; !ok && retired {
			d.add(child, why)
			continue
		}
		if !ok {
			d.add(child, "unknown key"+suggest(k.Value, names))
			continue
		}
		d.value(child, val, v.Field(f))
	}
}

func (d *decoder) merge(key string, n *yaml.Node, v reflect.Value) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.SequenceNode {
		for _, m := range n.Content {
			d.merge(key, m, v)
		}
		return
	}
	d.mapping(key, n, v)
}

func (d *decoder) sequence(key string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		msg := "want a list, got " + kindName(n)
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() == reflect.String && len(n.Value) < 60 {
			msg += fmt.Sprintf("; write [%s] for a list of one", n.Value)
		}
		d.add(key, msg)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		k := fmt.Sprintf("%s[%d]", key, i)
		d.lines[k] = item.Line
		e := s.Index(i)
		if p, ok := e.Addr().Interface().(interface{ preset() }); ok {
			p.preset()
		}
		d.value(k, item, e)
	}
	v.Set(s)
}

// preset gives a route its defaults before decoding, so that an explicit
// "sla: 0" stays 0 and is reported, while a missing sla is 24h.
func (r *Route) preset() { r.SLA = DefaultSLA }

// suggest returns " (did you mean x?)" for the known key closest to a
// misspelt one, or the list of known keys.
func suggest(got string, keys []string) string {
	best, bestDist := "", 3
	norm := func(s string) string {
		return strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(s, "_", ""), "-", ""))
	}
	for _, k := range keys {
		if norm(k) == norm(got) {
			return " (did you mean " + k + "?)"
		}
		if dist := editDistance(got, k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return " (did you mean " + best + "?)"
	}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	return " (known keys: " + strings.Join(sorted, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// expand replaces ${NAME} and ${NAME:-default} in s; "$${" is a literal
// "${", and any other "$" is kept as it is. A variable that is empty counts
// as unset. It returns the names of unset variables that have no default.
func expand(s string, getenv func(string) string) (string, []string, error) {
	if !strings.Contains(s, "${") {
		return s, nil, nil
	}
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, errors.New("unclosed ${ (want ${NAME} or ${NAME:-default}; write $${ for a literal ${)")
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !isEnvName(name) {
				return "", nil, fmt.Errorf("%q is not a variable reference (want ${NAME} or ${NAME:-default}, NAME of letters, digits and _)", "${"+expr+"}")
			}
			val := getenv(name)
			if val == "" {
				if hasDef {
					val = def
				} else {
					missing = append(missing, name)
				}
			}
			b.WriteString(val)
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), missing, nil
}

func isEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// parseDuration accepts Go durations ("4h", "90m", "1h30m", "0") and whole
// days ("90d").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseTime accepts RFC 3339, or a bare date (midnight UTC).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on":
		return true, nil
	case "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not a boolean")
}

// retiredKeys are settings that no longer exist, by struct and key, with
// what to write instead.
var retiredKeys = map[string]string{
	"Profile.role":    "is not a setting: a profile grants nothing. Approvers are named per route (routes[].approvers) and responders per route (routes[].responders)",
	"Profile.trusted": "trust is per route: list the routes in trusted_on, e.g. trusted_on: [support]",
}
