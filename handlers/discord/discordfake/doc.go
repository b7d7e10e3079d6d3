// Package discordfake is a fake Discord — REST API v9 and the Gateway — served on 127.0.0.1 for
// end-to-end tests of Liaison's discordgo-based adapter and for the `liaison demo` page.
//
// The real SDK talks to it unchanged: discordgo builds its endpoint URLs at init from
// https://discord.com/api/v9/, so the fake hands out an http.RoundTripper that rewrites
// discord.com, gateway.discord.gg and the CDN hosts to itself, and answers GET /gateway with
// ws://127.0.0.1:PORT/gateway, which discordgo then dials. Configure does both on a session:
//
//	f, err := discordfake.New(discordfake.Options{})
//	...
//	defer f.Close()
//	s, _ := discordgo.New(f.BotToken())                 // "Bot <token>"
//	f.Configure(s)                                       // s.Client and s.Dialer
//	s.Identify.Intents = discordgo.IntentsAllWithoutPrivileged | discordgo.IntentMessageContent
//	err = s.Open()                                       // Hello → Identify → READY, GUILD_CREATE
//
// Close the discordgo session before the fake: an open session whose gateway vanishes keeps
// reconnecting (with back-off) until it is closed.
//
// # discordgo behaviour the tests pin down
//
//   - Gateway: GET /api/v9/gateway gives the URL; discordgo appends "/" and "?v=9&encoding=json",
//     caches it for reconnects and ignores resume_gateway_url. After a dropped connection its
//     Close waits one second, then it reconnects and sends Resume with its last seq; replayed
//     dispatches reach the handlers before RESUMED. On op 7 it closes with 1012 and resumes; on
//     op 9 it identifies again on the same connection. Session.Close sends 1000, which ends the
//     session, so the next Open resumes, gets op 9 and identifies. A Close right after Open can
//     race with discordgo's first heartbeat, and the failed heartbeat then reconnects the
//     session: wait for GatewayInfo.Heartbeats > 0 before closing.
//   - Rate limits: discordgo buckets by URL, query included, and waits by itself when
//     X-RateLimit-Remaining reaches 0. With ShouldRetryOnRateLimit (the default) a 429 emits a
//     *discordgo.RateLimit event, sleeps retry_after and retries, without limit; with it off
//     (or discordgo.WithRetryOnRatelimit(false)) the call returns *discordgo.RateLimitError.
//     Webhook executions into different threads are different discordgo buckets but one
//     Discord bucket, so they meet 429s discordgo did not foresee. 502s are retried
//     MaxRestRetries times. Other errors are *discordgo.RESTError with Message.Code.
//   - WebhookMessageEdit/Delete cannot pass thread_id; messages in threads need a request built
//     with s.RequestWithBucketID and "?thread_id=".
//
// # What it fakes faithfully
//
//   - Gateway: op 10 Hello, op 2 Identify (token, intents, 4004 on a bad token, 4013/4014 on
//     invalid or unapproved privileged intents), READY with unavailable guild stubs, then
//     GUILD_CREATE; op 1 heartbeats answered by op 11; op 6 Resume replays the dispatches after
//     the client's seq and sends RESUMED, or op 9 Invalid Session(false) for an unknown session;
//     op 7 Reconnect (SendReconnect), op 9 (InvalidateSession), abrupt drops (DropGateway). A
//     client close with 1000/1001 ends its session, as on Discord. READY is zlib-compressed
//     when Identify asks for compress, which exercises discordgo's decompression.
//   - Intents: GUILD_MESSAGES/DIRECT_MESSAGES gate message events, GUILDS gates GUILD_CREATE and
//     THREAD_CREATE, GUILD_WEBHOOKS gates WEBHOOKS_UPDATE. Without MESSAGE_CONTENT the content,
//     embeds, attachments and components of guild messages are blanked unless the app sent them
//     or they mention the bot. An unapproved MESSAGE_CONTENT also blanks REST reads.
//   - REST: Discord's JSON shapes (see testdata/SOURCES.md), its error bodies
//     {"message","code"[,"errors"]} and codes (10003, 10008, 10015, 10062, 40060, 50001, 50005,
//     50006, 50013, 50027, 50035, 50109, 160004, 220001, 220003), bot-token auth, the bot's
//     permissions (below), rate-limit headers on every response and 429s with Discord's body and
//     headers. GET /applications/@me gives the application with its flags (the Message Content
//     intent's, per Options.UnapprovedIntents).
//   - Permissions, as Discord holds them (perms.go): guild roles with a permission bitset, the
//     @everyone role (the guild's ID, a new guild's defaults), the bot's managed role
//     (BotRoleID, every permission but Administrator unless changed), members' roles, channels'
//     permission_overwrites; threads take their parent's. The bot's permissions in a channel are
//     computed from them by Discord's documented algorithm (owner, Administrator, @everyone
//     overwrite, role overwrites combined, member overwrite last), and the REST routes enforce
//     exactly that: View Channel (50001), Send Messages or Send Messages in Threads, Attach
//     Files, Read Message History (listings come back empty), Manage Webhooks, Create
//     Public/Private Threads, Manage Threads or Manage Channels for edits, Mention Everyone
//     (50013). SetBotPermissions and Options.BotPermissions write a member overwrite for the
//     bot; SetRolePermissions, SetMemberRoles and SetOverwrite change the rest at run time.
//   - Rate limits, Discord's by default (sources in testdata/SOURCES.md): creating a message,
//     5 per 5 s per channel (a thread is a channel); executing a webhook, 5 per 2 s per webhook
//     whatever the thread; other routes 50 per second per route and top-level resource
//     (Options.DefaultRouteLimit); a global 50 requests per second per bot over every route
//     but interaction callbacks and webhooks executed by token (Options.GlobalLimit,
//     SetGlobalLimit). Every request counts, a refused one too. SetRouteLimit changes or lifts
//     a route's limit. RateLimited counts the 429s answered.
//   - Invalid requests: 10,000 answers of 401, 403 or 429 (but 429s of scope "shared") within
//     10 minutes get the client blocked for an hour, every REST request answered 429 with the
//     wait (Options.InvalidRequestLimit, InvalidRequestWindow and InvalidRequestBlock lower the
//     figures for tests). InvalidRequests counts them, BlockedUntil says when the block ends.
//   - Limits: a body that breaks one of Discord's limits gets 50035 with Discord's nested errors:
//     content, embeds (each field and the 6000 total, http(s) URLs), components (5 rows of 5,
//     custom_id 1–100, button labels ≤ 80, link URLs), modals (5 rows, title ≤ 45, text input
//     label ≤ 45, placeholder ≤ 100, lengths ≤ 4000), thread names, webhook usernames, commands.
//   - Webhooks: create (MANAGE_WEBHOOKS, name rules), execute with wait, thread_id, thread_name,
//     username/avatar_url overrides; message edit/delete/get that need ?thread_id= for messages
//     in threads (10008 without it, as on Discord).
//   - Faults: Inject makes matching requests fail with a status and code (a 429 with Discord's
//     rate-limit body and headers), or go unanswered: held until the client gives up (a
//     timeout) or reset (connection reset by peer), before or after they took effect.
//   - Sessions: several gateway sessions of one token may run at once, as on Discord, and each
//     receives every dispatch, interactions included; GatewayInfo.Sessions counts them. A
//     message posted while no session is connected reaches none, and REST lists it.
//   - Message listing: limit 1–100 (default 50); before, after and around are snowflakes and
//     mutually exclusive, as documented; newest first whatever the direction, after giving the
//     oldest messages after the id; no messages without READ_MESSAGE_HISTORY.
//   - Threads: ArchiveThread archives one (THREAD_UPDATE); it leaves the active list for its
//     parent's public archived list (most recently archived first, before=ISO8601, limit), and
//     a new message in it unarchives it.
//   - Interactions: components, modal submits, slash commands and context-menu commands on a
//     message or a user (menus.go) sent as INTERACTION_CREATE;
//     callbacks 4/5/6/7/9 within 3 s (10062 after, and InteractionFailed reports that Discord
//     showed the person a failure), once (40060 after); follow-ups and
//     @original for 15 minutes (50027 after); the first follow-up after a type-5 defer edits the
//     "thinking" message, as Discord documents.
//   - Mentions: mentions, mention_roles and mention_everyone are computed from the content and
//     allowed_mentions (default: parse everything; an edit that changes content without
//     allowed_mentions re-parses with the defaults). Pings reports who a message really pings.
//
// # What is simplified
//
//   - One application, one bot user, one shard. Sessions never expire; the gateway's own rate
//     limit (120 events/minute) and op 3/4/8 are ignored.
//   - Rate limits are fixed windows (real clock) per route key and top-level resource
//     (channel, guild, webhook id+token); Discord shares some buckets between routes, the fake
//     does not. Discord's hidden limit on webhook messages per channel (about 30 a minute,
//     seen but never documented) is not modelled. The invalid-request block, Cloudflare's on
//     Discord, answers REST with Discord's JSON (discordgo reads its retry_after); the gateway
//     is not blocked.
//   - Only the bot's permissions are computed and enforced; members may do anything in the
//     guilds they belong to. Embed Links is not enforced (Discord's effect on a bot's embeds is
//     not documented). Role positions play no part (only the hierarchy rules for managing
//     roles and members use them, and the fake has no such routes).
//   - Embeds keep the common fields (title, description, url, timestamp, color, footer, image,
//     thumbnail, author, fields); components keep the fields of buttons, selects, text inputs
//     and text displays. The bytes of a file the bot uploads are kept (AttachmentData), but the
//     CDN serves a 1×1 PNG for any path.
//   - No reactions, pins, polls, stickers, voice, presences, audit logs or invites. Threads
//     archive only through ArchiveThread, never by themselves; there are no private archived
//     lists.
//
// Everything is in memory, guarded by one mutex, and safe for concurrent use; Close stops every
// goroutine the fake started.
package discordfake
