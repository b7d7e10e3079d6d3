package slack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/liaison-bot/liaison/bot"
)

// The App Home: Slack tells the app when a person opens its Home tab
// (app_home_opened), the domain records it and enqueues the Home's
// publication, and the outbox publishes it (views.publish) as the domain
// rendered it at that moment. Buttons on the Home are the cards' buttons;
// their clicks come as block_actions from a view, with no channel to
// answer in (see click).

const (
	// homeBlocksMax: blocks in a Home tab view
	// (https://docs.slack.dev/reference/views/home-tab-views).
	homeBlocksMax = 100
	// headerTextMax: a header block's text
	// (https://api.slack.com/reference/block-kit/blocks#header).
	headerTextMax = 150
	// homeEvery and homeBurst pace views.publish, Tier 4 on Slack: 100+
	// calls a minute per workspace
	// (https://docs.slack.dev/reference/methods/views.publish). A burst of
	// ten leaves room for the app's other Tier 4 calls.
	homeEvery = 600 * time.Millisecond
	homeBurst = 10
	// imageAltMax, imageURLMax: an image element's alt_text and image_url
	// (https://api.slack.com/reference/block-kit/block-elements#image).
	imageAltMax = 2000
	imageURLMax = 3000
	// homeTab is the tab of app_home_opened that is the Home; the other,
	// "messages", is the app's direct messages, which Liaison does not use.
	homeTab = "home"
)

// homeOpened tells the domain a person opened the Home tab, as Slack names
// them (the event's user), with the groups they hold.
func (c *Conn) homeOpened(ctx context.Context, ev *slackevents.AppHomeOpenedEvent) error {
	if ev.Tab != homeTab || ev.User == "" {
		return nil
	}
	if err := c.domain.HomeOpened(ctx, c.actor(ctx, ev.User)); err != nil {
		return fmt.Errorf("app_home_opened by %s: %w", ev.User, err)
	}
	return nil
}

// publishHome publishes a person's Home. It replaces the whole view, so a
// retry after an unknown outcome is harmless.
func (c *Conn) publishHome(ctx context.Context, op *bot.Op) (bot.Result, error) {
	if op.Home == nil || op.UserID == "" {
		return bot.Result{}, bot.Permanent(errors.New("no Home or no user"))
	}
	_, err := c.api.PublishViewContext(ctx, slackapi.PublishViewContextRequest{UserID: op.UserID, View: homeView(op.Home)})
	if err != nil {
		return bot.Result{}, fmt.Errorf("views.publish for %s: %w", op.UserID, err)
	}
	return bot.Result{}, nil
}

// homeView lays out a Home: its title, then each section under a divider
// and a header, its entries each a section (an avatar beside it) and their
// buttons, and small print. The domain bounds its lists; the view is cut
// at Slack's count all the same.
func homeView(h *bot.HomeView) slackapi.HomeTabViewRequest {
	var blocks []slackapi.Block
	add := func(bs ...slackapi.Block) {
		for _, b := range bs {
			if b != nil {
				blocks = append(blocks, b)
			}
		}
	}
	if h.Title != "" {
		add(header(h.Title))
	}
	if h.Intro != "" {
		add(contextBlock(escape(h.Intro)))
	}
	for _, sec := range h.Sections {
		add(slackapi.NewDividerBlock())
		if sec.Title != "" {
			add(header(sec.Title))
		}
		if len(sec.Entries) == 0 && sec.Empty != "" {
			add(section(escape(sec.Empty)))
		}
		for _, e := range sec.Entries {
			add(entryBlock(e))
			add(actionBlocks(e.Actions)...)
		}
		if sec.More != "" {
			add(contextBlock(escape(sec.More)))
		}
	}
	if len(blocks) > homeBlocksMax {
		blocks = blocks[:homeBlocksMax]
	}
	return slackapi.HomeTabViewRequest{Type: slackapi.VTHomeTab, Blocks: slackapi.Blocks{BlockSet: blocks}}
}

func header(text string) slackapi.Block {
	return slackapi.NewHeaderBlock(plain(clipPlain(text, headerTextMax)))
}

// entryBlock shows an entry: its title in bold, its lines, its links, and
// its picture beside it when Slack can show it.
func entryBlock(e bot.HomeEntry) slackapi.Block {
	var lines []string
	if e.Title != "" {
		lines = append(lines, "*"+escape(e.Title)+"*")
	}
	lines = append(lines, escapeAll(e.Lines)...)
	var links []string
	for _, l := range e.Links {
		links = append(links, link(l.URL, l.Text))
	}
	if len(links) > 0 {
		lines = append(lines, strings.Join(links, " · "))
	}
	if len(lines) == 0 {
		return nil
	}
	var img *slackapi.Accessory
	if alt := firstOf(e.ImageAlt, e.Title); safeURL(e.ImageURL) && len(e.ImageURL) <= imageURLMax && alt != "" {
		img = slackapi.NewAccessory(slackapi.NewImageBlockElement(e.ImageURL, clipPlain(alt, imageAltMax)))
	}
	return slackapi.NewSectionBlock(md(clip(strings.Join(lines, "\n"), textObjectMax)), nil, img)
}

// replyModal shows the domain's answer to a click on the Home, which has
// no channel to answer in, in a small window with no submit button.
func replyModal(text string) slackapi.ModalViewRequest {
	return slackapi.ModalViewRequest{
		Type:   slackapi.VTModal,
		Title:  plain(clipPlain(bot.HomeReplyTitle, modalTitleMax)),
		Blocks: slackapi.Blocks{BlockSet: sections(text)},
	}
}
