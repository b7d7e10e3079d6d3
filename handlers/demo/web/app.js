// Liaison demo page: draws the state the server streams (what the fake
// Slack and Discord recorded) and sends the visitor's actions back, as the
// person they picked. No framework: each state redraws the panes, keeping
// what was being typed, the focus and the scroll positions.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const safeURL = (u) => (typeof u === 'string' && (/^https?:\/\//.test(u) || /^\/[^/]/.test(u)) ? u : '');
const time = (ms) => (ms ? new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : '');

const ui = {
  state: null,
  me: localStorage.getItem('liaison-demo-me') || '',
  dtab: '', // Discord channel id
  post: '', // open forum post id
  stab: '', // Slack channel id
  replyTo: '', // #help message Mia answers
  editing: '', // Discord message being edited
  seen: {}, // per tab: how many messages were there when it was last shown
};

function person(id) { return (ui.state?.people || []).find((p) => p.id === id); }
function me() { return person(ui.me); }
function isMember() { return me()?.platform === 'discord'; }
function isStaff() { return me()?.platform === 'slack'; }

// ---- talking to the server -------------------------------------------------

async function act(body) {
  try {
    const res = await fetch('/api/act', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ as: ui.me, ...body }) });
    const out = await res.json().catch(() => ({}));
    if (!res.ok) { toast(out.error || `Error ${res.status}`); return null; }
    return out;
  } catch (e) {
    toast('The demo is not reachable: ' + e.message);
    return null;
  }
}

let toastTimer;
function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}

function connect() {
  const live = $('#live');
  const es = new EventSource('/api/events');
  es.addEventListener('state', (e) => {
    ui.state = JSON.parse(e.data);
    live.textContent = 'live';
    live.className = 'live on';
    render();
  });
  es.onerror = () => { live.textContent = 'reconnecting…'; live.className = 'live off'; };
}

// ---- drawing ---------------------------------------------------------------

// preserve redraws root with draw, keeping typed values, focus and scroll.
function preserve(root, draw) {
  const values = {};
  root.querySelectorAll('[data-key]').forEach((el) => { values[el.dataset.key] = el.type === 'checkbox' ? el.checked : el.value; });
  const active = document.activeElement;
  const focusKey = active && root.contains(active) ? active.dataset.key : null;
  const sel = focusKey && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
  const scrolls = {};
  root.querySelectorAll('[data-scroll]').forEach((el) => {
    scrolls[el.id] = { view: el.dataset.scroll, top: el.scrollTop, bottom: el.scrollHeight - el.scrollTop - el.clientHeight < 60 };
  });
  draw();
  root.querySelectorAll('[data-key]').forEach((el) => {
    const k = el.dataset.key;
    if (!(k in values)) return;
    if (el.type === 'checkbox') el.checked = values[k]; else el.value = values[k];
  });
  if (focusKey) {
    const el = root.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (el) { el.focus(); if (sel && el.setSelectionRange) el.setSelectionRange(sel[0], sel[1]); }
  }
  root.querySelectorAll('[data-scroll]').forEach((el) => {
    const s = scrolls[el.id];
    if (!s || s.view !== el.dataset.scroll || s.bottom) el.scrollTop = el.scrollHeight; else el.scrollTop = s.top;
  });
}

function render() {
  if (!ui.state) return;
  if (!person(ui.me)) ui.me = ui.state.people[0].id;
  renderPeople();
  preserve($('#discord'), renderDiscord);
  preserve($('#slack'), renderSlack);
  preserve($('#modal-root'), renderModal);
}

function avatar(url, cls = 'av') {
  const u = safeURL(url);
  return u ? `<img class="${cls}" src="${esc(u)}" alt="">` : `<span class="${cls}"></span>`;
}

