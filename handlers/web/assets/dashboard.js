// The dashboard's page: fetches /dashboard/data.json, fills the tiles and
// tables (text only: everything from the database goes through
// textContent) and draws the charts with Chart.js. It refreshes on its own.
'use strict';

(function () {
  const root = document.getElementById('dashboard');
  if (!root || typeof Chart === 'undefined') return;
  const days = root.dataset.days || '30';
  const refresh = (Number(root.dataset.refresh) || 30) * 1000;
  const zone = (Intl.DateTimeFormat().resolvedOptions().timeZone) || 'UTC';
  const palette = ['#2c7be5', '#e67e22', '#16a085', '#8e44ad', '#d35400', '#2c3e50', '#27ae60', '#7f8c8d'];

  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#5b6478';

  const $ = (id) => document.getElementById(id);
  const setText = (id, text) => { $(id).textContent = text; };

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  // duration writes seconds the way people say them: 42 min, 3 h 20 min, 2 d 4 h.
  function duration(s) {
    if (s == null || s <= 0) return '–';
    const m = Math.round(s / 60);
    if (m < 1) return '< 1 min';
    if (m < 60) return m + ' min';
    const h = Math.floor(m / 60), mm = m % 60;
    if (h < 48) return mm ? h + ' h ' + mm + ' min' : h + ' h';
    const d = Math.floor(h / 24), hh = h % 24;
    return hh ? d + ' d ' + hh + ' h' : d + ' d';
  }

  function percent(x) { return x == null ? '–' : Math.round(x * 100) + '%'; }

  function dayLabel(date) {
    const [y, m, d] = date.split('-').map(Number);
    const opts = days === '7' ? { weekday: 'short', day: 'numeric' } : { month: 'short', day: 'numeric' };
    return new Date(y, m - 1, d).toLocaleDateString(undefined, opts);
  }

  function safeLink(url) { return /^https?:\/\//i.test(url || '') ? url : ''; }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function link(url, text) {
    const a = document.createElement('a');
    a.href = url;
    a.textContent = text;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  function tiles(d) {
    const q = d.queue, p = d.overall, prev = d.previous;
    setText('q-unanswered', q.unanswered);
    setText('q-approval', q.awaiting_approval);
    setText('q-past-sla', q.past_sla);
    setText('p-items', p.items_in);
    setText('p-items-prev', 'previous ' + d.days + ' days: ' + prev.items_in);
    setText('p-answered', p.answered);
    setText('p-answered-share', percent(p.items_in ? p.answered_share : null) + ' of items in');
    setText('p-first-answer', duration(p.first_answer.median_seconds));
    setText('p-first-answer-p90', p.first_answer.n ? '90% within ' + duration(p.first_answer.p90_seconds) : 'no answer yet');
    setText('p-sla', percent(p.sla_compliance));
    setText('p-sla-counts', p.within_sla + ' in time, ' + p.past_sla + ' late');
    setText('p-approval', duration(p.approval.median_seconds));
    setText('p-approval-n', plural(p.approval.n, 'draft approved', 'drafts approved'));
    setText('p-members', p.members);
    setText('p-returning', p.returning + ' had written before');
  }

  function oldest(d) {
    const body = $('oldest');
    const rows = d.queue.oldest.map((w) => {
      const tr = document.createElement('tr');
      tr.append(cell(duration(w.waiting_seconds)), cell(w.route), cell(w.summary, 'summary'));
      const links = document.createElement('td');
      if (safeLink(w.link)) links.append(link(w.link, 'message'));
      if (safeLink(w.card_link)) links.append(link(w.card_link, 'card'));
      tr.append(links);
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = cell('Nothing waits for an answer.', 'empty');
      td.colSpan = 4;
      tr.append(td);
      rows.push(tr);
    }
    body.replaceChildren(...rows);
  }

  function routes(d) {
    const rows = d.routes.map((r) => {
      const tr = document.createElement('tr');
      const c = r.current;
      tr.append(
        cell(r.route),
        cell(c.items_in, 'num'),
        cell(c.answered, 'num'),
        cell(duration(c.first_answer.median_seconds), 'num'),
        cell(duration(c.first_answer.p90_seconds), 'num'),
        cell(percent(c.sla_compliance), 'num'),
        cell(r.queue.unanswered, 'num'),
        cell(r.queue.past_sla, 'num'),
      );
      return tr;
    });
    $('routes').replaceChildren(...rows);
  }

  // draw makes the chart on canvas id, or gives the one there new data.
  function draw(id, type, data, options) {
    const chart = Chart.getChart(id);
    if (chart) {
      chart.data = data;
      chart.update('none');
      return;
    }
    new Chart($(id), { type, data, options });
  }

  const whole = { beginAtZero: true, ticks: { precision: 0 } };

  function charts(d) {
    const labels = d.daily.map((x) => dayLabel(x.date));
    const sets = d.routes.map((r, i) => ({
      type: 'bar', label: r.route, stack: 'in', backgroundColor: palette[i % palette.length],
      data: d.daily.map((x) => (x.routes[r.route] || { in: 0 }).in),
    }));
    const other = d.daily.map((x) => x.in - Object.values(x.routes).reduce((n, c) => n + c.in, 0));
    if (other.some((n) => n > 0)) {
      sets.push({ type: 'bar', label: 'other routes', stack: 'in', backgroundColor: '#bdc3c7', data: other });
    }
    sets.push({
      type: 'line', label: 'answered', stack: 'answered', borderColor: '#1d2433', backgroundColor: '#1d2433',
      borderWidth: 2, pointRadius: 2, tension: 0, data: d.daily.map((x) => x.answered),
    });
    draw('chart-days', 'bar', { labels, datasets: sets }, {
      interaction: { mode: 'index', intersect: false },
      scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, whole) },
    });

    draw('chart-first-answer', 'bar', {
      labels: d.first_answer_histogram.map((b) => b.label),
      datasets: [{ label: 'items', backgroundColor: '#2c7be5', data: d.first_answer_histogram.map((b) => b.n) }],
    }, { plugins: { legend: { display: false } }, scales: { y: whole } });

    const sla = [{ name: 'all routes', p: d.overall }].concat(d.routes.map((r) => ({ name: r.route, p: r.current })));
    draw('chart-sla', 'bar', {
      labels: sla.map((s) => s.name),
      datasets: [{
        label: 'within SLA (%)',
        data: sla.map((s) => (s.p.sla_compliance == null ? null : Math.round(s.p.sla_compliance * 100))),
        backgroundColor: sla.map((s) => {
          const c = s.p.sla_compliance;
          return c == null ? '#bdc3c7' : c >= 0.9 ? '#27ae60' : c >= 0.7 ? '#e67e22' : '#c0392b';
        }),
        counts: sla.map((s) => s.p.within_sla + ' in time, ' + s.p.past_sla + ' late'),
      }],
    }, {
      indexAxis: 'y',
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (c) => c.formattedValue + '% · ' + c.dataset.counts[c.dataIndex] } },
      },
      scales: { x: { min: 0, max: 100, ticks: { callback: (v) => v + '%' } } },
    });

    const top = d.responders.slice(0, 10);
    draw('chart-responders', 'bar', {
      labels: top.map((r) => r.name),
      datasets: [{ label: 'replies published', backgroundColor: '#16a085', data: top.map((r) => r.n) }],
    }, { indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: whole } });
  }

  function status(text, error) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', !!error);
  }

  async function load() {
    try {
      const res = await fetch('/dashboard/data.json?days=' + encodeURIComponent(days) + '&tz=' + encodeURIComponent(zone), {
        credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' },
      });
      if (res.status === 401) {
        status('Signed out: reload the page to sign in again.', true);
        return;
      }
      const d = await res.json();
      if (!res.ok) throw new Error(d.error || res.statusText);
      tiles(d);
      oldest(d);
      routes(d);
      charts(d);
      root.dataset.loaded = d.generated_at;
      status('Updated ' + new Date().toLocaleTimeString() + ' · days in ' + d.time_zone, false);
    } catch (e) {
      status('Could not refresh: ' + e.message, true);
    }
    setTimeout(load, refresh);
  }

  load();
})();
