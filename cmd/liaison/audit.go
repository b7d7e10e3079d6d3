package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/liaison-bot/liaison/bot"
	"github.com/liaison-bot/liaison/config"
	"github.com/liaison-bot/liaison/storage"
)

// auditFormats are the formats liaison audit writes.
var auditFormats = []string{"text", "json", "csv"}

func auditCmd(load func() (*config.Config, error)) *cobra.Command {
	var (
		item   int64
		since  string
		format string
	)
	c := &cobra.Command{
		Use:   "audit (--item N | --since DATE)",
		Short: "Export the audit trail of an item, or of every item opened or changed since a date",
		Long: `Export the audit trail of one item (--item 42), or of every item opened or
changed since a date (--since 2026-11-01, from midnight UTC, or an RFC 3339
time such as 2026-11-01T09:00:00Z): who wrote each public message, every
draft with each version, who approved it and when, what was published where
and when, corrections and retractions, and the audit events of the item and
its drafts.
A forgotten member shows as "forgotten member"; the members' own words are
not exported (each message's link is).

--format text (the default) prints readable blocks; json prints one document
{"items": [...]}; csv prints one row per event, with a header. The database is
only read.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			q, err := parseAuditQuery(c.Flags().Changed("item"), item, c.Flags().Changed("since"), since)
			if err != nil {
				return commandLineError(err)
			}
			if !isAuditFormat(format) {
				return commandLineError(fmt.Errorf("--format %q is not a format (want %s)", format, strings.Join(auditFormats, ", ")))
			}
			cfg, err := load()
			if err != nil {
				return err
			}
			trails, err := auditTrail(c.Context(), cfg, q)
			if err != nil {
				return err
			}
			return writeAudit(c.OutOrStdout(), format, q, trails)
		},
	}
	c.Flags().Int64Var(&item, "item", 0, "the item whose trail to export")
	c.Flags().StringVar(&since, "since", "", "export the items opened or changed since this date (2026-11-01 or RFC 3339)")
	c.Flags().StringVar(&format, "format", "text", "output format: "+strings.Join(auditFormats, ", "))
	return c
}

// parseAuditQuery checks that exactly one of --item and --since was given,
// and reads it.
func parseAuditQuery(hasItem bool, item int64, hasSince bool, since string) (bot.AuditQuery, error) {
	switch {
	case hasItem == hasSince:
		return bot.AuditQuery{}, errors.New("give exactly one of --item N and --since DATE")
	case hasItem && item <= 0:
		return bot.AuditQuery{}, fmt.Errorf("--item %d is not an item number (want 1 or more)", item)
	case hasItem:
		return bot.AuditQuery{ItemID: item}, nil
	}
	since = strings.TrimSpace(since)
	if t, err := time.Parse(time.DateOnly, since); err == nil {
		return bot.AuditQuery{Since: t}, nil
	}
	t, err := time.Parse(time.RFC3339, since)
	if err != nil {
		return bot.AuditQuery{}, fmt.Errorf("--since %q is not a date (want 2026-11-01, or RFC 3339 such as 2026-11-01T09:00:00Z)", since)
	}
	return bot.AuditQuery{Since: t.UTC()}, nil
}

func isAuditFormat(f string) bool {
	for _, ok := range auditFormats {
		if f == ok {
			return true
		}
	}
	return false
}

// auditTrail reads the trails from the config's database, which must exist
// and be migrated: an export neither creates nor migrates it.
func auditTrail(ctx context.Context, cfg *config.Config, q bot.AuditQuery) ([]bot.ItemTrail, error) {
	dsn := cfg.Database.SQLitePath
	if cfg.Database.URL != "" {
		dsn = cfg.Database.URL.Reveal()
	} else if _, err := os.Stat(dsn); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no database at %s: Liaison has not run with this config yet", dsn)
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return nil, err
	}
	svc := bot.NewService(db, nil, bot.NewRouter(nil, nil), bot.Settings{})
	trails, err := svc.AuditTrail(ctx, q)
	if q.ItemID != 0 && errors.Is(err, bot.ErrNotFound) {
		return nil, fmt.Errorf("item %d not found", q.ItemID)
	}
	return trails, err
}

func writeAudit(w io.Writer, format string, q bot.AuditQuery, trails []bot.ItemTrail) error {
	switch format {
	case "json":
		return writeAuditJSON(w, trails)
	case "csv":
		return writeAuditCSV(w, trails)
	}
	return writeAuditText(w, q, trails)
}

func writeAuditJSON(w io.Writer, trails []bot.ItemTrail) error {
	if trails == nil {
		trails = []bot.ItemTrail{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Items []bot.ItemTrail `json:"items"`
	}{trails})
}

// auditCSVHeader names the CSV columns: one row per event of an item's
// timeline.
var auditCSVHeader = []string{"item", "time", "kind", "actor", "draft", "version", "text", "link", "detail"}

func writeAuditCSV(w io.Writer, trails []bot.ItemTrail) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(auditCSVHeader); err != nil {
		return err
	}
	for _, t := range trails {
		for _, e := range t.Timeline() {
			row := []string{
				strconv.FormatInt(e.Item, 10), e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.Actor,
				idOrEmpty(e.Draft), idOrEmpty(int64(e.Version)), e.Text, e.Link, e.Detail,
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func idOrEmpty(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

func writeAuditText(w io.Writer, q bot.AuditQuery, trails []bot.ItemTrail) error {
	ew := &errWriter{w: w}
	if len(trails) == 0 {
		ew.printf("No item was opened or changed since %s.\n", stampText(q.Since))
		return ew.err
	}
	for i, t := range trails {
		if i > 0 {
			ew.printf("\n")
		}
		writeTrailText(ew, t)
	}
	return ew.err
}

func writeTrailText(w *errWriter, t bot.ItemTrail) {
	w.printf("Item #%d · %s · channel %s · route %s · %s\n", t.ItemID, t.Conn, t.Channel, orNone(t.Route), t.Status)
	w.printf("  Opened %s · %s\n", stampText(t.OpenedAt), orNone(t.Link))
	w.printf("  Public messages:\n")
	for _, m := range t.Messages {
		who := m.Author
		if !m.Forgotten && m.AuthorID != "" {
			who += " [" + m.AuthorID + "]"
		}
		var notes []string
		switch {
		case m.Forgotten:
			notes = append(notes, "erased at the member's request")
		case m.TextPurged:
			notes = append(notes, "text removed after the retention period")
		}
		if m.EditedAt != nil {
			notes = append(notes, "edited "+stampText(*m.EditedAt))
		}
		if m.DeletedAt != nil {
			notes = append(notes, "deleted "+stampText(*m.DeletedAt))
		}
		line := fmt.Sprintf("    %s · %s · %s", stampText(m.At), who, orNone(m.Link))
		if len(notes) > 0 {
			line += " (" + strings.Join(notes, "; ") + ")"
		}
		w.printf("%s\n", line)
	}
	for _, d := range t.Drafts {
		w.printf("  Draft #%d · %s · %s · signed by %s\n", d.DraftID, bot.DraftWhat(d.Kind, d.Target), d.State, orNone(d.Signer))
		for _, v := range d.Versions {
			text := strings.ReplaceAll(v.Text, "\n", "\n        ")
			w.printf("    v%d · %s · %s: %s\n", v.N, stampText(v.At), v.Editor, text)
		}
		switch {
		case d.RejectedAt != nil:
			w.printf("    rejected by %s · %s · reason: %s\n", orNone(d.RejectedBy), stampText(*d.RejectedAt), orNone(d.RejectReason))
		case d.ApprovedAt != nil && d.ApprovedBy != "":
			w.printf("    %s by %s · %s\n", d.Review, d.ApprovedBy, stampText(*d.ApprovedAt))
		case d.ApprovedAt != nil:
			w.printf("    %s · %s\n", d.Review, stampText(*d.ApprovedAt))
		}
		if d.PublishedAt != nil {
			w.printf("    published %s · %s\n", stampText(*d.PublishedAt), orNone(d.PublicLink))
		}
	}
	w.printf("  Events:\n")
	if len(t.Events) == 0 {
		w.printf("    (none)\n")
	}
	for _, e := range t.Events {
		actor := e.Actor
		if e.ActorName != "" {
			actor += " (" + e.ActorName + ")"
		}
		w.printf("    %s · %s · %s · %s\n", stampText(e.At), actor, e.Action, e.Subject)
	}
}

func stampText(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// errWriter keeps the first write error, so that a long listing checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