function renderPeople() {
  $('#people').innerHTML = ui.state.people.map((p) => `
    <button class="person" data-person="${esc(p.handle)}" data-id="${esc(p.id)}" aria-pressed="${p.id === ui.me}">
      <img src="${esc(safeURL(p.avatar))}" alt="">
      <span><span class="pname">${esc(p.name)} <span class="pf">${p.platform === 'discord' ? 'Discord' : 'Slack'}</span></span>
      <span class="prole">${esc(p.role)}</span></span>
    </button>`).join('');
  const m = me();
  $('#can').innerHTML = m ? `<b>${esc(m.name)}</b>, ${esc(m.role)}: ${esc(m.can)}` : '';
}

// tabs draws a pane's channel tabs, with a dot on those with news.
function tabs(kind, channels, current, count, label) {
  return channels.map((c) => {
    const key = kind + c.id;
    const n = count(c);
    if (c.id === current) ui.seen[key] = n;
    const news = c.id !== current && n > (ui.seen[key] ?? 0);
    return `<button class="tab" role="tab" data-${kind}tab="${esc(c.name)}" data-id="${esc(c.id)}" aria-selected="${c.id === current}">${label(c)}${news ? '<span class="dot" title="new messages"></span>' : ''}</button>`;
  }).join('');
}

// ---- Discord ---------------------------------------------------------------

function dCount(c) {
  if (c.kind === 'forum') return (c.posts || []).reduce((n, p) => n + p.messages.length, 0);
  return (c.messages || []).reduce((n, m) => n + 1 + (m.thread?.length || 0), 0);
}

function renderDiscord() {
  const chans = ui.state.discord.channels;
  if (!chans.some((c) => c.id === ui.dtab)) ui.dtab = chans[0].id;
  const ch = chans.find((c) => c.id === ui.dtab);
  // A post just opened may not be in the state yet: ui.post waits for it.
  const post = ch.kind === 'forum' ? (ch.posts || []).find((p) => p.id === ui.post) : null;
  $('#dtabs').innerHTML = tabs('d', chans, ui.dtab, dCount, (c) => (c.kind === 'forum' ? '<span class="forum-icon" aria-hidden="true"></span>' : '# ') + esc(c.name));

  const body = $('#dbody');
  body.dataset.scroll = ch.id + '/' + ui.post;
  let html = '';
  if (ch.kind === 'text') {
    html += `<div class="topic"><b># ${esc(ch.name)}</b> · ${esc(ch.topic || '')}</div>`;
    const msgs = ch.messages || [];
    html += msgs.length ? msgs.map((m) => dMessage(m, ch) + dThread(m, ch)).join('') : '<p class="empty">No messages yet. As Mia, ask something below.</p>';
  } else if (post) {
    html += `<div class="post-head"><button class="back" data-back>← All posts</button><h2>${esc(post.title)}</h2></div>`;
    html += post.messages.map((m) => dMessage(m, ch)).join('');
  } else {
    html += `<div class="topic"><b>${esc(ch.name)} forum</b> · ${esc(ch.topic || '')}</div>`;
    if (isMember()) {
      html += `<form class="new-post" data-form="d-new-post">
        <b>New post</b>
        <input id="new-post-title" data-key="np:title" name="title" placeholder="Title" maxlength="100">
        <textarea id="new-post-text" data-key="np:text" name="text" rows="3" placeholder="What would you like to tell the Acme team?"></textarea>
        <div><button class="send" id="new-post-submit" type="submit">Post</button></div>
      </form>`;
    }
    const posts = [...(ch.posts || [])].reverse();
    html += '<div class="posts">' + (posts.length ? posts.map((p) => {
      const first = p.messages[0];
      const answers = p.messages.filter((m) => m.webhook).length;
      return `<button class="post-card" data-post="${esc(p.id)}">
        <div class="ptitle">${esc(p.title)}</div>
        <div class="psnip">${first ? esc(plain(first.html)).slice(0, 140) : ''}</div>
        <div class="pmeta">${esc(first?.author || '')} · ${p.messages.length} message${p.messages.length === 1 ? '' : 's'}${answers ? ' · answered by the team' : ''}</div>
      </button>`;
    }).join('') : '<p class="empty">No posts yet.</p>') + '</div>';
  }
  body.innerHTML = html;
  $('#dcomposer').innerHTML = dComposer(ch, post);
}

