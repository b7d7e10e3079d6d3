// Package slackfake fakes one Slack workspace on 127.0.0.1 so that the real
// slack-go client and socketmode client can be exercised end to end, without
// the network and without a Slack account.
//
// It speaks Slack's wire protocols:
//
//   - the Web API under /api/<method> (form, query or JSON bodies; the token in
//     the "token" field or in "Authorization: Bearer"), with Slack's JSON
//     shapes, its error codes, scope checks and its rate limits (below),
//     answered by 429 and Retry-After;
//   - Socket Mode: apps.connections.open gives a ws:// URL that sends hello,
//     envelopes, websocket PINGs and disconnect frames, and wants an ack per
//     envelope within Options.AckTimeout (3 s). Several sockets may be open
//     with the same app token (an app's replicas): they take turns, and each
//     envelope goes to one of them. An Events API envelope not acknowledged
//     in time is sent again, to any open socket, with retry_attempt and
//     retry_reason, at most 3 times, after Options.RetryDelays (Slack's: at
//     once, 1 minute, 5 minutes); an interaction or a command is never sent
//     again: its Delivery is Failed, as the person saw Slack's error.
//     Envelopes queued while no socket is open wait for one;
//   - HTTP mode: signed POSTs (X-Slack-Signature v0) of events, interactivity
//     payloads and slash commands to URLs given by SetHTTPEndpoints; an event
//     answered with a non-2xx status or not answered in time is retried like
//     a Socket Mode envelope, with X-Slack-Retry-Num and X-Slack-Retry-Reason;
//   - response_url webhooks for interactions and slash commands.
//
// Tests act as the workspace's people with Post, Reply, PostFile, Edit, Delete,
// Join, Click, MessageShortcut, SubmitView, CloseView and SlashCommand, open
// and click the App Home's Home tab with OpenHome (OpenAppHome), ClickHome and
// ClickHomeAsShown,
// act as another app's incoming webhook with PostWebhook, and look at what the
// bot did with Messages, Thread, Ephemerals, Views, Home, Calls, Acks and
// Deliveries.
// WaitFor and Changes let a test or a live page wait for the next change
// without polling. Pings tells whom Slack would notify for a message, and
// Shown what it shows as text.
// Archive archives a channel (conversations.info says so, posts are refused).
// FailNext, DelayNext, SetRate and SetMethodRate inject failures, slowness and
// rate limits, and RateLimited counts the calls answered 429; DropSocket and
// Disconnect break or refresh the Socket Mode connection.
//
// Rate limits are Slack's by default (https://docs.slack.dev/apis/web-api/rate-limits
// and each method's page; see testdata/SOURCES.md):
//
//   - chat.postMessage: about one message a second per channel, "short bursts
//     >1 allowed": 1 a second after a burst of 3 (Options.RatePerChannel and
//     Burst, SetRate). A message refused for another reason spends nothing.
//     chat.postEphemeral and the files upload are not counted there: their
//     pages put them in Tier 4. Slack's workspace-wide limit on posting,
//     "several hundred messages per minute", has no figure and is off
//     (SetMethodRate sets one);
//   - every other method the bot calls, per workspace, by its tier, every
//     call counted: Tier 2 (20 a minute) usergroups.users.list; Tier 3 (50)
//     chat.update, chat.delete, conversations.history, .replies, .info and
//     .join, reactions.add; Tier 4 (100) chat.postEphemeral, users.info,
//     views.open, .push, .update and .publish, the files upload, api.test,
//     apps.event.authorizations.list; chat.getPermalink and auth.test are
//     "special" ("hundreds of requests per minute") and held to 100. A
//     minute's calls may come at once (DefaultMethodRates, Options.MethodRates,
//     SetMethodRate). apps.connections.open (Tier 1 on Slack) is not limited:
//     slack-go waits a 429's Retry-After before it reconnects, and Socket Mode
//     tests reconnect often.
//
// Everything the fake records is safe for concurrent use, and Close stops
// every goroutine it started.
//
// Limits, on purpose: one workspace and one app; public and private channels
// only (no DMs, MPIMs, Enterprise Grid or shared channels); of the files API
// only the upload flow (files.go), a file a person shares being a link; no
// global shortcuts, dialogs, attachments actions or select-menu
// suggestions; blocks are checked for their outline (known
// block types, unique block_id, counts) and for the Block Kit limits of the
// blocks and elements listed in limits.go (section fields, button and
// confirmation texts, check boxes, text inputs, modal titles…), not against
// the whole Block Kit schema; only the bot's membership decides which message events it receives (as if it
// subscribed to message.channels and message.groups). The payload shapes
// follow Slack's documented examples listed in testdata/SOURCES.md.
//
// Two clocks are used: Options.Now stamps messages and governs trigger_id
// expiry, response_url expiry and the rate limits, so tests can move time;
// ack timeouts, pings and request signatures use the real clock, because the
// client under test does.
package slackfake
