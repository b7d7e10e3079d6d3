package demo

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/liaison-bot/liaison/handlers/discord/discordfake"
	"github.com/liaison-bot/liaison/handlers/slack/slackfake"
)

// TestScript runs `liaison demo --script`: the real adapters, storage and
// worker between the two fakes, every step checked against the fakes.
func TestScript(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, logs bytes.Buffer
	err := Run(ctx, Options{Script: true, Out: &out, Log: &logs})
	t.Log("transcript:\n" + out.String())
	if logs.Len() > 0 {
		t.Log("Liaison's warnings:\n" + logs.String())
	}
	if err != nil {
		t.Fatalf("the script failed: %v", err)
	}
}

// TestScriptFails: when a step does not produce what it should, the script
// says which step and why, and Run returns an error (exit code 1).
func TestScriptFails(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := Run(ctx, Options{
		Script: true, Out: &out, stepWithin: 3 * time.Second,
		// Without Manage Webhooks in the forum, Liaison falls back to a
		// signed bot post: not the webhook post under Alice's name the
		// script expects.
		fakes: func(_ *slackfake.Options, d *discordfake.Options) {
			d.BotPermissions = map[string]int64{forumChannel: discordfake.PermAll &^ discordfake.PermManageWebhooks}
		},
	})
	t.Log("transcript:\n" + out.String())
	if err == nil || !strings.Contains(err.Error(), "step 5 (Bob, the manager, approves the draft)") {
		t.Fatalf("Run = %v, want the failure of step 5", err)
	}
	if want := "FAILED at step 5 (Bob, the manager, approves the draft): a webhook reply in Mia's forum post did not happen within 3s"; !strings.Contains(out.String(), want) {
		t.Errorf("the transcript does not say %q", want)
	}
}