function plain(html) {
  const d = document.createElement('div');
  d.innerHTML = html;
  return d.textContent;
}

function dMessage(m, ch) {
  const mine = isMember() && m.author_id === ui.me && !m.deleted;
  let text;
  if (m.deleted) text = '<span class="text">This message was deleted.</span>';
  else if (ui.editing === m.id && mine) {
    text = `<form class="inline-form" data-form="d-edit" data-channel="${esc(m.channel)}" data-message="${esc(m.id)}">
      <textarea data-key="edit:${esc(m.id)}" name="text" rows="2">${esc(m.content)}</textarea>
      <button class="send" type="submit">Save</button><button class="back" type="button" data-cancel-edit>Cancel</button></form>`;
  } else text = `<div class="text">${m.html}</div>`;
  const embeds = (m.embeds || []).map((e) => `
    <div class="embed" style="border-left-color:${esc(e.color || '#1e1f22')}">
      ${e.author ? `<div class="eauthor">${avatar(e.author_icon, '')}${esc(e.author)}</div>` : ''}
      ${e.title ? `<div class="etitle">${esc(e.title)}</div>` : ''}
      ${e.html ? `<div>${e.html}</div>` : ''}
      ${e.fields?.length ? `<div class="efields">${e.fields.map((f) => `<div class="efield"><b>${esc(f.name)}</b>${f.html}</div>`).join('')}</div>` : ''}
      ${e.footer ? `<div class="efoot">${esc(e.footer)}</div>` : ''}
    </div>`).join('');
  const actions = mine && ui.editing !== m.id ? `<span class="mine-actions">
      ${ch.kind === 'text' ? `<button data-reply-to="${esc(m.id)}">Reply</button>` : ''}
      <button data-edit="${esc(m.id)}">Edit</button>
      <button data-delete="${esc(m.id)}" data-channel="${esc(m.channel)}">Delete</button></span>` : '';
  return `<div class="dmsg${m.deleted ? ' deleted' : ''}" data-id="${esc(m.id)}" data-webhook="${!!m.webhook}">
    ${m.reply_to ? `<div class="replyto">↪ <b>${esc(m.reply_to.author)}</b> ${esc(m.reply_to.snippet)}</div>` : ''}
    ${avatar(m.avatar)}
    <div class="meta"><span class="author">${esc(m.author)}</span>${m.badge ? ` <span class="badge">${esc(m.badge)}</span>` : ''}
      <span class="when">${time(m.at)}</span>${m.edited && !m.deleted ? '<span class="edited">(edited)</span>' : ''}${actions}</div>
    ${text}${embeds}
    ${m.pings?.length ? `<div><span class="pings" title="Whom Discord notifies for this message">notifies ${esc(m.pings.join(', '))}</span></div>` : ''}
  </div>`;
}

function dThread(m, ch) {
  if (!m.thread?.length) return '';
  return `<div class="thread-box"><div class="tname">Thread: ${esc(m.thread_name || '')}</div>${m.thread.map((t) => dMessage(t, ch)).join('')}</div>`;
}

function dComposer(ch, post) {
  if (!isMember()) {
    return '<p class="note">Acme Community is the public server. Staff do not post here by hand: they answer from Slack, and Liaison posts their approved reply under their name. Pick Mia to post.</p>';
  }
  if (ch.kind === 'text') {
    const to = ui.replyTo && (ch.messages || []).find((m) => m.id === ui.replyTo);
    return `${to ? `<div class="replying">Replying to <b>${esc(to.author)}</b> <button data-cancel-reply>cancel</button></div>` : ''}
      <form data-form="d-post" data-channel="${esc(ch.id)}"><textarea id="dcompose" data-key="dc:${esc(ch.id)}" name="text" rows="1" placeholder="Message #${esc(ch.name)}"></textarea>
      <button class="send" type="submit">Send</button></form>`;
  }
  if (post) {
    return `<form data-form="d-reply-post" data-thread="${esc(post.id)}"><textarea id="dcompose" data-key="dc:${esc(post.id)}" name="text" rows="1" placeholder="Reply in “${esc(post.title)}”"></textarea>
      <button class="send" type="submit">Send</button></form>`;
  }
  return '<p class="note">Open a post to reply in it, or start a new one above.</p>';
}

