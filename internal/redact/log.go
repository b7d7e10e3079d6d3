package redact

import (
	"context"
	"fmt"
	"log/slog"
)

// Handler is a slog.Handler that hides secrets in every record before
// passing it on: in the message, in attribute keys and values (errors,
// strings, anything printed, in groups too), with the values of its Secrets
// and what Text recognises. Handlers derived from it by WithAttrs and
// WithGroup share its Secrets, so a secret added later is hidden in all of
// them.
type Handler struct {
	next    slog.Handler
	secrets *Secrets
}

var _ slog.Handler = (*Handler)(nil)

// NewHandler returns a Handler passing cleaned records on to next.
func NewHandler(next slog.Handler, s *Secrets) *Handler {
	if s == nil {
		s = NewSecrets()
	}
	return &Handler{next: next, secrets: s}
}

// Enabled reports whether the next handler takes records at level l.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on with its secrets hidden.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.secrets.Hide(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs hides the secrets of as as they are now; the record's own
// attributes are checked at each Handle.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(as))
	for i, a := range as {
		clean[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(clean), secrets: h.secrets}
}

// WithGroup returns a Handler for the group.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), secrets: h.secrets}
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	a.Key = h.secrets.Hide(a.Key)
	a.Value = h.value(a.Value.Resolve())
	return a
}

func (h *Handler) value(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(h.secrets.Hide(v.String()))
	case slog.KindGroup:
		as := v.Group()
		clean := make([]slog.Attr, len(as))
		for i, a := range as {
			clean[i] = h.attr(a)
		}
		return slog.GroupValue(clean...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.StringValue(h.secrets.Hide(err.Error()))
		}
		// Printed as the text handler prints it; kept as it was (so the
		// JSON handler still marshals it) unless it shows a secret.
		s := fmt.Sprintf("%+v", v.Any())
		if clean := h.secrets.Hide(s); clean != s {
			return slog.StringValue(clean)
		}
	}
	return v
}

// Logger returns a logger writing through l's handler with every secret
// hidden: the given values, those added later with Hide, and what Text
// recognises. A logger that already hides secrets gets the values added and
// is returned as is.
func Logger(l *slog.Logger, secrets ...string) *slog.Logger {
	if h, ok := l.Handler().(*Handler); ok {
		h.secrets.Add(secrets...)
		return l
	}
	return slog.New(NewHandler(l.Handler(), NewSecrets(secrets...)))
}

// Hide makes l, and every logger sharing its Handler, hide secrets from now
// on: a component that learns a credential (a webhook's token) registers it
// here. Loggers that do not hide secrets (see Logger) are left alone.
func Hide(l *slog.Logger, secrets ...string) {
	if l == nil {
		return
	}
	if h, ok := l.Handler().(*Handler); ok {
		h.secrets.Add(secrets...)
	}
}
