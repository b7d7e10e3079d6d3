package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Follow-ups that wait behind a rate limit are posted together: when a
// follow-up's note is about to be sent, the item's follow-ups queued right
// behind it join it, as many as fit in one message. Their jobs are done as
// part of it, and each of their messages has the post as its internal copy
// (MirrorID), so an edit or a deletion of any of them rewrites the post
// from all of them.

// maxMerged bounds the follow-ups one post carries.
const maxMerged = 25

// mergeSep separates merged follow-ups in a post.
const mergeSep = "\n\n"

// merge adds to j, a follow-up's note about to be sent, the follow-ups of
// its item queued right behind it, and records which in j's payload before
// anything is sent: a retry sends the same post. A job whose earlier
// attempt may have gone out is left as it was.
func (w *Worker) merge(ctx context.Context, j *OutboxJob) error {
	if j.Kind != OpPostNote || j.MessageID == 0 || j.Uncertain || j.OrderKey == "" {
		return nil
	}
	p, err := payloadOf(j)
	if err != nil || len(p.Merged) > 0 {
		return err
	}
	s := w.svc
	limit := 2000
	if pl, ok := s.Platforms[j.Conn]; ok && pl.Capabilities().MaxNote > 0 {
		limit = pl.Capabilities().MaxNote
	}
	limit = limit * 9 / 10 // the adapter's escaping and layout
	var merged []int64
	err = s.Store.InTx(ctx, func(tx Tx) error {
		merged, p.Merged = nil, nil
		next, err := tx.FollowingJobs(ctx, j.OrderKey, j.ID, maxMerged-1)
		if err != nil || len(next) == 0 {
			return err
		}
		first, err := tx.MessageByID(ctx, j.MessageID)
		if err != nil {
			return err
		}
		size := utf8.RuneCountInString(s.followUpNote(first).Text)
		for _, n := range next {
			if n.Kind != OpPostNote || n.MessageID == 0 || n.Conn != j.Conn || n.Channel != j.Channel || n.Uncertain || n.Payload != "" {
				break // the item's notes keep their order
			}
			m, err := tx.MessageByID(ctx, n.MessageID)
			if err != nil {
				return err
			}
			size += utf8.RuneCountInString(mergeSep + s.followUpNote(m).Text)
			if size > limit {
				break
			}
			merged = append(merged, n.ID)
			p.Merged = append(p.Merged, n.MessageID)
		}
		if len(merged) == 0 {
			return nil
		}
		return tx.MergeJobs(ctx, j.ID, w.Owner, jsonOf(p), merged, s.Clock())
	})
	if err != nil {
		return fmt.Errorf("merge the follow-ups after job %d: %w", j.ID, err)
	}
	if len(merged) > 0 {
		j.Payload = jsonOf(p)
		s.Log.Info("outbox follow-ups merged", "conn", j.Conn, "job", j.ID, "item", j.ItemID, "merged_jobs", len(merged))
	}
	return nil
}

// payloadOf decodes a note job's payload.
func payloadOf(j *OutboxJob) (notePayloadJSON, error) {
	var p notePayloadJSON
	if j.Payload == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(j.Payload), &p); err != nil {
		return p, fmt.Errorf("job %d payload: %w", j.ID, err)
	}
	return p, nil
}

// followUpsNote is the note of the messages ms, one post.
func (s *Service) followUpsNote(ms []*Message) *Note {
	texts := make([]string, len(ms))
	for i, m := range ms {
		texts[i] = s.followUpNote(m).Text
	}
	return &Note{Text: strings.Join(texts, mergeSep)}
}

// mergedMessages reads the messages of a follow-up note: the job's own,
// then those merged into it.
func mergedMessages(ctx context.Context, tx Tx, j *OutboxJob, p notePayloadJSON) ([]*Message, error) {
	ids := append([]int64{j.MessageID}, p.Merged...)
	ms := make([]*Message, 0, len(ids))
	for _, id := range ids {
		m, err := tx.MessageByID(ctx, id)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}