// ---- Slack -----------------------------------------------------------------

function myEphemerals(channel) {
  return ((ui.state.slack.ephemerals || {})[ui.me] || []).filter((m) => m.channel === channel);
}

function sCount(c) {
  return (c.messages || []).reduce((n, m) => n + 1 + (m.replies?.length || 0), 0) + myEphemerals(c.id).length;
}

function renderSlack() {
  const chans = ui.state.slack.channels;
  if (!chans.some((c) => c.id === ui.stab)) ui.stab = chans[0].id;
  const ch = chans.find((c) => c.id === ui.stab);
  $('#stabs').innerHTML = tabs('s', chans, ui.stab, sCount, (c) => '# ' + esc(c.name));

  const eph = myEphemerals(ch.id);
  const msgs = ch.messages || [];
  const top = [...msgs, ...eph.filter((e) => !e.thread || !msgs.some((m) => m.ts === e.thread))].sort((a, b) => a.at - b.at);
  const body = $('#sbody');
  body.dataset.scroll = ch.id;
  body.innerHTML = top.length
    ? top.map((m) => sMessage(m) + sThread(m, eph)).join('')
    : `<p class="empty">Nothing in #${esc(ch.name)} yet. Cards appear here when the community writes in ${ch.name === 'support' ? '#help' : 'the feedback forum'}.</p>`;
  $('#scomposer').innerHTML = isStaff()
    ? `<form data-form="s-post" data-channel="${esc(ch.id)}"><textarea id="scompose" data-key="sc:${esc(ch.id)}" name="text" rows="1" placeholder="Message #${esc(ch.name)}, or /liaison help"></textarea>
       <button class="send" type="submit">Send</button></form>`
    : '<p class="note">Acme HQ is the team\'s private workspace: Mia never sees it. It is shown so you can watch Liaison work. Pick Alice, Bob or Carol to act here.</p>';
}

function sMessage(m) {
  let content;
  if (m.deleted) content = '<div class="text">This message was deleted.</div>';
  else if (m.blocks?.length) content = `<div class="blocks">${m.blocks.map((b) => sBlock(b, m)).join('')}</div>`;
  else content = `<div class="text">${m.html || ''}</div>`;
  return `<div class="smsg${m.ephemeral ? ' ephemeral' : ''}${m.deleted ? ' deleted' : ''}" data-ts="${esc(m.ts)}">
    ${avatar(m.avatar)}
    <div class="meta"><span class="author">${esc(m.author)}</span>${m.badge ? ` <span class="badge">${esc(m.badge)}</span>` : ''}
      <span class="when">${time(m.at)}</span>${m.edited && !m.badge ? '<span class="when">(edited)</span>' : ''}
      ${m.ephemeral ? '<span class="only-you">Only visible to you</span>' : ''}</div>
    ${content}
    ${m.pings?.length ? `<div><span class="pings" title="Whom Slack notifies for this message">notifies ${esc(m.pings.join(', '))}</span></div>` : ''}
  </div>`;
}

function sButtons(buttons, m) {
  const can = isStaff();
  return `<div class="buttons">${buttons.map((b) => {
    if (b.url) return `<a class="kbtn" href="${esc(safeURL(b.url))}" target="_blank" rel="noopener">${esc(b.label)}</a>`;
    const confirm = b.confirm ? ` data-confirm="${esc(b.confirm.title + '\n\n' + b.confirm.text)}"` : '';
    return `<button class="kbtn ${esc(b.style || '')}" data-action="${esc(b.action_id)}" data-channel="${esc(m.channel)}" data-ts="${esc(m.ts)}"${confirm}${can ? '' : ' disabled title="Pick a staff member to click"'}>${esc(b.label)}</button>`;
  }).join('')}</div>`;
}

