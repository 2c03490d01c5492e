/* Global Talent Pulse dashboard: fetches /api/pulse, /api/heatmap and
 * /api/stats every few seconds and draws them with plain SVG. Every string
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

  /* ---- the Pulse ---- */
  function drawPulse(data) {
    lastPulse = data;
    const svg = $('pulse-chart'), legend = $('pulse-legend');
    clear(svg); clear(legend);
    /* draw in CSS pixels so text keeps its size on a phone */
    const W = Math.round(Math.max(300, Math.min(900, svg.clientWidth || 800)));
    const H = W < 600 ? 280 : 340, L = 58, R = 12, T = 12, B = 56;
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const hours = data.hours || [], series = data.series || [];
    if (!hours.length || !series.length) {
      svg.appendChild(sv('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'tick' }, 'no data yet'));
      return;
    }
    let max = 0;
    for (const s of series) for (const c of s.counts) max = Math.max(max, c);
    max = niceMax(max);
    const n = hours.length;
    const x = (i) => L + (n === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (n - 1));
    const y = (v) => T + (H - T - B) * (1 - v / max);

    const axis = sv('g', { class: 'axis' });
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4, yy = y(v);
      axis.appendChild(sv('line', { x1: L, x2: W - R, y1: yy, y2: yy, class: 'gridline' }));
      axis.appendChild(sv('text', { x: L - 6, y: yy + 4, 'text-anchor': 'end' }, fmt(Math.round(v))));
    }
    const step = Math.max(1, Math.ceil(n / Math.max(3, Math.floor((W - L - R) / 60))));
    for (let i = 0; i < n; i += step) {
      axis.appendChild(sv('line', { x1: x(i), x2: x(i), y1: H - B, y2: H - B + 4 }));
      const lbl = hours[i].slice(11) + ':00';
      axis.appendChild(sv('text', { x: x(i), y: H - B + 18, 'text-anchor': 'middle' }, lbl));
    }
    axis.appendChild(sv('line', { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    axis.appendChild(sv('text', { x: (L + W - R) / 2, y: H - 8, 'text-anchor': 'middle', class: 'axis-title' },
      (W < 600 ? 'hour (UTC)' : 'hour (UTC), ' + hourText(hours[0]) + ' – ' + hourText(hours[n - 1]))));
    axis.appendChild(sv('text', { x: 14, y: (T + H - B) / 2, 'text-anchor': 'middle', class: 'axis-title',
      transform: 'rotate(-90 14 ' + (T + H - B) / 2 + ')' }, 'mentions per hour'));
    svg.appendChild(axis);

    series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      let d = '';
      s.counts.forEach((c, i) => { d += (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(c).toFixed(1); });
      const path = sv('path', { d, class: 'series', stroke: color, 'data-skill': s.skill });
      if (DASHES[k]) path.setAttribute('stroke-dasharray', DASHES[k]);
      path.appendChild(sv('title', {}, s.name + ': ' + fmt(s.total) + ' mentions'));
      svg.appendChild(path);
      const li = el('li');
      const sw = sv('svg', { viewBox: '0 0 28 10', 'aria-hidden': 'true' });
      const ln = sv('line', { x1: 1, x2: 27, y1: 5, y2: 5, stroke: color, 'stroke-width': 3 });
      if (DASHES[k]) ln.setAttribute('stroke-dasharray', DASHES[k]);
      sw.appendChild(ln);
      li.appendChild(sw);
      li.appendChild(el('span', {}, s.name));
      li.appendChild(el('span', { class: 'total' }, fmt(s.total)));
      legend.appendChild(li);
    });

    const guide = sv('line', { class: 'guide', y1: T, y2: H - B, x1: -10, x2: -10 });
    svg.appendChild(guide);
    const overlay = sv('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: 'transparent' });
    const move = (ev) => {
      const box = svg.getBoundingClientRect();
      const px = ((ev.clientX - box.left) / box.width) * W;
      const i = Math.max(0, Math.min(n - 1, Math.round(((px - L) / (W - L - R)) * (n - 1))));
      guide.setAttribute('x1', x(i)); guide.setAttribute('x2', x(i));
      showTip(ev.clientX, ev.clientY, series.map((s, k) => ({
        label: s.name, value: fmt(s.counts[i]), color: COLORS[k % COLORS.length],
      })), hourText(hours[i]) + ' UTC');
    };
    overlay.addEventListener('mousemove', move);
    overlay.addEventListener('click', move);
    overlay.addEventListener('mouseleave', () => { hideTip(); guide.setAttribute('x1', -10); guide.setAttribute('x2', -10); });
    svg.appendChild(overlay);
  }

  /* ---- the Heatmap ---- */
  async function loadMap() {
    const m = await getJSON('/map.json');
    const svg = $('map');
    svg.setAttribute('viewBox', '0 0 ' + m.width + ' ' + m.height);
    clear(svg);
    for (const c of m.countries) {
      const p = sv('path', { d: c.d, class: 'country', fill: NODATA, 'data-region': c.region, 'data-name': c.name, 'data-count': '0' });
      p.appendChild(sv('title', {}, c.name + ': no data'));
      p.addEventListener('mousemove', (ev) => showTip(ev.clientX, ev.clientY,
        [{ label: 'mentions', value: fmt(+p.getAttribute('data-count')) }], p.getAttribute('data-name') + ' (' + p.getAttribute('data-region') + ')'));
      p.addEventListener('mouseleave', hideTip);
      svg.appendChild(p);
    }
    mapReady = true;
  }

  function drawHeat(data) {
    const counts = new Map();
    let max = 0;
    for (const r of data.regions || []) { counts.set(r.region, r.count); max = Math.max(max, r.count); }
    $('heat-sub').textContent = (data.name ? data.name : 'all skills') + ' by region' +
      (data.hours && data.hours.length ? ', ' + hourText(data.hours[0]) + ' – ' + hourText(data.hours[1]) + ' UTC' : '');
    if (mapReady) {
      for (const p of $('map').querySelectorAll('path.country')) {
        const v = counts.get(p.getAttribute('data-region')) || 0;
        p.setAttribute('fill', shade(v, max));
        p.setAttribute('data-count', String(v));
        const t = p.firstChild;
        if (t) t.textContent = p.getAttribute('data-name') + ': ' + (v ? fmt(v) + ' mentions' : 'no data');
      }
    }
    const scale = $('map-scale');
    clear(scale);
    scale.appendChild(el('span', {}, '0'));
    const bar = el('span', { class: 'bar' });
    bar.style.background = 'linear-gradient(to right, ' + VIRIDIS.join(',') + ')';
    scale.appendChild(bar);
    scale.appendChild(el('span', {}, fmt(max) + ' mentions (square-root scale)'));

    /* regions off the map (REMOTE, UNKNOWN) and the leaders, as text */
    const list = $('region-list');
    clear(list);
    (data.regions || []).slice(0, 12).forEach((r) => {
      const li = el('li');
      li.appendChild(el('b', {}, r.region));
      li.appendChild(document.createTextNode(' ' + fmt(r.count)));
      list.appendChild(li);
    });

    /* skill x region grid */
    const g = data.grid || { skills: [], names: [], regions: [], counts: [] };
    const thead = $('grid').tHead, tbody = $('grid').tBodies[0];
    clear(thead); clear(tbody);
    let gmax = 0;
    for (const row of g.counts) for (const v of row) gmax = Math.max(gmax, v);
    const hr = el('tr');
    hr.appendChild(el('th', { scope: 'col' }, 'skill'));
    for (const r of g.regions) hr.appendChild(el('th', { scope: 'col' }, r));
    thead.appendChild(hr);
    g.skills.forEach((s, i) => {
      const tr = el('tr', { 'data-skill': s });
      tr.appendChild(el('th', { scope: 'row' }, g.names[i]));
      g.counts[i].forEach((v, j) => {
        const td = el('td', { title: g.names[i] + ' in ' + g.regions[j] + ': ' + fmt(v) }, fmt(v));
        td.style.background = shade(v, gmax);
        if (gmax > 0 && Math.sqrt(v / gmax) < 0.6) td.style.color = '#fff';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });

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
      for (const s of want) {
        const o = el('option', { value: s }, s ? known.get(s) : 'All skills');
        sel.appendChild(o);
      }
      sel.value = selectedSkill;
    }
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

  async function refresh() {
    try {
      const q = selectedSkill ? '&skill=' + encodeURIComponent(selectedSkill) : '';
      const [p, h, s] = await Promise.all([
        getJSON('/api/pulse?hours=24&top=5'),
        getJSON('/api/heatmap?hours=24' + q),
        getJSON('/api/stats'),
      ]);
      drawPulse(p);
      drawHeat(h);
      drawStats(s);
      status('updated ' + new Date().toLocaleTimeString(), false);
      document.body.setAttribute('data-state', 'ready');
    } catch (e) {
      status('data unavailable: ' + e.message + ' (retrying)', true);
      if (document.body.getAttribute('data-state') !== 'ready') document.body.setAttribute('data-state', 'error');
    } finally {
      clearTimeout(timer);
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  /* Record CSP violations on the page (the browser test asserts none). */
  let violations = 0;
  document.addEventListener('securitypolicyviolation', (ev) => {
    violations++;
    document.documentElement.setAttribute('data-csp-violations', violations + ' ' + ev.violatedDirective);
  });

  document.addEventListener('DOMContentLoaded', async () => {
    $('skill-select').addEventListener('change', (ev) => { selectedSkill = ev.target.value; refresh(); });
    window.addEventListener('resize', () => { if (lastPulse) drawPulse(lastPulse); });
    try { await loadMap(); } catch (e) { status('map unavailable: ' + e.message, true); }
    refresh();
  });
})();
