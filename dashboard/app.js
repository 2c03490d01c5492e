/* Global Talent Pulse dashboard: one page, four views chosen by the URL
 * (#/ overview, #/skill/ID, #/region/CODE, #/rising, with ?hours=&top=&metric=
 * so a link can be shared), each fetching its APIs (docs/dashboard.md)
 * every few seconds and drawing them with plain SVG and tables. Every string
 * from the data is put into the page as a text node (textContent) or an
 * attribute value, never parsed as HTML. */
'use strict';

(function () {
  const REFRESH_MS = 5000;
  const SVGNS = 'http://www.w3.org/2000/svg';
  /* Okabe-Ito: distinguishable with the common colour-vision deficiencies;
   * dash patterns make the series distinct without colour too. */
  const COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#000000'];
  const DASHES = ['', '8 4', '2 3', '10 3 2 3', '4 4', '1 2', '12 4', '6 2 2 2'];
  /* viridis stops: perceptually uniform and colour-blind safe */
  const VIRIDIS = ['#440154', '#414487', '#2a788e', '#22a884', '#7ad151', '#fde725'];
  const NODATA = '#e6e8eb';

  const $ = (id) => document.getElementById(id);
  let selectedSkill = '';
  let mapReady = false;
  let lastPulse = null;
  let timer = null;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    const e = document.createElementNS(SVGNS, tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  const fmt = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : '–');

  async function getJSON(url) {
    const r = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) throw new Error((body && body.error) || ('HTTP ' + r.status));
    return body;
  }

  function hex2rgb(h) { return [1, 3, 5].map((i) => parseInt(h.substr(i, 2), 16)); }
  function ramp(t) {
    t = Math.max(0, Math.min(1, t));
    const x = t * (VIRIDIS.length - 1), i = Math.min(Math.floor(x), VIRIDIS.length - 2), f = x - i;
    const a = hex2rgb(VIRIDIS[i]), b = hex2rgb(VIRIDIS[i + 1]);
    return 'rgb(' + a.map((v, k) => Math.round(v + (b[k] - v) * f)).join(',') + ')';
  }
  /* sqrt scale: a few big regions should not wash out the rest */
  const shade = (v, max) => (v > 0 && max > 0 ? ramp(Math.sqrt(v / max)) : NODATA);

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function hourText(label) { /* "2024-03-15-10" -> "15 Mar 10:00" */
    const m = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})$/.exec(label || '');
    if (!m) return String(label);
    const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][+m[2] - 1];
    return (+m[3]) + ' ' + mon + ' ' + m[4] + ':00';
  }

  /* ---- tooltip ---- */
  const tip = () => $('tooltip');
  function showTip(x, y, rows, title) {
    const t = tip();
    clear(t);
    if (title) t.appendChild(el('div', { class: 'tt-title' }, title));
    for (const r of rows) {
      const row = el('div', { class: 'row' });
      const name = el('span');
      if (r.color) { const sw = el('span', { class: 'sw' }); sw.style.background = r.color; name.appendChild(sw); }
      name.appendChild(document.createTextNode(r.label));
      row.appendChild(name);
      row.appendChild(el('b', {}, r.value));
      t.appendChild(row);
    }
    t.hidden = false;
    const w = t.offsetWidth, h = t.offsetHeight;
    t.style.left = Math.max(4, Math.min(window.innerWidth - w - 4, x + 12)) + 'px';
    t.style.top = Math.max(4, Math.min(window.innerHeight - h - 4, y + 12)) + 'px';
  }
  function hideTip() { tip().hidden = true; }

  /* ---- state in the URL: #/, #/skill/ID, #/region/CODE, #/rising; ?hours=&top=&metric= ---- */
  const RANGES = [6, 24, 168], TOPS = [5, 10, 20];
  function parseHash() {
    const h = location.hash.replace(/^#/, '') || '/';
    const [path, query] = h.split('?');
    const parts = path.split('/').filter(Boolean).map((x) => { try { return decodeURIComponent(x); } catch (e) { return ''; } });
    const q = new URLSearchParams(query || '');
    const st = { view: 'overview', id: '', hours: 24, top: 0, metric: 'mentions' };
    if (parts[0] === 'skill' && parts[1]) { st.view = 'skill'; st.id = parts[1]; }
    else if (parts[0] === 'region' && parts[1]) { st.view = 'region'; st.id = parts[1].toUpperCase(); }
    else if (parts[0] === 'rising') st.view = 'rising';
    const hours = +q.get('hours');
    if (RANGES.includes(hours)) st.hours = hours;
    const top = +q.get('top');
    if (TOPS.includes(top)) st.top = top;
    if (q.get('metric') === 'share') st.metric = 'share';
    return st;
  }
  function hashOf(st) {
    let path = '/';
    if (st.view === 'skill') path = '/skill/' + encodeURIComponent(st.id);
    else if (st.view === 'region') path = '/region/' + encodeURIComponent(st.id);
    else if (st.view === 'rising') path = '/rising';
    const q = new URLSearchParams();
    if (st.hours !== 24) q.set('hours', st.hours);
    if (st.top) q.set('top', st.top);
    if (st.metric === 'share') q.set('metric', 'share');
    const qs = q.toString();
    return '#' + path + (qs ? '?' + qs : '');
  }
  function go(change) {
    const st = Object.assign(parseHash(), change);
    const h = hashOf(st);
    if (h === location.hash) render(); else location.hash = h;
  }
  const skillHref = (id) => hashOf(Object.assign(parseHash(), { view: 'skill', id }));
  const regionHref = (id) => hashOf(Object.assign(parseHash(), { view: 'region', id }));
  const rangeText = (h) => (h === 168 ? 'last 7 d' : 'last ' + h + ' h');
  const pct = (x) => (typeof x === 'number' ? (x * 100).toFixed(x < 0.001 && x > 0 ? 3 : 1) + ' %' : '–');
  const pp = (x) => (typeof x === 'number' ? (x > 0 ? '+' : '') + (x * 100).toFixed(2) + ' pp' : '–');

  /* ---- tables: every chart has one; what is shown is what "Export CSV" writes ---- */
  let shown = [];
  function table(container, caption, headers, rows, opts) {
    /* rows: arrays of cells; a cell is a value or {text, href, bar (0..1), csv} */
    opts = opts || {};
    const box = $(container);
    clear(box);
    const t = el('table', { class: 'data' + (opts.cls ? ' ' + opts.cls : '') });
    t.appendChild(el('caption', {}, caption));
    const thead = el('thead'), hr = el('tr');
    headers.forEach((h) => hr.appendChild(el('th', { scope: 'col' }, h)));
    thead.appendChild(hr);
    t.appendChild(thead);
    const tb = el('tbody');
    const csvRows = [];
    rows.forEach((r) => {
      const tr = el('tr', opts.key ? { 'data-key': opts.key(r) } : {});
      const csv = [];
      r.forEach((c, i) => {
        const cell = c !== null && typeof c === 'object' ? c : { text: c };
        const td = el(i === 0 ? 'th' : 'td', i === 0 ? { scope: 'row' } : {});
        if (cell.href) td.appendChild(el('a', { href: cell.href }, cell.text));
        else td.textContent = cell.text === undefined || cell.text === null ? '–' : String(cell.text);
        if (typeof cell.bar === 'number') {
          const b = el('span', { class: 'barfill', 'aria-hidden': 'true' });
          b.style.width = Math.max(0, Math.min(100, cell.bar * 100)).toFixed(1) + '%';
          td.appendChild(b);
          td.classList.add('hasbar');
        }
        tr.appendChild(td);
        csv.push(cell.csv !== undefined ? cell.csv : cell.text);
      });
      tb.appendChild(tr);
      csvRows.push(csv);
    });
    if (!rows.length) {
      const tr = el('tr');
      tr.appendChild(el('td', { colspan: headers.length, class: 'empty' }, opts.empty || 'nothing to show yet'));
      tb.appendChild(tr);
    }
    t.appendChild(tb);
    box.appendChild(t);
    shown.push({ title: caption, headers, rows: csvRows });
  }
  function csvCell(v) {
    let s = v === undefined || v === null ? '' : String(v);
    if (/^[=+\-@]/.test(s) && typeof v !== 'number') s = "'" + s;
    return /[",\r\n']/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function exportCsv() {
    const lines = ['# Global Talent Pulse, ' + location.hash + ', ' + new Date().toISOString()];
    for (const t of shown) {
      lines.push('', csvCell(t.title));
      lines.push(t.headers.map(csvCell).join(','));
      for (const r of t.rows) lines.push(r.map(csvCell).join(','));
    }
    return lines.join('\r\n') + '\r\n';
  }
  function download() {
    const blob = new Blob([exportCsv()], { type: 'text/csv;charset=utf-8' });
    const a = el('a', { href: URL.createObjectURL(blob), download: 'talent-pulse-' + (parseHash().view) + '.csv' });
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  /* ---- line charts (the Pulse, a skill's hours, a region's postings) ---- */
  function lineChart(svgId, hours, series, opts) {
    const svg = $(svgId);
    clear(svg);
    /* draw in CSS pixels so text keeps its size on a phone */
    const W = Math.round(Math.max(300, Math.min(900, svg.clientWidth || 800)));
    const H = opts.height || (W < 600 ? 280 : 340), L = opts.share ? 76 : 62, R = 14, T = 14, B = 56;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    if (!hours.length || !series.length) {
      svg.appendChild(sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'tick' }, 'no data yet'));
      return;
    }
    const fy = opts.share ? (v) => pct(v) : (v) => fmt(Math.round(v));
    let max = 0;
    for (const s of series) for (const c of s.values) if (typeof c === 'number') max = Math.max(max, c);
    max = opts.share ? Math.max(max, 1e-6) * 1.1 : niceMax(max);
    const n = hours.length;
    const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - (v || 0) / max);

    const axis = sv('g', { class: 'axis' });
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4, yy = y(v);
      axis.appendChild(sv('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'gridline' }));
      axis.appendChild(sv('text', { x: L - 6, y: yy + 4, 'text-anchor': 'end' }, fy(v)));
    }
    const step = Math.max(1, Math.ceil(n / Math.max(3, Math.floor((W - L - R) / 60))));
    for (let i = 0; i < n; i += step) {
      axis.appendChild(sv('line', { x1: x(i), x2: x(i), y1: H - B, y2: H - B + 4 }));
      const lbl = n > 48 ? hours[i].slice(8, 10) + '/' + hours[i].slice(5, 7) : hours[i].slice(11) + ':00';
      axis.appendChild(sv('text', { x: x(i), y: H - B + 18, 'text-anchor': 'middle' }, lbl));
    }
    axis.appendChild(sv('line', { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    axis.appendChild(sv('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-title' },
      (W < 600 ? 'hour (UTC)' : 'hour (UTC), ' + hourText(hours[0]) + ' – ' + hourText(hours[n - 1]))));
    axis.appendChild(sv('text', { x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'axis-title',
      transform: 'rotate(-90 14 ' + (T + H - B) / 2 + ')' }, opts.yTitle));
    svg.appendChild(axis);

    /* the newest hour is still filling: mark it so a dip there is not read as a fall */
    const pw = n > 1 ? (W - L - R) / (n - 1) / 2 : 10;
    const partial = sv('g', { class: 'partial' });
    partial.appendChild(sv('rect', { x: x(n - 1) - pw, y: T, width: pw + R, height: H - T - B }));
    partial.appendChild(sv('text', { x: x(n - 1) - 4, y: T + 12, 'text-anchor': 'end' }, 'partial hour'));
    partial.appendChild(sv('title', {}, hourText(hours[n - 1]) + ' UTC is still being counted'));
    svg.appendChild(partial);

    series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      let d = '';
      s.values.forEach((c, i) => { d += (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(c).toFixed(1); });
      const path = sv('path', { d, class: opts.cls || 'line', stroke: color, 'data-skill': s.id });
      if (DASHES[k]) path.setAttribute('stroke-dasharray', DASHES[k]);
      path.appendChild(sv('title', {}, s.name + (s.note ? ': ' + s.note : '')));
      if (opts.onPick) {
        /* a wide transparent twin under the line: a 2.5 px stroke is hard to hit */
        const hit = sv('path', { d, class: 'hit', 'aria-hidden': 'true' });
        hit.addEventListener('click', () => opts.onPick(s.id));
        svg.appendChild(hit);
        path.setAttribute('tabindex', '0');
        path.setAttribute('role', 'link');
        path.setAttribute('aria-label', s.name + ' (open the skill)');
        path.addEventListener('click', () => opts.onPick(s.id));
        path.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); opts.onPick(s.id); } });
      }
      svg.appendChild(path);
    });

    const guide = sv('line', { class: 'guide', y1: T, y2: H - B, x1: -10, x2: -10 });
    svg.appendChild(guide);
    const move = (ev) => {
      const box = svg.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * W;
      const i = Math.max(0, Math.min(n - 1, Math.round(((px - L) / (W - L - R)) * (n - 1))));
      guide.setAttribute('x1', x(i)); guide.setAttribute('x2', x(i));
      showTip(ev.clientX, ev.clientY, series.map((s, k) => ({
        label: s.name, value: fy(s.values[i]), color: COLORS[k % COLORS.length],
      })), hourText(hours[i]) + ' UTC' + (i === n - 1 ? ' (partial)' : ''));
    };
    svg.onmousemove = move;
    svg.onmouseleave = () => { hideTip(); guide.setAttribute('x1', -10); guide.setAttribute('x2', -10); };
  }

  /* ---- overview: the Pulse ---- */
  function drawPulse(data, st) {
    lastPulse = data;
    const share = st.metric === 'share';
    const series = (data.series || []).map((s) => ({
      id: s.skill, name: s.name, values: share ? s.shares : s.counts,
      note: share ? pct(s.share) + ' of postings' : fmt(s.total) + ' mentions',
    }));
    $('pulse-sub').textContent = (share ? 'share of postings' : 'hourly mentions') + ' of the top ' +
      (st.top || 5) + ' skills, ' + rangeText(st.hours) + ' (click a line for the skill)';
    lineChart('pulse-chart', data.hours || [], series, {
      cls: 'series', share, yTitle: share ? 'share of postings' : 'mentions per hour', onPick: (id) => go({ view: 'skill', id }),
    });
    const legend = $('pulse-legend');
    clear(legend);
    series.forEach((s, k) => {
      const li = el('li');
      const sw = sv('svg', { viewBox: '0 0 28 10', 'aria-hidden': 'true' });
      const ln = sv('line', { x1: 1, x2: 27, y1: 5, y2: 5, stroke: COLORS[k % COLORS.length], 'stroke-width': 3 });
      if (DASHES[k]) ln.setAttribute('stroke-dasharray', DASHES[k]);
      sw.appendChild(ln);
      li.appendChild(sw);
      li.appendChild(el('a', { href: skillHref(s.id) }, s.name));
      li.appendChild(el('span', { class: 'total' }, s.note));
      legend.appendChild(li);
    });
    const hours = data.hours || [];
    table('pulse-table', (share ? 'Share of postings' : 'Mentions') + ' per hour (UTC) of the top skills',
      ['hour'].concat(series.map((s) => s.name)),
      hours.map((h, i) => [h + (i === hours.length - 1 ? ' (partial)' : '')].concat(series.map((s) =>
        share ? { text: pct(s.values[i]), csv: s.values[i] } : s.values[i]))));
  }

  /* ---- overview: the Heatmap ---- */
  async function loadMap() {
    const m = await getJSON('/map.json');
    const svg = $('map');
    svg.setAttribute('viewBox', '0 0 ' + m.width + ' ' + m.height);
    clear(svg);
    for (const c of m.countries) {
      const p = sv('path', { d: c.d, class: 'country', fill: NODATA, 'data-region': c.region, 'data-name': c.name, 'data-count': '0' });
      p.appendChild(sv('title', {}, c.name + ': no data'));
      p.addEventListener('mousemove', (ev) => showTip(ev.clientX, ev.clientY,
        [{ label: p.getAttribute('data-label') || 'mentions', value: p.getAttribute('data-shown') || '0' }],
        p.getAttribute('data-name') + ' (' + p.getAttribute('data-region') + ')'));
      p.addEventListener('mouseleave', hideTip);
      p.addEventListener('click', () => go({ view: 'region', id: p.getAttribute('data-region') }));
      p.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') go({ view: 'region', id: p.getAttribute('data-region') }); });
      svg.appendChild(p);
    }
    mapReady = true;
  }

  function drawHeat(data, st) {
    const share = st.metric === 'share';
    /* one skill: its share of each region's postings; all skills: mentions
     * per posting mean little, so each region's share of all postings */
    const market = share && !data.skill;
    const allPosts = (data.regions || []).reduce((a, r) => a + (r.postings || 0), 0);
    const shareOf = (r) => (market ? (allPosts > 0 ? (r.postings || 0) / allPosts : 0) : (r.share || 0));
    const val = new Map(), counts = new Map();
    let max = 0;
    for (const r of data.regions || []) {
      const v = share ? shareOf(r) : r.count;
      val.set(r.region, v); counts.set(r.region, r.count); max = Math.max(max, v);
    }
    const vfmt = share ? pct : fmt;
    $('heat-sub').textContent = (market ? 'where the postings are: share of all postings' : (data.name ? data.name : 'all skills') + (share ? ', share of postings' : '')) + ' by region' +
      (data.hours && data.hours.length ? ', ' + hourText(data.hours[0]) + ' – ' + hourText(data.hours[1]) + ' UTC' : '') +
      ' (click a country)';
    if (mapReady) {
      for (const p of $('map').querySelectorAll('path.country')) {
        const reg = p.getAttribute('data-region'), v = val.get(reg) || 0, c = counts.get(reg) || 0;
        p.setAttribute('fill', shade(v, max));
        p.setAttribute('data-count', String(c));
        p.setAttribute('data-shown', vfmt(v));
        p.setAttribute('data-label', market ? 'share of all postings' : share ? 'share of postings' : 'mentions');
        if (c > 0) { p.setAttribute('tabindex', '0'); p.setAttribute('role', 'link'); }
        else { p.removeAttribute('tabindex'); p.removeAttribute('role'); }
        const t = p.firstChild;
        if (t) t.textContent = p.getAttribute('data-name') + ': ' + (c ? vfmt(v) + (market ? ' of all postings' : share ? ' of postings' : ' mentions') : 'no data');
      }
    }
    const scale = $('map-scale');
    clear(scale);
    scale.appendChild(el('span', {}, '0'));
    const bar = el('span', { class: 'bar' });
    bar.style.background = 'linear-gradient(to right, ' + VIRIDIS.join(',') + ')';
    scale.appendChild(bar);
    scale.appendChild(el('span', {}, vfmt(max) + (market ? ' of all postings' : share ? ' of postings' : ' mentions') + ' (square-root scale)'));

    /* regions off the map (REMOTE, UNKNOWN) and the leaders, as links */
    const list = $('region-list');
    clear(list);
    (data.regions || []).slice(0, 12).forEach((r) => {
      const li = el('li');
      const a = el('a', { href: regionHref(r.region) });
      a.appendChild(el('b', {}, r.region));
      li.appendChild(a);
      li.appendChild(document.createTextNode(' ' + vfmt(share ? shareOf(r) : r.count)));
      list.appendChild(li);
    });
    table('map-table', (data.name || 'All skills') + ': ' + (market ? 'share of all postings' : share ? 'share of postings' : 'mentions') + ' by region',
      share ? ['region', 'mentions', 'postings', market ? 'share of all postings' : 'share'] : ['region', 'mentions'],
      (data.regions || []).map((r) => share
        ? [{ text: r.region, href: regionHref(r.region) }, r.count, r.postings, { text: pct(shareOf(r)), csv: shareOf(r) }]
        : [{ text: r.region, href: regionHref(r.region) }, r.count]));

    /* skill x region grid */
    const g = data.grid || { skills: [], names: [], regions: [], counts: [] };
    const cells = share && g.shares ? g.shares : g.counts;
    $('grid-caption').textContent = (share ? 'Share of postings' : 'Mentions') + ' by skill (rows) and region (columns)';
    const thead = $('grid').tHead, tbody = $('grid').tBodies[0];
    clear(thead); clear(tbody);
    let gmax = 0;
    for (const row of cells) for (const v of row) gmax = Math.max(gmax, v || 0);
    const hr = el('tr');
    hr.appendChild(el('th', { scope: 'col' }, 'skill'));
    for (const r of g.regions) {
      const th = el('th', { scope: 'col' });
      th.appendChild(el('a', { href: regionHref(r) }, r));
      hr.appendChild(th);
    }
    thead.appendChild(hr);
    const csvRows = [];
    g.skills.forEach((s, i) => {
      const tr = el('tr', { 'data-skill': s, class: 'pick' });
      /* the whole row opens the skill (the row's link does it from the keyboard) */
      tr.addEventListener('click', (ev) => { if (!ev.target.closest('a')) go({ view: 'skill', id: s }); });
      const th = el('th', { scope: 'row' });
      th.appendChild(el('a', { href: skillHref(s) }, g.names[i]));
      tr.appendChild(th);
      cells[i].forEach((v, j) => {
        const td = el('td', { title: g.names[i] + ' in ' + g.regions[j] + ': ' + vfmt(v) }, vfmt(v));
        td.style.background = shade(v || 0, gmax);
        if (gmax > 0 && Math.sqrt((v || 0) / gmax) < 0.6) td.style.color = '#fff';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
      csvRows.push([g.names[i]].concat(cells[i]));
    });
    shown.push({ title: $('grid-caption').textContent, headers: ['skill'].concat(g.regions), rows: csvRows });

    /* selector: the grid's skills plus the pulse's, keeping the selection */
    const sel = $('skill-select');
    const known = new Map();
    g.skills.forEach((s, i) => known.set(s, g.names[i]));
    if (lastPulse) for (const s of lastPulse.series || []) known.set(s.skill, s.name);
    if (selectedSkill && !known.has(selectedSkill)) known.set(selectedSkill, data.name || selectedSkill);
    const want = [''].concat(Array.from(known.keys()).sort((a, b) => String(known.get(a)).localeCompare(String(known.get(b)))));
    const have = Array.from(sel.options).map((o) => o.value);
    if (want.join('\n') !== have.join('\n')) {
      clear(sel);
      for (const s of want) sel.appendChild(el('option', { value: s }, s ? known.get(s) : 'All skills'));
    }
    sel.value = selectedSkill;
  }

  /* ---- rising and falling ---- */
  function growthTables(prefix, data, compact) {
    const box = $(prefix);
    clear(box);
    for (const dir of ['rising', 'falling']) {
      const id = prefix + '-' + dir;
      box.appendChild(el('div', { id, class: 'growth ' + dir }));
      const list = data[dir] || [];
      let dmax = 0;
      for (const g of list) dmax = Math.max(dmax, Math.abs(g.diff));
      const head = compact ? ['skill', 'share now', 'change'] : ['skill', 'postings before', 'postings now', 'share before', 'share now', 'change', 'z'];
      table(id, (dir === 'rising' ? 'Rising' : 'Falling') + ' by share of postings', head, list.map((g) => {
        const ch = { text: pp(g.diff), csv: g.diff, bar: dmax > 0 ? Math.abs(g.diff) / dmax : 0 };
        return compact
          ? [{ text: g.name, href: skillHref(g.skill), csv: g.skill }, { text: pct(g.share_now), csv: g.share_now }, ch]
          : [{ text: g.name, href: skillHref(g.skill), csv: g.skill }, g.before, g.now,
            { text: pct(g.share_before), csv: g.share_before }, { text: pct(g.share_now), csv: g.share_now }, ch,
            { text: g.z.toFixed(2), csv: g.z }];
      }), { cls: dir, empty: 'no significant change', key: (r) => r[0].csv });
    }
  }

  /* ---- the skill view ---- */
  function facts(id, pairs) {
    const dl = $(id);
    clear(dl);
    for (const [k, v] of pairs) {
      const d = el('div');
      d.appendChild(el('dt', {}, k));
      d.appendChild(el('dd', {}, v));
      dl.appendChild(d);
    }
  }
  function drawSkill(d, st) {
    const share = st.metric === 'share';
    $('sk-title').textContent = d.name + ' (' + d.skill + ')';
    facts('sk-facts', [
      ['share of postings', pct(d.share)], ['postings mentioning it', fmt(d.mentions)],
      ['of all postings', fmt(d.postings)], ['remote', pct(d.remote_share)],
      ['distinct employers', fmt(d.employers)], ['range', rangeText(st.hours)],
    ]);
    const hourly = d.hourly || [];
    const hours = hourly.map((x) => x.hour);
    $('sk-chart-title').textContent = d.name + ': ' + (share ? 'share of postings' : 'postings mentioning it') + ' per hour, ' + rangeText(st.hours);
    lineChart('sk-chart', hours, hourly.length ? [{ id: d.skill, name: d.name, values: hourly.map((x) => (share ? x.share : x.mentions)) }] : [],
      { share, height: 280, yTitle: share ? 'share of postings' : 'mentions per hour' });
    table('sk-hourly', d.name + ' per hour (UTC)', ['hour', 'mentions', 'postings', 'share'],
      hourly.map((x, i) => [x.hour + (i === hourly.length - 1 ? ' (partial)' : ''), x.mentions, x.postings, { text: pct(x.share), csv: x.share }]));
    const rmax = Math.max(0, ...(d.regions || []).map((r) => r.share));
    table('sk-regions', 'Regions by ' + d.name + "'s share of their postings (≥ 10 postings)", ['region', 'share', 'mentions', 'postings'],
      (d.regions || []).map((r) => [{ text: r.region, href: regionHref(r.region) }, { text: pct(r.share), csv: r.share, bar: rmax ? r.share / rmax : 0 }, r.mentions, r.postings]),
      { key: (r) => r[0].text });
    const lmax = Math.max(0, ...(d.coskills || []).map((r) => r.lift));
    table('sk-co', 'Skills asked for with ' + d.name + ' by lift, ' + (d.days || []).join(' – '), ['skill', 'lift', 'together', 'its postings'],
      (d.coskills || []).map((r) => [{ text: r.name, href: skillHref(r.skill), csv: r.skill }, { text: r.lift.toFixed(2) + '×', csv: r.lift, bar: lmax ? r.lift / lmax : 0 }, r.together, r.mentions]),
      { key: (r) => r[0].csv });
    const levels = d.levels || [];
    const svg = $('sk-levels-chart');
    clear(svg);
    let x = 0;
    levels.forEach((l, k) => {
      const w = (l.share || 0) * 800;
      if (w <= 0) return;
      const r = sv('rect', { x: x.toFixed(1), y: 8, width: w.toFixed(1), height: 28, fill: COLORS[k % COLORS.length], class: 'level' });
      r.appendChild(sv('title', {}, l.level + ': ' + pct(l.share) + ' (' + fmt(l.postings) + ')'));
      svg.appendChild(r);
      if (w > 50) svg.appendChild(sv('text', { x: x + 4, y: 52, class: 'tick' }, l.level));
      x += w;
    });
    if (x === 0) svg.appendChild(sv('text', { x: 400, y: 30, 'text-anchor': 'middle', class: 'tick' }, 'no seniority data yet'));
    table('sk-levels', 'Seniority of postings mentioning ' + d.name + ', ' + (d.days || []).join(' – '), ['level', 'share', 'postings'],
      levels.map((l) => [l.level, { text: pct(l.share), csv: l.share }, l.postings]));
  }

  /* ---- the region view ---- */
  function drawRegion(d, st) {
    $('rg-title').textContent = 'Region ' + d.region + ', ' + rangeText(st.hours);
    facts('rg-facts', [['postings', fmt(d.postings)], ['the range before', fmt(d.postings_before)],
      ['remote', pct(d.remote_share)], ['range', rangeText(st.hours)]]);
    const hourly = d.hourly || [];
    lineChart('rg-chart', hourly.map((x) => x.hour), hourly.length ? [{ id: d.region, name: 'postings in ' + d.region, values: hourly.map((x) => x.postings) }] : [],
      { height: 260, yTitle: 'postings per hour' });
    table('rg-hourly', 'Postings in ' + d.region + ' per hour (UTC)', ['hour', 'postings'],
      hourly.map((x, i) => [x.hour + (i === hourly.length - 1 ? ' (partial)' : ''), x.postings]));
    const smax = Math.max(0, ...(d.skills || []).map((r) => r.share));
    table('rg-skills', 'Skills by share of postings in ' + d.region, ['skill', 'share', 'mentions'],
      (d.skills || []).map((r) => [{ text: r.name, href: skillHref(r.skill), csv: r.skill }, { text: pct(r.share), csv: r.share, bar: smax ? r.share / smax : 0 }, r.mentions]),
      { key: (r) => r[0].csv });
    growthTables('rg-rising', d, true);
  }

  function drawStats(s) {
    $('c-events').textContent = fmt(s.events_total);
    $('c-rejected').textContent = fmt(s.rejected_total);
    $('c-late').textContent = fmt(s.late_total);
    $('c-duplicates').textContent = fmt(s.duplicates_total);
    $('c-last').textContent = s.last_event_time ? s.last_event_time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '–';
    const f = s.freshness_seconds;
    $('c-fresh').textContent = typeof f === 'number' ? (f < 90 ? f.toFixed(1) + ' s ago' : Math.round(f / 60) + ' min ago') : '–';
  }

  function status(text, isError) {
    const st = $('status');
    st.textContent = text;
    st.className = isError ? 'error' : '';
  }

  /* ---- the controls follow the URL ---- */
  function syncControls(st) {
    for (const r of document.querySelectorAll('input[name=hours]')) r.checked = +r.value === st.hours;
    for (const r of document.querySelectorAll('input[name=metric]')) r.checked = r.value === st.metric;
    $('top').value = String(st.top || (st.view === 'overview' ? 5 : 10));
    for (const v of ['overview', 'skill', 'region', 'rising']) $('view-' + v).hidden = v !== st.view;
    $('nav-overview').setAttribute('aria-current', st.view === 'overview' ? 'page' : 'false');
    $('nav-rising').setAttribute('aria-current', st.view === 'rising' ? 'page' : 'false');
    document.body.setAttribute('data-view', st.view);
  }

  let skillsLoaded = false;
  async function loadSkills() {
    const d = await getJSON('/api/skills');
    const dl = $('skill-options');
    clear(dl);
    for (const s of d.skills || []) dl.appendChild(el('option', { value: s.skill, label: s.name }, s.name));
    skillNames = new Map((d.skills || []).map((s) => [s.name.toLowerCase(), s.skill]));
    skillIds = new Set((d.skills || []).map((s) => s.skill));
    skillsLoaded = true;
  }
  let skillNames = new Map(), skillIds = new Set();
  function pickSkill() {
    const v = $('skill-search').value.trim();
    const id = skillIds.has(v) ? v : skillNames.get(v.toLowerCase());
    if (id) { $('skill-search').value = ''; go({ view: 'skill', id }); }
    else if (v) status('no skill "' + v + '" in the taxonomy', true);
  }

  let seq = 0;
  async function render() {
    const st = parseHash();
    const my = ++seq;
    syncControls(st);
    const H = '?hours=' + st.hours;
    const top = st.top || (st.view === 'overview' ? 5 : 10);
    try {
      const sp = getJSON('/api/stats');
      const next = [];
      if (st.view === 'overview') {
        const q = selectedSkill ? '&skill=' + encodeURIComponent(selectedSkill) : '';
        const m = st.metric === 'share' ? '&metric=share' : '';
        next.push(getJSON('/api/pulse' + H + '&top=' + top + m), getJSON('/api/heatmap' + H + q + m),
          getJSON('/api/rising' + H + '&top=5'));
      } else if (st.view === 'skill') {
        next.push(getJSON('/api/skill' + H + '&top=' + top + '&skill=' + encodeURIComponent(st.id)));
      } else if (st.view === 'region') {
        next.push(getJSON('/api/region' + H + '&top=' + top + '&region=' + encodeURIComponent(st.id)));
      } else {
        next.push(getJSON('/api/rising' + H + '&top=' + top));
      }
      const got = await Promise.all(next);
      const s = await sp;
      if (my !== seq) return; /* a newer view replaced this one */
      shown = [];
      if (st.view === 'overview') {
        drawPulse(got[0], st);
        drawHeat(got[1], st);
        $('rp-sub').textContent = rangeText(st.hours) + ' against the ' + rangeText(st.hours).replace('last ', '') + ' before';
        growthTables('rp-body', got[2], true);
      } else if (st.view === 'skill') {
        drawSkill(got[0], st);
      } else if (st.view === 'region') {
        drawRegion(got[0], st);
      } else {
        $('ri-sub').textContent = rangeText(st.hours) + ' against the ' + rangeText(st.hours).replace('last ', '') + ' before';
        growthTables('ri-body', got[0], false);
      }
      drawStats(s);
      status('updated ' + new Date().toLocaleTimeString(), false);
      document.body.setAttribute('data-state', 'ready');
      document.body.setAttribute('data-rendered', location.hash || '#/');
    } catch (e) {
      if (my !== seq) return;
      status('data unavailable: ' + e.message + ' (retrying)', true);
      if (document.body.getAttribute('data-state') !== 'ready') document.body.setAttribute('data-state', 'error');
      document.body.setAttribute('data-rendered', 'error ' + (location.hash || '#/'));
    } finally {
      if (my === seq) {
        clearTimeout(timer);
        timer = setTimeout(render, REFRESH_MS);
      }
    }
  }

  /* Record CSP violations on the page (the browser test asserts none). */
  let violations = 0;
  document.addEventListener('securitypolicyviolation', (ev) => {
    violations++;
    document.documentElement.setAttribute('data-csp-violations', violations + ' ' + ev.violatedDirective);
  });

  /* for the browser test and the curious: the CSV the export button saves */
  window.gtpExportCsv = exportCsv;

  document.addEventListener('DOMContentLoaded', async () => {
    $('skill-select').addEventListener('change', (ev) => { selectedSkill = ev.target.value; render(); });
    for (const r of document.querySelectorAll('input[name=hours]')) r.addEventListener('change', () => go({ hours: +r.value }));
    for (const r of document.querySelectorAll('input[name=metric]')) r.addEventListener('change', () => go({ metric: r.value }));
    $('top').addEventListener('change', () => go({ top: +$('top').value }));
    $('controls').addEventListener('submit', (ev) => { ev.preventDefault(); pickSkill(); });
    $('skill-search').addEventListener('change', pickSkill);
    $('export').addEventListener('click', download);
    window.addEventListener('hashchange', () => { window.scrollTo(0, 0); render(); });
    window.addEventListener('resize', () => { if (lastPulse && parseHash().view === 'overview') drawPulse(lastPulse, parseHash()); });
    try { await loadMap(); } catch (e) { status('map unavailable: ' + e.message, true); }
    loadSkills().catch((e) => status('skill list unavailable: ' + e.message, true));
    render();
  });
})();
