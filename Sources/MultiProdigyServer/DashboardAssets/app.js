// MultiProdigy Gateway dashboard: one hand-written file, no framework, no eval, no innerHTML with data.
// Every server string reaches the page through textContent or an attribute set by the DOM API.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute('content') : '';
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const SVG_NS = 'http://www.w3.org/2000/svg';

  // ---------- DOM helpers ----------

  /** Creates an element; `attrs` keys: class, text, dataset object, or any attribute. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'text') node.textContent = String(value);
      else if (name === 'dataset') Object.assign(node.dataset, value);
      else if (name === 'class') node.setAttribute('class', value);
      else node.setAttribute(name, value === true ? '' : String(value));
    }
  }

  /**
   * Gives each body cell its column's name (data-label, shown before the cell where a phone stacks a row as a
   * card) and the table explicit roles, so that it stays a table for assistive technology when CSS stacks it.
   */
  function labelCells(table) {
    const heads = Array.from(table.tHead.rows[0].cells).map((th) => th.textContent.trim());
    table.setAttribute('role', 'table');
    for (const group of [table.tHead, ...table.tBodies]) group.setAttribute('role', 'rowgroup');
    for (const th of table.tHead.rows[0].cells) th.setAttribute('role', 'columnheader');
    for (const body of table.tBodies) {
      for (const tr of body.rows) {
        tr.setAttribute('role', 'row');
        Array.from(tr.cells).forEach((cell, index) => {
          cell.setAttribute('role', cell.tagName === 'TH' ? 'rowheader' : 'cell');
          if (heads[index] && !cell.classList.contains('empty')) cell.dataset.label = heads[index];
        });
      }
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function announce(text) {
    const live = $('#live');
    live.textContent = '';
    // A fresh text node after a tick is announced even when it repeats the last one.
    setTimeout(() => { live.textContent = text; }, 50);
  }

  function showError(error) {
    const banner = $('#error-banner');
    if (!error) { banner.hidden = true; banner.textContent = ''; return; }
    banner.textContent = error.message || String(error);
    banner.hidden = false;
  }

  // ---------- Formatting ----------

  const isNum = (value) => typeof value === 'number' && Number.isFinite(value);
  const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const fmtInt = (value) => (isNum(value) ? intFmt.format(value) : '–');
  const fmtRate = (value) => (isNum(value) ? (value >= 10 ? value.toFixed(1) : value.toFixed(3)) : '–');
  const fmtPct = (value) => (isNum(value) ? `${(value * 100).toFixed(value > 0 && value < 0.001 ? 3 : 1)} %` : '–');

  function fmtSeconds(value) {
    if (!isNum(value)) return '–';
    if (value < 1) return `${Math.round(value * 1000)} ms`;
    if (value < 100) return `${value.toFixed(2)} s`;
    return `${Math.round(value)} s`;
  }

  function fmtMs(value) {
    return isNum(value) ? fmtSeconds(value / 1000) : '–';
  }

  function fmtUSD(value) {
    if (!isNum(value)) return '–';
    if (value === 0) return '$0';
    const abs = Math.abs(value);
    if (abs >= 100) return `$${value.toFixed(2)}`;
    if (abs >= 0.01) return `$${value.toFixed(4).replace(/0{1,2}$/, '')}`;
    return `$${Number(value.toPrecision(3))}`;
  }

  function fmtTime(epochSeconds, withDate) {
    if (!isNum(epochSeconds)) return '–';
    const date = new Date(epochSeconds * 1000);
    const time = date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (!withDate) return time;
    return `${date.toLocaleDateString('en-CA')} ${time}`;
  }

  function fmtAxisTime(epochSeconds, span) {
    const date = new Date(epochSeconds * 1000);
    if (span > 2 * 86400) return date.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' }) + ' ' + date.toLocaleTimeString('en-GB', { hour: '2-digit' }) + 'h';
    return date.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  }

  function parseDate(value) {
    if (isNum(value)) return value;
    if (typeof value === 'string') {
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? null : ms / 1000;
    }
    return null;
  }

  /** A number shown in `node`: its text, plus the raw value in data-value for tests and tools. */
  function setNumber(node, value, format) {
    if (!node) return;
    node.textContent = format(value);
    node.dataset.value = isNum(value) ? String(value) : '';
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(message, status, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  async function api(path, { method = 'GET', body } = {}) {
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' }, cache: 'no-store' };
    if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError('The gateway cannot be reached.', 0, null);
    }
    if (response.status === 401) {
      window.location.assign('/ui/login');
      throw new ApiError('The session has ended; sign in again.', 401, null);
    }
    let data = null;
    const text = await response.text();
    if (text) {
      try { data = JSON.parse(text); } catch (error) { data = null; }
    }
    if (!response.ok) {
      const message = data && data.error && data.error.message ? data.error.message : `The gateway answered ${response.status}.`;
      throw new ApiError(message, response.status, data);
    }
    return data;
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== '' && value !== null && value !== undefined) search.set(name, String(value));
    }
    const text = search.toString();
    return text ? `?${text}` : '';
  }

  // ---------- Names seen, for the filter selects ----------

  const seenNames = { route: new Set(), model: new Set(), provider: new Set(), key: new Set() };

  function noteNames(by) {
    if (!by) return;
    for (const dim of Object.keys(seenNames)) {
      for (const row of by[dim] || []) {
        if (row && typeof row.name === 'string') seenNames[dim].add(row.name);
      }
    }
    fillSelects();
  }

  function fillSelects() {
    for (const select of $$('select[data-dim]')) {
      const dim = select.dataset.dim;
      const names = Array.from(seenNames[dim] || []).sort();
      const current = select.value;
      if (current) names.includes(current) || names.push(current);
      const existing = $$('option', select).slice(1).map((option) => option.value);
      if (existing.join('\n') === names.join('\n')) continue;
      const first = select.options[0];
      clear(select).append(first);
      for (const name of names) select.append(el('option', { value: name, text: name }));
      select.value = current;
    }
  }

  // ---------- Charts (SVG) ----------

  function niceMax(value) {
    if (!isNum(value) || value <= 0) return 1;
    const exponent = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * exponent) return step * exponent;
    }
    return 10 * exponent;
  }

  function fmtTick(value, kind) {
    if (kind === 'seconds') return fmtSeconds(value);
    if (kind === 'usd') return value === 0 ? '$0' : `$${Number(value.toPrecision(2))}`;
    if (Math.abs(value) >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
    if (Math.abs(value) >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
    return String(Number(value.toPrecision(3)));
  }

  /**
   * Draws a time chart into `box`.
   * spec: {label, times: [epoch], series: [{name, values, cls, kind: 'line'|'bar', axis: 'left'|'right'}],
   *        left: 'count'|'seconds', right: 'usd' (optional)}
   */
  function drawChart(box, spec) {
    const width = Math.max(280, Math.round(box.clientWidth || 600));
    const height = 210;
    const pad = { top: 12, right: spec.right ? 58 : 14, bottom: 26, left: 58 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': spec.label, preserveAspectRatio: 'xMinYMin meet' });
    root.append(svg('title', {}, spec.label));
    const times = spec.times;
    const n = times.length;
    if (!n) {
      root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'empty' }, 'No data'));
      clear(box).append(root);
      return;
    }
    const maxOf = (axis) => {
      let max = 0;
      for (const series of spec.series) {
        if ((series.axis || 'left') !== axis) continue;
        for (const value of series.values) if (isNum(value) && value > max) max = value;
      }
      return niceMax(max);
    };
    const leftMax = maxOf('left');
    const rightMax = spec.right ? maxOf('right') : 1;
    const slot = plotW / n;
    const x = (index) => pad.left + slot * index + slot / 2;
    const y = (value, axis) => pad.top + plotH - (value / (axis === 'right' ? rightMax : leftMax)) * plotH;

    const ticks = 4;
    for (let i = 0; i <= ticks; i += 1) {
      const fraction = i / ticks;
      const yy = pad.top + plotH - fraction * plotH;
      root.append(svg('line', { x1: pad.left, x2: pad.left + plotW, y1: yy, y2: yy, class: i === 0 ? 'axis' : 'gridline' }));
      root.append(svg('text', { x: pad.left - 6, y: yy + 4, 'text-anchor': 'end' }, fmtTick(leftMax * fraction, spec.left)));
      if (spec.right) root.append(svg('text', { x: pad.left + plotW + 6, y: yy + 4, 'text-anchor': 'start' }, fmtTick(rightMax * fraction, spec.right)));
    }
    root.append(svg('line', { x1: pad.left, x2: pad.left, y1: pad.top, y2: pad.top + plotH, class: 'axis' }));
    const span = times[n - 1] - times[0];
    const labelCount = Math.max(2, Math.min(6, Math.floor(plotW / 80)));
    for (let i = 0; i < labelCount; i += 1) {
      const index = Math.round((i * (n - 1)) / (labelCount - 1));
      const anchor = i === 0 ? 'start' : i === labelCount - 1 ? 'end' : 'middle';
      const xx = i === 0 ? pad.left : i === labelCount - 1 ? pad.left + plotW : x(index);
      root.append(svg('text', { x: xx, y: height - 8, 'text-anchor': anchor }, fmtAxisTime(times[index], span)));
    }

    const bars = spec.series.filter((series) => series.kind === 'bar');
    bars.forEach((series, barIndex) => {
      const barW = Math.max(1, (slot * 0.7) / bars.length);
      series.values.forEach((value, index) => {
        if (!isNum(value) || value <= 0) return;
        const axis = series.axis || 'left';
        const top = y(value, axis);
        const rect = svg('rect', { x: x(index) - (slot * 0.35) + barIndex * barW, y: top, width: barW, height: pad.top + plotH - top, class: series.cls });
        rect.append(svg('title', {}, `${series.name} ${fmtTime(times[index], span > 86400)}: ${fmtTick(value, axis === 'right' ? spec.right : spec.left)}`));
        root.append(rect);
      });
    });
    for (const series of spec.series.filter((item) => item.kind !== 'bar')) {
      const axis = series.axis || 'left';
      let d = '';
      let open = false;
      series.values.forEach((value, index) => {
        if (!isNum(value)) { open = false; return; }
        d += `${open ? 'L' : 'M'}${x(index).toFixed(1)},${y(value, axis).toFixed(1)}`;
        open = true;
      });
      if (d) root.append(svg('path', { d, class: `line ${series.cls}` }));
      // Points, so a lone bucket between gaps shows, each with its value on hover.
      series.values.forEach((value, index) => {
        if (!isNum(value)) return;
        const dot = svg('circle', { cx: x(index), cy: y(value, axis), r: 2.2, class: series.cls.replace('s', 'dot') });
        dot.append(svg('title', {}, `${series.name} ${fmtTime(times[index], span > 86400)}: ${fmtTick(value, axis === 'right' ? spec.right : spec.left)}`));
        root.append(dot);
      });
    }
    const legend = el('ul', { class: 'legend' });
    for (const series of spec.series) legend.append(el('li', { class: series.legend, text: series.name }));
    clear(box).append(root, legend);
  }

  // ---------- Pages ----------

  const pages = {};
  let current = null;
  let timer = null;

  // Overview
  let lastOverview = null;
  pages.overview = {
    live: true,
    async load() {
      const form = $('#overview-filters');
      const params = Object.fromEntries(new FormData(form).entries());
      const data = await api(`/ui/api/overview${query(params)}`);
      lastOverview = data;
      renderOverview(data);
    },
  };

  function renderOverview(data) {
    const totals = data.totals || {};
    const tile = (id) => $(`[data-testid="${id}"]`);
    setNumber(tile('total-requests'), totals.requests, fmtInt);
    setNumber(tile('requests-per-second'), totals.requests_per_second, fmtRate);
    setNumber(tile('total-errors'), totals.errors, fmtInt);
    setNumber(tile('error-rate'), totals.error_rate, fmtPct);
    setNumber(tile('latency-p50'), totals.latency_p50, fmtSeconds);
    setNumber(tile('latency-p95'), totals.latency_p95, fmtSeconds);
    setNumber(tile('ttft-p50'), totals.ttft_p50, fmtSeconds);
    setNumber(tile('ttft-p95'), totals.ttft_p95, fmtSeconds);
    setNumber(tile('total-tokens'), totals.tokens, fmtInt);
    setNumber(tile('prompt-tokens'), totals.prompt_tokens, fmtInt);
    setNumber(tile('completion-tokens'), totals.completion_tokens, fmtInt);
    setNumber(tile('total-cost'), totals.cost_usd, fmtUSD);
    setNumber(tile('total-failovers'), totals.failovers, fmtInt);
    setNumber(tile('total-continuations'), totals.continuations, fmtInt);
    const since = data.since_start || {};
    $('#since-start').hidden = !data.since_start;
    setNumber(tile('since-start-requests'), since.requests, fmtInt);
    setNumber(tile('since-start-failovers'), since.failovers, fmtInt);
    setNumber(tile('since-start-continuations'), since.continuations, fmtInt);

    const updated = $('#overview-updated');
    updated.textContent = fmtTime(Date.now() / 1000);
    updated.dataset.ts = String(Date.now());
    const range = isNum(data.from) && isNum(data.to) ? `${fmtTime(data.from, true)} to ${fmtTime(data.to, true)}` : '';
    $('#overview-range').textContent = range + (isNum(data.bucket_seconds) ? `, ${data.bucket_seconds >= 3600 ? data.bucket_seconds / 3600 + ' h' : data.bucket_seconds >= 60 ? data.bucket_seconds / 60 + ' min' : data.bucket_seconds + ' s'} buckets` : '');

    noteNames(data.by);
    drawOverviewCharts(data);
    renderBreakdowns(data.by || {});
  }

  function drawOverviewCharts(data) {
    const series = Array.isArray(data.series) ? data.series : [];
    const times = series.map((point) => point.t);
    const pick = (name) => series.map((point) => (isNum(point[name]) ? point[name] : null));
    const windowName = data.window || '';
    drawChart($('#chart-requests'), {
      label: `Requests and errors per bucket, ${windowName}`,
      times, left: 'count',
      series: [
        { name: 'requests', values: pick('requests'), cls: 's1', legend: 'k1' },
        { name: 'errors', values: pick('errors'), cls: 's2', legend: 'k2' },
      ],
    });
    drawChart($('#chart-latency'), {
      label: `Latency p50 and p95 per bucket, ${windowName}`,
      times, left: 'seconds',
      series: [
        { name: 'p50', values: pick('latency_p50'), cls: 's1', legend: 'k1' },
        { name: 'p95', values: pick('latency_p95'), cls: 's4', legend: 'k4' },
        { name: 'first token p50', values: pick('ttft_p50'), cls: 's3', legend: 'k3' },
      ],
    });
    drawChart($('#chart-tokens'), {
      label: `Tokens (bars, left axis) and cost in USD (line, right axis) per bucket, ${windowName}`,
      times, left: 'count', right: 'usd',
      series: [
        { name: 'tokens', values: pick('tokens'), cls: 'bar3', kind: 'bar', legend: 'k3' },
        { name: 'cost (USD)', values: pick('cost_usd'), cls: 's2', axis: 'right', legend: 'k2' },
      ],
    });
  }

  const DIMENSIONS = [['route', 'Route'], ['model', 'Model'], ['provider', 'Provider'], ['key', 'Key']];

  function renderBreakdowns(by) {
    const container = $('#breakdowns');
    const tables = [];
    for (const [dim, title] of DIMENSIONS) {
      const rows = Array.isArray(by[dim]) ? by[dim] : [];
      const body = el('tbody');
      for (const row of rows) {
        const name = typeof row.name === 'string' ? row.name : String(row.name ?? '–');
        const tr = el('tr', { dataset: { name } });
        tr.append(el('th', { scope: 'row', text: name }));
        const cells = [
          ['requests', row.requests, fmtInt], ['errors', row.errors, fmtInt], ['error_rate', row.error_rate, fmtPct],
          ['latency_p50', row.latency_p50, fmtSeconds], ['latency_p95', row.latency_p95, fmtSeconds],
          ['tokens', row.tokens, fmtInt], ['cost_usd', row.cost_usd, fmtUSD],
        ];
        for (const [col, value, format] of cells) {
          const td = el('td', { class: 'num', dataset: { col } });
          setNumber(td, value, format);
          tr.append(td);
        }
        body.append(tr);
      }
      if (!rows.length) body.append(el('tr', {}, el('td', { colspan: 8, class: 'empty', text: 'No requests in this window' })));
      const head = el('tr', {}, el('th', { scope: 'col', text: title }),
        ...['Requests', 'Errors', 'Error rate', 'p50', 'p95', 'Tokens', 'Cost'].map((text) => el('th', { scope: 'col', class: 'num', text })));
      tables.push(el('div', { class: 'table-wrap' }, el('table', { class: 'data', id: `by-${dim}`, 'data-testid': `by-${dim}` },
        el('caption', { text: `By ${title.toLowerCase()}` }), el('thead', {}, head), body)));
    }
    clear(container).append(...tables);
  }

  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (current === 'overview' && lastOverview) drawOverviewCharts(lastOverview); }, 150);
  });

  // Targets
  const BREAKER_CLASS = { closed: 'good', half_open: 'warn', 'half-open': 'warn', open: 'bad' };
  const HEALTH_CLASS = { up: 'good', down: 'bad', unknown: 'none' };

  pages.targets = {
    live: true,
    async load() {
      const data = await api('/ui/api/targets');
      const body = clear($('#targets-table tbody'));
      const targets = Array.isArray(data && data.targets) ? data.targets : [];
      for (const target of targets) {
        const name = String(target.target ?? `${target.provider}/${target.model}`);
        const breaker = String(target.breaker ?? 'unknown');
        const breakerCell = el('td', {}, el('span', { class: `badge ${BREAKER_CLASS[breaker] || 'none'}`, 'data-testid': 'breaker', text: breaker.replace('_', '-') }));
        if (isNum(target.retry_in_seconds)) breakerCell.append(el('div', { class: 'small muted', text: `retry in ${fmtSeconds(target.retry_in_seconds)}` }));
        if (isNum(target.consecutive_failures) && target.consecutive_failures > 0) breakerCell.append(el('div', { class: 'small muted', text: `${target.consecutive_failures} failures in a row` }));
        const health = String(target.health ?? 'unknown');
        const healthCell = el('td', {}, el('span', { class: `badge ${HEALTH_CLASS[health] || 'none'}`, text: health }));
        if (target.health_detail) healthCell.append(el('div', { class: 'small muted', text: String(target.health_detail) }));
        const errors = target.errors && typeof target.errors === 'object' ? Object.entries(target.errors).filter(([, count]) => isNum(count) && count > 0) : [];
        const errorCell = el('td', { 'data-testid': 'errors' });
        if (errors.length) errorCell.append(el('ul', { class: 'plain' }, ...errors.map(([kind, count]) => el('li', { text: `${kind}: ${fmtInt(count)}` }))));
        else errorCell.append(el('span', { class: 'muted', text: 'none' }));
        const latency = el('td', { class: 'num' });
        setNumber(latency, target.predicted_latency_seconds, fmtSeconds);
        if (isNum(target.predicted_first_token_seconds)) latency.append(el('div', { class: 'small muted', text: `first token ${fmtSeconds(target.predicted_first_token_seconds)}` }));
        const inFlight = el('td', { class: 'num' });
        setNumber(inFlight, target.in_flight, fmtInt);
        const nameCell = el('th', { scope: 'row' }, el('span', { class: 'mono', text: name }));
        body.append(el('tr', { dataset: { target: name } }, nameCell, breakerCell, healthCell, latency, inFlight, errorCell));
      }
      if (!targets.length) body.append(el('tr', {}, el('td', { colspan: 6, class: 'empty', text: 'No targets configured' })));
      labelCells($('#targets-table'));
      $('#targets-updated').textContent = fmtTime(Date.now() / 1000);
    },
  };

  // Requests
  const requestsState = { cursors: [], before: null, next: null };

  pages.requests = {
    // Live only on the newest page: an older page keeps still while it is read.
    get live() { return requestsState.before === null; },
    async load() {
      const params = Object.fromEntries(new FormData($('#requests-filters')).entries());
      params.limit = 50;
      if (requestsState.before !== null) params.before = requestsState.before;
      const data = await api(`/ui/api/requests${query(params)}`);
      renderRequests(data || {});
      if (!seenNames.route.size) {
        // Fill the filters from a week of traffic once.
        api('/ui/api/overview?window=7d').then((overview) => noteNames(overview && overview.by)).catch(() => {});
      }
    },
  };

  function pathCell(row) {
    const cell = el('td', { class: 'path', 'data-testid': 'path' });
    const steps = Array.isArray(row.path) && row.path.length ? row.path : null;
    if (!steps) {
      const target = row.provider && row.model ? `${row.provider}/${row.model}` : row.model || row.provider || '–';
      cell.append(el('span', { class: 'mono', text: String(target) }));
      return cell;
    }
    steps.forEach((step, index) => {
      const text = String(step);
      const colon = text.lastIndexOf(':');
      const target = colon > 0 ? text.slice(0, colon) : text;
      const outcome = colon > 0 ? text.slice(colon + 1) : '';
      if (index > 0) cell.append(' → ');
      if (text.startsWith('…')) {
        cell.append(el('span', { class: 'muted', text: `${text} more` }));
        return;
      }
      const ok = outcome === 'ok' || outcome === '';
      const label = ok ? '✓' : outcome.startsWith('cut_') ? `✂${outcome.slice(4)}` : `✗${outcome}`;
      cell.append(el('span', { class: 'mono', text: target }), ' ',
        el('span', { class: ok ? 'ok' : 'bad', text: label, title: ok ? 'answered' : outcome.startsWith('cut_') ? `stream cut (${outcome.slice(4)})` : outcome }));
    });
    return cell;
  }

  function renderRequests(data) {
    const rows = Array.isArray(data.rows) ? data.rows : [];
    const body = clear($('#requests-table tbody'));
    for (const row of rows) {
      const status = isNum(row.status) ? row.status : null;
      const cells = [
        el('td', { class: 'nowrap' }, el('time', { datetime: isNum(row.time) ? new Date(row.time * 1000).toISOString() : null, text: fmtTime(row.time, true) })),
        el('td', { text: row.key ?? '–' }),
        el('td', { text: row.api ?? '–' }),
        el('td', { text: row.route ?? '–' }),
        pathCell(row),
        el('td', { class: `num ${status !== null && status >= 400 ? 'status-bad' : 'status-ok'}`, 'data-testid': 'status', text: status ?? '–' }),
        el('td', { class: 'num', text: `${fmtInt(row.prompt_tokens)} / ${fmtInt(row.completion_tokens)}` }),
      ];
      const cost = el('td', { class: 'num' });
      setNumber(cost, row.cost_usd, fmtUSD);
      const latency = el('td', { class: 'num' });
      setNumber(latency, row.latency_seconds, fmtSeconds);
      const ttft = el('td', { class: 'num' });
      setNumber(ttft, row.ttft_seconds, fmtSeconds);
      body.append(el('tr', { dataset: { id: String(row.id ?? '') } }, ...cells, cost, latency, ttft));
    }
    if (!rows.length) body.append(el('tr', {}, el('td', { colspan: 10, class: 'empty', text: 'No requests match' })));
    labelCells($('#requests-table'));
    requestsState.next = data.next ?? null;
    $('#rq-older').disabled = requestsState.next === null;
    $('#rq-newer').disabled = requestsState.before === null;
    const pageNumber = requestsState.cursors.length + 1;
    $('#rq-page').textContent = `Page ${pageNumber} · ${rows.length} rows`;
  }

  $('#rq-older').addEventListener('click', () => {
    if (requestsState.next === null) return;
    requestsState.cursors.push(requestsState.before);
    requestsState.before = requestsState.next;
    refresh(true);
  });
  $('#rq-newer').addEventListener('click', () => {
    if (!requestsState.cursors.length) return;
    requestsState.before = requestsState.cursors.pop();
    refresh(true);
  });
  $('#requests-filters').addEventListener('change', () => {
    requestsState.cursors = [];
    requestsState.before = null;
    refresh(true);
  });
  $('#requests-filters').addEventListener('submit', (event) => event.preventDefault());

  // Keys
  pages.keys = {
    live: false,
    async load() {
      const all = $('#keys-all').checked;
      const data = await api(`/ui/api/keys${all ? '?all=true' : ''}`);
      renderKeys(data || {});
      loadRoutes().catch(() => {});
    },
  };

  function keyList(data) {
    if (Array.isArray(data.keys)) return data.keys;
    if (Array.isArray(data.data)) return data.data;
    return [];
  }

  function renderKeys(data) {
    const keys = keyList(data);
    const body = clear($('#keys-table tbody'));
    for (const key of keys) {
      const name = String(key.name ?? '');
      const revoked = key.revoked_at ?? key.revoked ?? null;
      const budget = isNum(key.budget_usd) ? key.budget_usd : null;
      const spent = isNum(key.spent_usd) ? key.spent_usd : 0;
      const period = key.budget_period ?? key.period ?? null;
      const budgetCell = el('td', { 'data-testid': 'budget' });
      if (budget !== null) {
        const ratio = budget > 0 ? spent / budget : 1;
        const fill = el('span');
        fill.style.width = `${Math.min(100, Math.max(0, ratio * 100)).toFixed(1)}%`;
        const bar = el('div', { class: `bar${ratio >= 1 ? ' full' : ratio >= 0.8 ? ' high' : ''}`, role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': budget, 'aria-valuenow': spent, 'aria-label': `Budget use of ${name}` }, fill);
        budgetCell.append(bar, el('span', { class: 'small', text: `${fmtUSD(spent)} of ${fmtUSD(budget)}${period && period !== 'total' ? ` per ${period}` : ' in total'} (${Math.round(ratio * 100)} %)` }));
      } else {
        budgetCell.append(el('span', { class: 'muted small', text: isNum(key.spent_usd) ? `${fmtUSD(spent)} spent, no budget` : 'no budget' }));
      }
      const limits = [];
      if (isNum(key.rpm)) limits.push(`${fmtInt(key.rpm)} req/min`);
      if (isNum(key.tpm)) limits.push(`${fmtInt(key.tpm)} tok/min`);
      if (key.privacy) limits.push(`privacy: ${key.privacy}`);
      const routes = Array.isArray(key.routes) ? key.routes.join(', ') : key.routes ? String(key.routes) : 'all';
      const created = parseDate(key.created_at ?? key.created);
      const actions = el('td');
      if (revoked) {
        actions.append(el('span', { class: 'badge none', text: 'revoked' }));
      } else {
        const button = el('button', { type: 'button', class: 'danger', 'data-action': 'revoke', 'aria-label': `Revoke key ${name}`, text: 'Revoke' });
        button.addEventListener('click', () => confirmRevoke(actions, name, key.id));
        actions.append(button);
      }
      body.append(el('tr', { dataset: { name } },
        el('th', { scope: 'row', text: name }),
        el('td', {}, el('code', { text: key.prefix ? `${key.prefix}…` : '–' })),
        budgetCell,
        el('td', { class: 'small', text: limits.length ? limits.join(', ') : 'none' }),
        el('td', { class: 'small', text: routes }),
        el('td', { class: 'small nowrap', text: created ? fmtTime(created, true) : '–' }),
        actions));
    }
    if (!keys.length) body.append(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No virtual keys yet' })));
    labelCells($('#keys-table'));
  }

  function confirmRevoke(cell, name, id) {
    const yes = el('button', { type: 'button', class: 'danger', 'data-action': 'confirm-revoke', text: 'Yes, revoke' });
    const no = el('button', { type: 'button', 'data-action': 'cancel-revoke', text: 'Cancel' });
    const box = el('div', { class: 'confirm', role: 'group', 'aria-label': `Confirm revoking ${name}` },
      el('span', { class: 'small', text: `Revoke ${name}? It stops working at once.` }), yes, no);
    clear(cell).append(box);
    no.addEventListener('click', () => refresh(true));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await api(`/ui/api/keys/${encodeURIComponent(id || name)}`, { method: 'DELETE' });
        announce(`Key ${name} revoked.`);
        await refresh(true);
      } catch (error) {
        yes.disabled = false;
        showError(error);
      }
    });
    yes.focus();
  }

  $('#keys-all').addEventListener('change', () => refresh(true));

  $('#key-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = $('#key-form-message');
    message.textContent = '';
    const name = $('#kf-name').value.trim();
    if (!name) {
      message.textContent = 'Give the key a name.';
      $('#kf-name').focus();
      return;
    }
    const body = { name };
    const amount = $('#kf-budget').value.trim();
    if (amount) {
      const period = $('#kf-period').value;
      body.budget = `${amount}usd${period ? `/${period}` : ''}`;
    }
    for (const field of ['rpm', 'tpm']) {
      const value = $(`#kf-${field}`).value.trim();
      if (value) body[field] = Number(value);
    }
    const routes = $('#kf-routes').value.split(',').map((part) => part.trim()).filter(Boolean);
    if (routes.length) body.routes = routes;
    if ($('#kf-local').checked) body.privacy = 'local';
    const submit = $('#kf-submit');
    submit.disabled = true;
    try {
      const created = await api('/ui/api/keys', { method: 'POST', body });
      $('#key-form').reset();
      showSecret(created || {});
      await refresh(true);
    } catch (error) {
      message.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });

  function showSecret(created) {
    $('#new-key-name').textContent = String(created.name ?? '');
    $('#new-key-secret').textContent = String(created.key ?? '');
    $('#new-key-copy').textContent = 'Copy';
    $('#new-key').hidden = false;
    announce(`Key ${created.name ?? ''} created. Copy its secret now: it is shown once.`);
    $('#new-key-copy').focus();
  }

  $('#new-key-copy').addEventListener('click', async () => {
    const secret = $('#new-key-secret').textContent;
    const button = $('#new-key-copy');
    try {
      await navigator.clipboard.writeText(secret);
      button.textContent = 'Copied';
    } catch (error) {
      // No clipboard permission (plain http on a remote host): select it for Ctrl+C instead.
      const range = document.createRange();
      range.selectNodeContents($('#new-key-secret'));
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = 'Selected: press Ctrl+C';
    }
    announce(button.textContent);
  });

  $('#new-key-done').addEventListener('click', () => {
    $('#new-key-secret').textContent = '';
    $('#new-key').hidden = true;
    $('#kf-name').focus();
  });

  // Route explain
  let routesLoaded = null;

  function loadRoutes() {
    if (!routesLoaded) {
      routesLoaded = api('/ui/api/routes').then((data) => {
        const routes = Array.isArray(data && data.routes) ? data.routes : [];
        const models = Array.isArray(data && data.models) ? data.models.map(String) : [];
        const select = $('#re-route');
        const datalist = clear($('#route-names'));
        const previous = select.value;
        clear(select);
        const routeGroup = el('optgroup', { label: 'Routes' });
        for (const route of routes) {
          const name = String(route.name ?? '');
          const label = route.policy ? `${name} (${route.policy})` : name;
          routeGroup.append(el('option', { value: name, text: label }));
          datalist.append(el('option', { value: name }));
        }
        if (routes.length) select.append(routeGroup);
        const routeNames = new Set(routes.map((route) => String(route.name ?? '')));
        const modelGroup = el('optgroup', { label: 'Models' });
        for (const name of models.filter((model) => !routeNames.has(model))) {
          modelGroup.append(el('option', { value: name, text: name }));
          datalist.append(el('option', { value: name }));
        }
        if (modelGroup.children.length) select.append(modelGroup);
        if (previous) select.value = previous;
        const policies = Array.isArray(data && data.policies) ? data.policies : [];
        const policy = $('#re-policy');
        for (const name of policies) policy.append(el('option', { value: String(name), text: String(name) }));
      }).catch((error) => { routesLoaded = null; throw error; });
    }
    return routesLoaded;
  }

  pages.route = {
    live: false,
    async load() { await loadRoutes(); },
  };

  $('#route-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const message = $('#route-form-message');
    message.textContent = '';
    const prompt = $('#re-prompt').value;
    if (!prompt.trim()) {
      message.textContent = 'Paste a prompt to plan.';
      $('#re-prompt').focus();
      return;
    }
    const body = { model: $('#re-route').value, messages: [{ role: 'user', content: prompt }] };
    const maxTokens = $('#re-max-tokens').value.trim();
    if (maxTokens) body.max_tokens = Number(maxTokens);
    // The overrides as the request body's own `multiprodigy` field, which /v1/route reads as a real request would.
    const overrides = {};
    if ($('#re-policy').value) overrides.policy = $('#re-policy').value;
    if ($('#re-privacy').value) overrides.privacy = $('#re-privacy').value;
    if (Object.keys(overrides).length) body.multiprodigy = overrides;
    const submit = $('#re-submit');
    submit.disabled = true;
    try {
      const plan = await api('/ui/api/route', { method: 'POST', body });
      renderPlan(plan || {});
      announce(`Plan ready: ${(plan && plan.plan ? plan.plan.length : 0)} targets, ${(plan && plan.excluded ? plan.excluded.length : 0)} excluded.`);
    } catch (error) {
      message.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });

  function renderPlan(plan) {
    $('#route-result').hidden = false;
    const summary = clear($('#route-summary'));
    const item = (label, value, testid) => el('div', {}, el('dt', { text: label }), el('dd', { 'data-testid': testid, text: value }));
    summary.append(
      item('Route', plan.route ?? `(model ${plan.model ?? '–'})`, 'plan-route'),
      item('Policy', plan.policy ?? '–', 'plan-policy'),
      item('Private', plan.private ? `yes${plan.private_reason ? ` (${plan.private_reason})` : ''}` : 'no', 'plan-private'),
      item('Prompt tokens (est.)', fmtInt(plan.prompt_tokens), 'plan-prompt-tokens'),
      item('Expected answer tokens', `${fmtInt(plan.expected_output_tokens)}${plan.expected_output_source ? ` (${plan.expected_output_source})` : ''}`, 'plan-output-tokens'));
    const errorBox = $('#route-error');
    if (plan.error) {
      errorBox.textContent = `A real request would get ${plan.error.status ?? ''} ${plan.error.code ?? ''}: ${plan.error.message ?? ''}`;
      errorBox.hidden = false;
    } else {
      errorBox.hidden = true;
      errorBox.textContent = '';
    }
    const planBody = clear($('#route-plan tbody'));
    const entries = Array.isArray(plan.plan) ? plan.plan : [];
    entries.forEach((entry, index) => {
      const cost = el('td', { class: 'num' });
      setNumber(cost, entry.estimated_cost_usd, fmtUSD);
      const latency = el('td', { class: 'num' });
      setNumber(latency, entry.predicted_latency_ms, fmtMs);
      planBody.append(el('tr', { dataset: { target: String(entry.target ?? '') } },
        el('td', { class: 'num', text: index + 1 }),
        el('th', { scope: 'row' }, el('span', { class: 'mono', text: entry.target ?? '–' })),
        el('td', { text: entry.provider ?? '–' }),
        el('td', { text: entry.locality ?? '–' }),
        cost, latency,
        el('td', { text: entry.reason ?? '' })));
    });
    if (!entries.length) planBody.append(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No target can serve this request' })));
    const excludedBody = clear($('#route-excluded tbody'));
    const excluded = Array.isArray(plan.excluded) ? plan.excluded : [];
    for (const entry of excluded) {
      excludedBody.append(el('tr', { dataset: { target: String(entry.target ?? '') } },
        el('th', { scope: 'row' }, el('span', { class: 'mono', text: entry.target ?? '–' })),
        el('td', { text: entry.provider ?? '–' }),
        el('td', { text: entry.cause ?? '–' }),
        el('td', { text: entry.reason ?? '' })));
    }
    if (!excluded.length) excludedBody.append(el('tr', {}, el('td', { colspan: 4, class: 'empty', text: 'Nothing excluded' })));
  }

  // ---------- Router and live refresh ----------

  let loading = null;

  async function refresh(userAction = false) {
    const page = pages[current];
    if (!page) return;
    const name = current;
    const run = (async () => {
      try {
        await page.load();
        if (name !== current) return; // the user moved on while it loaded
        showError(null);
        document.body.dataset.loaded = name;
        if (userAction && name === current) announce(`${$(`#h-${name}`).textContent} updated.`);
      } catch (error) {
        if (error.status !== 401) showError(error);
      }
    })();
    loading = run;
    await run;
  }

  function schedule() {
    clearInterval(timer);
    timer = setInterval(() => {
      const page = pages[current];
      if (document.hidden || !page || !page.live) return;
      refresh(false);
    }, REFRESH_MS);
  }

  function route() {
    let name = (window.location.hash || '').replace(/^#/, '');
    if (!pages[name]) name = 'overview';
    if (name === current) return;
    current = name;
    for (const section of $$('.page')) section.hidden = section.id !== `page-${name}`;
    for (const link of $$('nav a[data-page]')) {
      if (link.dataset.page === name) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    document.title = `${$(`#h-${name}`).textContent} · MultiProdigy Gateway`;
    delete document.body.dataset.loaded;
    refresh(false);
  }

  $('#overview-filters').addEventListener('change', () => refresh(true));
  $('#overview-filters').addEventListener('submit', (event) => event.preventDefault());
  window.addEventListener('hashchange', () => {
    route();
    $('#main').focus({ preventScroll: true });
  });
  document.addEventListener('visibilitychange', () => {
    const page = pages[current];
    if (!document.hidden && page && page.live) refresh(false);
  });

  route();
  schedule();
  // For tests: the promise of the load in progress.
  window.mpDashboard = { refresh: () => refresh(false), loading: () => loading };
})();