function sBlock(b, m) {
  switch (b.type) {
    case 'section':
      return `<div class="blk section"><div class="stext">${b.html || ''}${b.fields?.length ? `<div class="fields">${b.fields.map((f) => `<div>${f}</div>`).join('')}</div>` : ''}
        ${b.buttons?.length ? sButtons(b.buttons, m) : ''}</div>${b.image ? avatar(b.image, '') : ''}</div>`;
    case 'context':
      return `<div class="blk context">${(b.elements || []).map((e) => (e.image ? avatar(e.image, '') : `<span>${e.html}</span>`)).join('')}</div>`;
    case 'actions':
      return `<div class="blk">${sButtons(b.buttons || [], m)}</div>`;
    case 'header':
      return `<div class="blk header">${b.html}</div>`;
    case 'divider':
      return '<div class="blk divider"></div>';
    case 'image':
      return `<div class="blk image">${avatar(b.image, '')}</div>`;
  }
  return '';
}

function sThread(m, eph) {
  if (m.ephemeral) return '';
  const replies = [...(m.replies || []), ...eph.filter((e) => e.thread === m.ts)].sort((a, b) => a.at - b.at);
  const isCard = m.badge && (m.blocks || []).some((b) => b.type === 'actions');
  if (!replies.length && !isCard) return '';
  const n = (m.replies || []).length;
  return `<div class="sthread">
    ${n ? `<div class="count">${n} repl${n === 1 ? 'y' : 'ies'}</div>` : ''}
    ${replies.map(sMessage).join('')}
    ${isStaff() ? `<form class="inline-form" data-form="s-reply" data-channel="${esc(m.channel)}" data-thread="${esc(m.ts)}">
      <input data-key="sr:${esc(m.ts)}" name="text" placeholder="Reply in thread… (start with !reply to draft a public answer)">
      <button class="send" type="submit">Send</button></form>` : ''}
  </div>`;
}

// ---- Modal -----------------------------------------------------------------

function renderModal() {
  const root = $('#modal-root');
  const v = isStaff() ? (ui.state.slack.modals || {})[ui.me] : null;
  if (!v) { root.innerHTML = ''; return; }
  const field = (f) => {
    const key = `m:${v.view_id}:${f.block_id}`;
    let input;
    if (f.kind === 'textarea') input = `<textarea id="${esc(key)}" data-key="${esc(key)}" data-block="${esc(f.block_id)}" data-action-id="${esc(f.action_id)}">${esc(f.initial)}</textarea>`;
    else if (f.kind === 'text') input = `<input type="text" id="${esc(key)}" data-key="${esc(key)}" data-block="${esc(f.block_id)}" data-action-id="${esc(f.action_id)}" value="${esc(f.initial)}">`;
    else input = f.options.map((o) => `<label class="check"><input type="checkbox" data-key="${esc(key + ':' + o.value)}" data-block="${esc(f.block_id)}" data-action-id="${esc(f.action_id)}" value="${esc(o.value)}"${o.checked ? ' checked' : ''}> ${esc(o.label)}</label>`).join('');
    return `<div><label for="${esc(key)}">${esc(f.label)}${f.optional ? ' <span class="hint">(optional)</span>' : ''}</label>${input}
      ${f.hint ? `<div class="hint">${esc(f.hint)}</div>` : ''}${f.error ? `<div class="ferr">${esc(f.error)}</div>` : ''}</div>`;
  };
  root.innerHTML = `<div class="overlay"><form class="modal" id="modal" data-form="modal" data-view="${esc(v.view_id)}">
    <h2>${esc(v.title)}<span class="for">Slack form, for ${esc(me().name)}</span></h2>
    <div class="mbody">${(v.blocks || []).map((b) => sBlock(b, {})).join('')}${v.fields.map(field).join('')}</div>
    <div class="mfoot"><button type="button" id="modal-close" data-close-view="${esc(v.view_id)}">${esc(v.close || 'Cancel')}</button>
      ${v.submit ? `<button type="submit" class="submit" id="modal-submit">${esc(v.submit)}</button>` : ''}</div>
  </form></div>`;
}

