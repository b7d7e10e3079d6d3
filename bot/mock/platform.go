// Package mock provides an in-memory bot.Platform for tests of the domain:
// it records every operation as the channel would show it and can be told
// to fail in the ways real platforms do.
package mock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

var _ bot.Platform = (*Platform)(nil)

// Post is a message as a channel shows it.
type Post struct {
	ID        string
	Channel   string
	ThreadID  string
	Username  string // custom identity, if any
	AvatarURL string
	Text      string
	Card      *bot.Card
	DraftCard *bot.DraftCard
	Key       string // the job key attached to it, as adapters do with metadata
	Deleted   bool
	Edits     int
	ToUser    string // private notices
}

// Failure is what the next matching Send does instead of succeeding.
type Failure struct {
	Kind bot.OpKind
	// Err is returned. With Applied, the operation takes effect first and
	// the answer is "lost": the outcome is unknown to the caller.
	Err     error
	Applied bool
}

// Platform is an in-memory connection.
type Platform struct {
	KindName string
	Caps     bot.Capabilities
	// Pace is what Limits says: none unless a test sets it.
	Pace bot.Limits

	mu       sync.Mutex
	posts    []*Post
	homes    map[string]*bot.HomeView // by user: the Home last published
	sends    map[bot.OpKind]int
	finds    int
	failures []Failure
	next     int
}

// New returns a platform of kind ("slack" or "discord").
func New(kind string, customIdentity bool) *Platform {
	return &Platform{KindName: kind, Caps: bot.Capabilities{CustomIdentity: customIdentity}, sends: map[bot.OpKind]int{}}
}

func (p *Platform) Kind() string                   { return p.KindName }
func (p *Platform) Capabilities() bot.Capabilities { return p.Caps }
func (p *Platform) Limits() bot.Limits             { return p.Pace }

// FailNext queues a failure for the next Send of f.Kind.
func (p *Platform) FailNext(f Failure) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures = append(p.failures, f)
}

// Send applies op.
func (p *Platform) Send(ctx context.Context, op *bot.Op) (bot.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sends[op.Kind]++
	for i, f := range p.failures {
		if f.Kind != op.Kind {
			continue
		}
		p.failures = slices.Delete(p.failures, i, i+1)
		if !f.Applied {
			return bot.Result{}, f.Err
		}
		if _, err := p.apply(op); err != nil {
			return bot.Result{}, err
		}
		return bot.Result{}, f.Err
	}
	return p.apply(op)
}

func (p *Platform) apply(op *bot.Op) (bot.Result, error) {
	switch op.Kind {
	case bot.OpPostCard, bot.OpPostNote, bot.OpPostDraftCard, bot.OpPublish, bot.OpNotify:
		p.next++
		post := &Post{ID: fmt.Sprintf("m%d", p.next), Channel: op.Channel, ThreadID: op.ThreadID, Key: op.Key, Card: op.Card, DraftCard: op.DraftCard, ToUser: op.UserID}
		if op.Note != nil {
			post.Text = op.Note.Text
		}
		if op.Post != nil {
			post.Text = op.Post.Text(p.Caps.CustomIdentity)
			if p.Caps.CustomIdentity {
				post.Username, post.AvatarURL = op.Post.Username, op.Post.AvatarURL
			}
		}
		p.posts = append(p.posts, post)
		return bot.Result{MessageID: post.ID, Link: "https://example.test/" + op.Channel + "/" + post.ID}, nil
	case bot.OpUpdateCard, bot.OpUpdateNote, bot.OpUpdateDraftCard, bot.OpEditPublic, bot.OpDeletePublic:
		post := p.find(op.MessageID)
		if post == nil {
			return bot.Result{}, bot.Permanent(errors.New("message_not_found"))
		}
		post.Edits++
		switch {
		case op.Kind == bot.OpDeletePublic:
			post.Deleted = true
		case op.Card != nil:
			post.Card = op.Card
		case op.DraftCard != nil:
			post.DraftCard = op.DraftCard
		case op.Note != nil:
			post.Text = op.Note.Text
		case op.Post != nil:
			post.Text = op.Post.Text(p.Caps.CustomIdentity)
		}
		return bot.Result{MessageID: post.ID}, nil
	case bot.OpPublishHome:
		if op.Home == nil || op.UserID == "" {
			return bot.Result{}, bot.Permanent(errors.New("invalid_arguments"))
		}
		if p.homes == nil {
			p.homes = map[string]*bot.HomeView{}
		}
		p.homes[op.UserID] = op.Home
		return bot.Result{}, nil
	}
	return bot.Result{}, bot.Permanent(fmt.Errorf("unknown op %q", op.Kind))
}

// Home returns the Home last published for a user; nil when none was.
func (p *Platform) Home(userID string) *bot.HomeView {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.homes[userID]
}

// Find looks for a message carrying op's key, as an adapter does with
// message metadata.
func (p *Platform) Find(ctx context.Context, op *bot.Op) (bot.Result, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finds++
	for _, post := range p.posts {
		if post.Key == op.Key {
			return bot.Result{MessageID: post.ID, Link: "https://example.test/" + post.Channel + "/" + post.ID}, true, nil
		}
	}
	return bot.Result{}, false, nil
}

func (p *Platform) find(id string) *Post {
	for _, post := range p.posts {
		if post.ID == id {
			return post
		}
	}
	return nil
}

// Posts returns copies of what channel shows, thread replies included.
func (p *Platform) Posts(channel string) []Post {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Post
	for _, post := range p.posts {
		if post.Channel == channel {
			out = append(out, *post)
		}
	}
	return out
}

// Thread returns the live posts in a thread.
func (p *Platform) Thread(channel, thread string) []Post {
	var out []Post
	for _, post := range p.Posts(channel) {
		if post.ThreadID == thread && !post.Deleted {
			out = append(out, post)
		}
	}
	return out
}

// Get returns one post by id.
func (p *Platform) Get(id string) (Post, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if post := p.find(id); post != nil {
		return *post, true
	}
	return Post{}, false
}

// Sends counts Send calls of a kind, failed ones included.
func (p *Platform) Sends(kind bot.OpKind) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sends[kind]
}

// Finds counts reconciliations.
func (p *Platform) Finds() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.finds
}

// Clock is a settable test clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC().Truncate(time.Microsecond)} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