// ---- Events ----------------------------------------------------------------

document.addEventListener('click', async (e) => {
  const t = e.target.closest('button');
  if (!t) return;
  const d = t.dataset;
  if (d.id && t.classList.contains('person')) {
    ui.me = d.id; ui.replyTo = ''; ui.editing = '';
    localStorage.setItem('liaison-demo-me', ui.me);
    render();
  } else if (d.dtab !== undefined) {
    ui.dtab = d.id; ui.post = ''; ui.replyTo = ''; render();
  } else if (d.stab !== undefined) {
    ui.stab = d.id; render();
  } else if (d.post) {
    ui.post = d.post; render();
  } else if (d.back !== undefined) {
    ui.post = ''; render();
  } else if (d.replyTo) {
    ui.replyTo = d.replyTo; render(); $('#dcompose')?.focus();
  } else if (d.cancelReply !== undefined) {
    ui.replyTo = ''; render();
  } else if (d.edit) {
    ui.editing = d.edit; render();
    const box = document.querySelector(`[data-key="edit:${CSS.escape(d.edit)}"]`);
    if (box) { box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
  } else if (d.cancelEdit !== undefined) {
    ui.editing = ''; render();
  } else if (d.delete) {
    if (confirm('Delete this message?')) await act({ do: 'delete', channel: d.channel, message: d.delete });
  } else if (d.action) {
    if (d.confirm && !confirm(d.confirm)) return;
    t.disabled = true;
    await act({ do: 'click', channel: d.channel, message: d.ts, action_id: d.action });
  } else if (d.closeView) {
    await act({ do: 'close', view: d.closeView });
  }
});

document.addEventListener('submit', async (e) => {
  const f = e.target;
  const kind = f.dataset.form;
  if (!kind) return;
  e.preventDefault();
  const text = f.elements.text?.value ?? '';
  const clear = () => f.querySelectorAll('[data-key]').forEach((el) => { if (el.type !== 'checkbox') el.value = ''; });
  let out = null;
  switch (kind) {
    case 'd-post':
      out = await act({ do: 'post', channel: f.dataset.channel, message: ui.replyTo, text });
      if (out) { clear(); ui.replyTo = ''; }
      break;
    case 'd-reply-post':
      if ((out = await act({ do: 'reply_post', thread: f.dataset.thread, text }))) clear();
      break;
    case 'd-new-post':
      out = await act({ do: 'open_post', title: f.elements.title.value, text });
      if (out) { clear(); ui.post = out.id; }
      break;
    case 'd-edit':
      if ((out = await act({ do: 'edit', channel: f.dataset.channel, message: f.dataset.message, text }))) ui.editing = '';
      break;
    case 's-post':
      if ((out = await act({ do: 'post', channel: f.dataset.channel, text }))) clear();
      break;
    case 's-reply':
      if ((out = await act({ do: 'reply', channel: f.dataset.channel, thread: f.dataset.thread, text }))) clear();
      break;
    case 'modal': {
      const values = {};
      f.querySelectorAll('[data-block]').forEach((el) => {
        const v = (values[el.dataset.block] ||= {});
        const a = el.dataset.actionId;
        if (el.type === 'checkbox') {
          if (el.checked) v[a] = v[a] ? v[a] + ',' + el.value : el.value;
          else v[a] ??= '';
        } else v[a] = el.value;
      });
      await act({ do: 'submit', view: f.dataset.view, values });
      break;
    }
  }
  if (out) render();
});

// Enter sends, Shift+Enter starts a new line, as in both chat clients.
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (e.key !== 'Enter' || e.shiftKey || t.tagName !== 'TEXTAREA' || t.closest('#modal')) return;
  if (t.form && t.form.dataset.form !== 'd-new-post') { e.preventDefault(); t.form.requestSubmit(); }
});

// A first visit opens the guide.
if (!ui.me) $('.howto').open = true;
connect();
