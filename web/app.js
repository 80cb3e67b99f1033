/* OpenPlug web UI: pages, live values, charts.  No library, nothing loaded
 * from anywhere but the plug.  Talks to the plug through its REST API and
 * its live event stream (docs/API.md); settings go through the same
 * commands as the console's (POST /api/command). */
'use strict';

const $ = (sel, root) => (root || document).querySelector(sel);
const LIVE_SPAN_MS = 10 * 60 * 1000;

/* Everything the page knows; window.openplug for tests and the curious. */
const plug = {
  relay: null,         /* true / false / null while unknown */
  energy: null,        /* the "energy" object of /api/state */
  wifi: null,          /* the "wifi" object of /api/state */
  limits: null,        /* the "limits" object of /api/state (limits.js) */
  samples: [],         /* live chart: {t: ms, w: watts or null}, one a second */
  history: null,       /* GET /api/history */
  mqtt: false,         /* the firmware has MQTT commands */
  stream: 'none',      /* 'events' (pushed) or 'polling' */
  seen: 0,             /* Date.now() of the plug's last answer or event */
  offline: false,      /* no word from the plug for OFFLINE_MS */
};
window.openplug = plug;

/* ---- Talking to the plug ---- */

/* An error the plug (or its absence) explains; retry: seconds the plug
 * asks to wait (a 429's Retry-After). */
class PlugError extends Error {
  constructor(message, retry) { super(message); this.retry = retry || 0; }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function request(method, url, body, asText) {
  /* X-Requested-With: a 401 then comes without a Basic challenge, so the
   * browser does not ask for the password itself: the sign-in page does.
   * A plug that does not answer within 8 s is taken as gone. */
  const options = { method, credentials: 'same-origin', headers: { 'X-Requested-With': 'OpenPlug' },
                    signal: AbortSignal.timeout(8000) };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let reply = await fetch(url, options);
  /* The plug serves 4 connections at once: when all are busy, wait as told. */
  for (let retry = 0; reply.status === 503 && retry < 3; retry++) {
    await sleep(1000 * (Number(reply.headers.get('Retry-After')) || 1));
    reply = await fetch(url, options);
  }
  alive();
  const raw = await reply.text();
  let data = null;
  try { data = JSON.parse(raw); } catch (e) { /* no JSON body */ }
  const reason = (data && data.error) || reply.status + ' ' + reply.statusText;
  /* A sign-in's own refusal is its answer; elsewhere a 401 asks for it. */
  if (reply.status === 401 && url !== '/api/login') {
    showLogin();
    throw new PlugError('sign in first');
  }
  if (!reply.ok) throw new PlugError(reason, Number(reply.headers.get('Retry-After')));
  return asText ? raw : data;
}

/* Run a command as the console would: its Tasmota JSON reply; a command
 * error throws. */
async function command(line) {
  const reply = await request('POST', '/api/command', { cmnd: line });
  if (reply && reply.Command === 'Error') throw new PlugError(reply.Error);
  if (reply && reply.Command === 'Unknown') throw new PlugError('unknown command: ' + line.split(' ')[0]);
  return reply;
}
const query = command;

/* ---- Small helpers ---- */

function text(id, value) {
  const el = document.getElementById(id);
  if (el && el.textContent !== value) el.textContent = value;
}
function fixed(value, decimals) {
  return typeof value === 'number' && isFinite(value) ? value.toFixed(decimals) : '–';
}
function say(form, message, isError) {
  const el = $('.msg', form);
  el.textContent = message;
  el.classList.toggle('error', !!isError);
}
/* Run an action for a form's submit button: disable it meanwhile and say
 * what happened in the form's message line. */
async function busy(form, action) {
  const buttons = form.querySelectorAll('button');
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const message = await action();
    say(form, message || 'Saved.');
  } catch (e) {
    say(form, e.message, true);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}
function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

/* ---- Pages ---- */

const pages = {
  home: { show: showHome },
  wifi: { show: loadWifi },
  mqtt: { show: loadMqtt },
  device: { show: loadDevice },
  template: { show: loadTemplate },
  calibration: { show: () => {} },
  console: { show: loadLog },
  setup: { show: scanNetworks },
  login: { show: () => {} },
};
let currentPage = null;

/* A page of its own file: its section from html, shown by show(). */
function addPage(name, html, show) {
  const section = document.createElement('section');
  section.id = 'page-' + name;
  section.className = 'page';
  section.hidden = true;
  section.innerHTML = html;
  $('main').appendChild(section);
  pages[name] = { show };
}

/* A file as a request body, the bar following the bytes sent: resolves
 * with the plug's JSON answer, rejects with its reason (broken: what a
 * lost connection means for this upload). */
function postFile(url, file, broken, bar) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('X-Requested-With', 'OpenPlug');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    if (bar) xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) bar.value = Math.round(ev.loaded * 100 / ev.total); };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status === 401) { showLogin(); reject(new PlugError('sign in first')); return; }
      if (xhr.status === 200) resolve(body);
      else reject(new PlugError((body && (body.error || body.Error)) || xhr.status + ' ' + xhr.statusText));
    };
    xhr.onerror = () => reject(new PlugError('the connection to the plug broke off: ' + broken));
    xhr.send(file);
  });
}

function route() {
  let name = location.hash.replace(/^#/, '') || 'home';
  if (!pages[name] || (name === 'mqtt' && !plug.mqtt)) name = 'home';
  if (name === 'home' && inAccessPoint()) name = 'setup';
  showPage(name);
}

function showPage(name) {
  currentPage = name;
  for (const section of document.querySelectorAll('.page')) section.hidden = section.id !== 'page-' + name;
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === '#' + name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  pages[name].show();
}

function inAccessPoint() { return !!plug.wifi && plug.wifi.state === 'access point'; }

function showLogin() {
  if (currentPage !== 'login') showPage('login');
}

/* ---- Home: relay, values, charts ---- */

function showRelay() {
  const button = $('#relay');
  button.setAttribute('aria-checked', plug.relay ? 'true' : 'false');
  text('relay-state', plug.relay === null ? '\u00a0' : plug.relay ? 'On' : 'Off');
}

function showEnergy() {
  const e = plug.energy || {};
  text('m-power', fixed(e.power_w, 1));
  text('m-voltage', fixed(e.voltage_v, 1));
  text('m-current', fixed(e.current_a, 3));
  text('m-factor', fixed(e.factor, 2));
  text('m-today', fixed(e.today_kwh, 3));
  text('m-yesterday', fixed(e.yesterday_kwh, 3));
  text('m-total', fixed(e.total_kwh, 3));
  text('c-voltage', fixed(e.voltage_v, 1));
  text('c-current', fixed(e.current_a, 3));
  text('c-power', fixed(e.power_w, 1));
}

function relaysChanged(relays) {
  const first = (relays || []).find((r) => r.channel === 1);
  if (first) plug.relay = first.on;
  showRelay();
}

async function toggleRelay() {
  const button = $('#relay');
  button.disabled = true;
  try {
    const reply = await request('POST', '/api/power', { channel: 1, state: plug.relay ? 'off' : 'on' });
    relaysChanged(reply.relays);
  } catch (e) {
    text('relay-state', e.message);
  } finally {
    button.disabled = false;
    button.focus();
  }
}

function showHome() {
  showRelay();
  showEnergy();
  drawLive();
  loadHistory();
}

/* One sample a second for the live chart, whatever the source of values. */
function sample() {
  const now = Date.now();
  const power = plug.energy && typeof plug.energy.power_w === 'number' ? plug.energy.power_w : null;
  plug.samples.push({ t: now, w: power });
  while (plug.samples.length && plug.samples[0].t < now - LIVE_SPAN_MS) plug.samples.shift();
  if (currentPage === 'home') drawLive();
}

/* The plug's own last 10 minutes (GET /api/power_trail), so the live
 * chart is full as soon as the page opens; what the page sampled since
 * the trail's newest second stays. */
async function loadTrail() {
  try {
    const trail = await request('GET', '/api/power_trail');
    const newest = Date.now() - trail.age_ms;
    const n = trail.watts.length;
    const past = trail.watts.map((w, i) => ({ t: newest - (n - 1 - i) * trail.period_ms, w }));
    plug.samples = past.concat(plug.samples.filter((p) => p.t > newest));
    if (currentPage === 'home') drawLive();
  } catch (e) { /* the chart fills from now on */ }
}

/* ---- Charts (canvas, drawn here) ---- */

/* The canvas at the device's pixel density, sized as laid out. */
function surface(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = '11px system-ui, sans-serif';
  return { g, width, height };
}

/* The lowest axis that holds value: 3 to 5 grid steps of 1, 2, 2.5 or 5
 * times a power of ten (the top at most 1.67 times the value). */
function niceScale(value) {
  if (!(value > 0)) return { step: 0.25, count: 4, max: 1, decimals: 2 };
  const power = Math.pow(10, Math.floor(Math.log10(value / 5)));
  let best = null;
  for (const m of [1, 2, 2.5, 5, 10, 20]) {
    const step = m * power, count = Math.max(3, Math.ceil(value / step - 1e-9));
    if (count <= 5 && (!best || count * step < best.max)) best = { step, count, max: count * step };
  }
  let decimals = 0;
  while (decimals < 6 && Math.abs(best.step * 10 ** decimals - Math.round(best.step * 10 ** decimals)) > 1e-6) decimals++;
  best.decimals = decimals;
  return best;
}

const PAD = { left: 40, right: 8, top: 20, bottom: 20 };

/* Grid lines and their labels; returns the plot area. */
function grid(s, scale, unit) {
  const { g, width, height } = s;
  const area = { x: PAD.left, y: PAD.top, w: width - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
  g.strokeStyle = css('--line');
  g.fillStyle = css('--muted');
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let i = 0; i <= scale.count; i++) {
    const y = Math.round(area.y + area.h - (area.h * i) / scale.count) + 0.5;
    g.beginPath();
    g.moveTo(area.x, y);
    g.lineTo(area.x + area.w, y);
    g.stroke();
    g.fillText((scale.step * i).toFixed(scale.decimals), area.x - 4, y);
  }
  g.textAlign = 'left';
  g.fillText(unit, 2, 6);
  g.textAlign = 'center';
  g.textBaseline = 'top';
  return area;
}

function drawLive() {
  const canvas = $('#chart-live');
  if (!canvas.clientWidth) return;
  const s = surface(canvas);
  const now = Date.now();
  const values = plug.samples.filter((p) => p.w !== null).map((p) => p.w);
  const scale = niceScale(Math.max(0, ...values));
  const max = scale.max;
  const area = grid(s, scale, 'W');
  const { g } = s;
  const x = (t) => area.x + area.w * (1 - (now - t) / LIVE_SPAN_MS);
  const y = (w) => area.y + area.h * (1 - w / max);
  for (const minutes of [10, 5, 0]) {
    g.fillText(minutes ? '−' + minutes + ' min' : 'now', Math.min(Math.max(x(now - minutes * 60000), area.x + 20), area.x + area.w - 12), area.y + area.h + 4);
  }
  g.strokeStyle = css('--accent');
  g.lineWidth = 2;
  g.lineJoin = 'round';
  g.beginPath();
  let drawing = false;
  for (const p of plug.samples) {
    if (p.w === null) { drawing = false; continue; }
    if (drawing) g.lineTo(x(p.t), y(p.w));
    else g.moveTo(x(p.t), y(p.w));
    drawing = true;
  }
  g.stroke();
  const newest = plug.samples[plug.samples.length - 1];
  if (newest && newest.w !== null) { /* a dot: one sample is no line yet */
    g.fillStyle = css('--accent');
    g.beginPath();
    g.arc(x(newest.t), y(newest.w), 3, 0, 2 * Math.PI);
    g.fill();
  }
  const last = plug.samples.length ? plug.samples[plug.samples.length - 1].w : null;
  text('live-note', last === null ? '' : 'now ' + last.toFixed(1) + ' W');
  canvas.dataset.points = String(values.length);
}

/* Bars of Wh values; labels(i) gives the axis text or '' to skip; the
 * selected bar (pointer or arrow keys) is named in the note. */
function drawBars(canvas, values, labels, selected) {
  if (!canvas.clientWidth) return;
  const s = surface(canvas);
  const kwh = Math.max(...values) >= 1000;
  const scaled = values.map((v) => (kwh ? v / 1000 : v));
  const scale = niceScale(Math.max(0, ...scaled));
  const max = scale.max;
  const area = grid(s, scale, kwh ? 'kWh' : 'Wh');
  const { g } = s;
  const step = area.w / values.length;
  const gap = Math.max(1, step * 0.18);
  scaled.forEach((v, i) => {
    const h = (area.h * v) / max;
    g.fillStyle = i === selected ? css('--accent') : css('--bar');
    g.fillRect(area.x + i * step + gap / 2, area.y + area.h - h, step - gap, h);
    const label = labels(i);
    if (label) { /* centred under its bar, but inside the chart */
      const half = g.measureText(label).width / 2;
      g.fillStyle = css('--muted');
      g.fillText(label, Math.min(Math.max(area.x + i * step + step / 2, area.x + half), area.x + area.w - half), area.y + area.h + 4);
    }
  });
  canvas.dataset.bars = values.map((v) => v.toFixed(3)).join(',');
}

const two = (n) => String(n).padStart(2, '0');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/* Hours and days are counted in the plug's clock (see docs/API.md). */
function hourName(hour) { return two(((hour % 24) + 24) % 24) + ':00'; }
function dayName(day) {
  const d = new Date(day * 86400000);
  return d.getUTCDate() + ' ' + MONTHS[d.getUTCMonth()];
}

function energyText(wh) { return wh >= 1000 ? (wh / 1000).toFixed(3) + ' kWh' : wh.toFixed(1) + ' Wh'; }
/* Costs: cents, or tenths of a cent below 0.10; with the plug's currency. */
function money(amount) { return amount > 0 && amount < 0.1 ? amount.toFixed(3) : amount.toFixed(2); }
function moneyText(amount) { return money(amount) + (plug.history.currency ? ' ' + plug.history.currency : ''); }
function monthName(month) { return MONTHS[((month % 12) + 12) % 12] + ' ' + Math.floor(month / 12 + 1970); }

/* The history's tabs: which /api/history members, how a bar is named, and
 * which bars get an axis label (every `every`th, from the newest). */
const RANGES = {
  hours: { wh: 'hours_wh', cost: 'hours_cost', newest: 'hour', what: 'Energy per hour',
           name: (i) => dayName(Math.floor(i / 24)) + ' ' + hourName(i),
           axis: (i, narrow) => (i % (narrow ? 12 : 6) === 0 ? hourName(i) : '') },
  days: { wh: 'days_wh', cost: 'days_cost', newest: 'day', what: 'Energy per day', name: dayName,
          axis: (i, narrow, back) => (back % (narrow ? 4 : 2) === 0 ? dayName(i) : '') },
  months: { wh: 'months_wh', cost: 'months_cost', newest: 'month', what: 'Energy per month', name: monthName,
            axis: (i, narrow, back) => (back % (narrow ? 6 : 3) === 0 ? monthName(i).replace(' 20', ' ’') : '') },
  years: { wh: 'years_wh', cost: 'years_cost', newest: 'year', what: 'Energy per year', name: (i) => String(1970 + i),
           axis: (i, narrow, back) => (back % (narrow ? 2 : 1) === 0 ? String(1970 + i) : '') },
};
const bars = { range: 'hours', selected: -1 };

function showCost() {
  const cost = plug.history && plug.history.cost;
  $('#cost-tiles').hidden = !cost;
  if (!cost) return;
  for (const key of ['today', 'yesterday', 'month', 'total']) text('c-' + key, money(cost[key]));
  document.querySelectorAll('#cost-tiles .cur').forEach((e) => { e.textContent = plug.history.currency; });
}

function barChart() {
  const h = plug.history;
  if (!h) return;
  const range = RANGES[bars.range];
  const values = h[range.wh];
  const costs = h[range.cost];
  const newest = h[range.newest];
  const index = (i) => newest - values.length + 1 + i;
  const canvas = $('#chart-history');
  const narrow = canvas.clientWidth < 600;
  const labels = (i) => (newest === null ? '' : range.axis(index(i), narrow, values.length - 1 - i));
  const sel = bars.selected;
  drawBars(canvas, values, labels, sel);
  canvas.dataset.costs = costs ? costs.map((v) => v.toFixed(3)).join(',') : '';
  const total = values.reduce((a, b) => a + b, 0);
  const totalCost = costs ? costs.reduce((a, b) => a + b, 0) : 0;
  let note = newest === null ? 'waiting for the clock' : energyText(total) + (costs ? ' · ' + moneyText(totalCost) : '') + ' in all';
  if (sel >= 0 && newest !== null) {
    note = range.name(index(sel)) + ': ' + energyText(values[sel]) + (costs ? ' · ' + moneyText(costs[sel]) : '');
  }
  text('history-note', note);
  canvas.setAttribute('aria-label', range.what + ': ' + note);
}

function selectRange(name) {
  bars.range = name;
  bars.selected = -1;
  document.querySelectorAll('[data-range]').forEach((tab) => tab.setAttribute('aria-selected', String(tab.dataset.range === name)));
  barChart();
}

function wireBars() {
  const canvas = $('#chart-history');
  canvas.tabIndex = 0;
  document.querySelectorAll('[data-range]').forEach((tab) => tab.addEventListener('click', () => selectRange(tab.dataset.range)));
  const count = () => (plug.history ? plug.history[RANGES[bars.range].wh].length : 0);
  const select = (i) => { bars.selected = i; barChart(); };
  canvas.addEventListener('pointermove', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const step = (rect.width - PAD.left - PAD.right) / count();
    const i = Math.floor((ev.clientX - rect.left - PAD.left) / step);
    select(i >= 0 && i < count() ? i : -1);
  });
  canvas.addEventListener('pointerleave', () => select(-1));
  canvas.addEventListener('keydown', (ev) => {
    const n = count();
    let i = bars.selected;
    if (ev.key === 'ArrowLeft') i = i < 0 ? n - 1 : Math.max(0, i - 1);
    else if (ev.key === 'ArrowRight') i = i < 0 ? n - 1 : Math.min(n - 1, i + 1);
    else if (ev.key === 'Escape') i = -1;
    else return;
    ev.preventDefault();
    select(i);
  });
}

async function loadHistory() {
  try {
    plug.history = await request('GET', '/api/history');
    barChart();
    showCost();
  } catch (e) {
    text('history-note', e.message);
  }
}

/* ---- Live values ---- */

/* ---- Is the plug there? ---- */

const OFFLINE_MS = 4000; /* events come every second: four missed (checked each second: said within 5 s) */
let probing = false;
let events = null;

function alive() {
  plug.seen = Date.now();
  if (!plug.offline) return;
  plug.offline = false;
  document.body.classList.remove('offline');
  showLink();
}

/* Every second: say so when the plug has gone quiet, blank what it can
 * no longer vouch for, and ask until it answers again. */
async function watchPlug() {
  if (!plug.seen || Date.now() - plug.seen < OFFLINE_MS || currentPage === 'login') return;
  if (!plug.offline) {
    plug.offline = true;
    plug.relay = null;
    plug.energy = null;
    document.body.classList.add('offline');
    showRelay();
    showEnergy();
  }
  const t = new Date(plug.seen);
  text('link', 'offline, last seen ' + two(t.getHours()) + ':' + two(t.getMinutes()) + ':' + two(t.getSeconds()));
  if (probing) return;
  probing = true;
  try {
    stateChanged(await request('GET', '/api/state'));
    if (plug.stream === 'events' && (!events || events.readyState === EventSource.CLOSED)) follow();
  } catch (e) { /* still gone */ }
  probing = false;
}

function stateChanged(state) {
  alive();
  plug.energy = state.energy;
  plug.wifi = state.wifi;
  showName(state.device_name);
  relaysChanged(state.relays);
  showEnergy();
  plug.limits = state.limits; /* limits.js (loaded later: it shows these when it comes) */
  if (window.openplugLimits) openplugLimits.show(state.limits);
  showLink();
  if (currentPage === 'home' && inAccessPoint()) route();
  /* Set up elsewhere (console, another browser): the set-up form has gone. */
  if (currentPage === 'setup' && !inAccessPoint() && !setupTried) route();
}

function showLink() {
  if (plug.offline) return;
  const w = plug.wifi;
  text('link', !w ? '' : w.state === 'connected' ? 'Wi-Fi ' + w.rssi + ' dBm' : 'Wi-Fi ' + w.state);
}

/* Pushed changes (GET /api/events); if the plug has no event stream, or
 * it fails for good, ask for the state every second instead. */
function follow() {
  if (!window.EventSource) return poll();
  events = new EventSource('/api/events');
  const on = (name, fn) => events.addEventListener(name, (ev) => { alive(); fn(JSON.parse(ev.data)); });
  on('state', (state) => { plug.stream = 'events'; stopPolling(); stateChanged(state); });
  on('relay', (r) => relaysChanged([r]));
  on('sensors', (s) => { plug.energy = s.energy; showEnergy(); });
  on('wifi', (w) => { plug.wifi = w; showLink(); wifiChanged(w); });
  on('log', (l) => logLine(l.line));
  events.onerror = () => {
    if (events.readyState === EventSource.CLOSED) poll();
  };
}

let polling = null;
function stopPolling() {
  clearInterval(polling);
  polling = null;
}
function poll() {
  plug.stream = 'polling';
  if (polling) return;
  const once = async () => {
    try {
      stateChanged(await request('GET', '/api/state'));
    } catch (e) {
      if (e instanceof PlugError) text('link', e.message); /* unreachable: watchPlug() says so */
    }
  };
  polling = setInterval(() => { if (currentPage !== 'login') once(); }, 1000);
  once();
}

/* ---- Wi-Fi ---- */

function fact(list, name, value) {
  const dt = document.createElement('dt');
  dt.textContent = name;
  const dd = document.createElement('dd');
  dd.textContent = value;
  list.append(dt, dd);
}

function showWifi(w) {
  const facts = $('#wifi-status');
  facts.textContent = '';
  fact(facts, 'State', w.state);
  fact(facts, 'Network', w.ssid || '—');
  fact(facts, 'Signal', w.rssi ? w.rssi + ' dBm' : '—');
  if (w.state === 'access point') fact(facts, 'Set-up network', w.ap_name);
  if (w.last_error) fact(facts, 'Last error', w.last_error);
}

async function loadWifi() {
  try {
    const w = await request('GET', '/api/wifi');
    showWifi(w);
    const input = $('#wifi-form').elements.ssid;
    if (!input.value) input.value = w.ssid || '';
  } catch (e) {
    say($('#wifi-form'), e.message, true);
  }
}

/* The set-up attempt in progress (POST /api/wifi), its form; whether the
 * set-up form was used (its page then stays to say where the plug went). */
let joining = null;
let setupTried = false;

/* The networks in range (GET /api/wifi/scan), strongest first: a click
 * picks one.  The plug scans for a second or two: ask until it is done. */
async function scanNetworks() {
  const list = $('#scan-list'), form = $('#setup-form');
  try {
    let found = await request('GET', '/api/wifi/scan');
    for (let i = 0; i < 20 && found.scanning; i++) {
      await sleep(500);
      found = await request('GET', '/api/wifi/scan');
    }
    list.textContent = '';
    $('#ssids').textContent = '';
    for (const n of found.networks) {
      const b = document.createElement('button');
      b.type = 'button';
      b.append(n.ssid);
      const info = document.createElement('span');
      info.textContent = n.rssi + ' dBm' + (n.secured ? ' · password' : ' · open');
      b.append(info);
      b.addEventListener('click', () => { form.elements.ssid.value = n.ssid; form.elements.password.focus(); });
      const li = document.createElement('li');
      li.append(b);
      list.append(li);
      const option = document.createElement('option');
      option.value = n.ssid;
      $('#ssids').append(option);
    }
    text('scan-note', found.networks.length ? 'Networks in range:' : 'No network in range: type its name.');
  } catch (e) {
    text('scan-note', 'Cannot list the networks: ' + e.message);
  }
}

function wifiChanged(w) {
  if (currentPage === 'wifi') showWifi(w);
  if (!joining || !w.setup) return;
  const setup = w.setup;
  if (setup.state === 'connected') {
    const form = joining;
    joining = null;
    /* The address it got, as the plug says (an event has none: ask). */
    const where = (url) => say(form, 'Connected to ' + setup.ssid + ' (' + w.rssi + ' dBm). On that network the plug is at ' +
        (url || 'the address your router gave it') + '.');
    if (w.url) where(w.url);
    else request('GET', '/api/wifi').then((d) => where(d.url), () => where(''));
  } else if (setup.state === 'failed') {
    say(joining, 'Could not join ' + setup.ssid + ': ' + (setup.error || 'failed') + '. Check the password and try again.', true);
    joining = null;
  }
}

async function saveWifi(form) {
  const ssid = form.elements.ssid.value.trim();
  const password = form.elements.password.value;
  await busy(form, async () => {
    await request('POST', '/api/wifi', { ssid, password });
    form.elements.password.value = '';
    joining = form;
    setupTried = setupTried || form.id === 'setup-form';
    watchJoin(form);
    return 'Connecting to ' + ssid + '…';
  });
}

/* Follow the attempt until it ends (events may be missing: ask too). */
async function watchJoin(form) {
  for (let i = 0; i < 60 && joining === form; i++) {
    await sleep(1000);
    if (joining !== form) return;
    try {
      wifiChanged(await request('GET', '/api/wifi'));
    } catch (e) { /* the plug may be switching networks: keep asking */ }
  }
}

/* ---- MQTT ---- */

const MQTT_FIELDS = ['MqttHost', 'MqttPort', 'MqttUser', 'MqttClient', 'Topic', 'GroupTopic', 'FullTopic',
                     'TelePeriod', 'MqttTLS', 'SetOption19'];

/* The form's value of a field as the command takes it. */
function mqttValue(input) {
  return input.type === 'checkbox' ? (input.checked ? '1' : '0') : input.value.trim();
}

let mqttLoaded = {};

async function loadMqtt() {
  const form = $('#mqtt-form');
  try {
    const values = await query('Backlog ' + MQTT_FIELDS.join('; '));
    for (const name of MQTT_FIELDS) {
      const input = form.elements[name];
      const value = values[name];
      if (input.type === 'checkbox') input.checked = value === 1 || value === 'ON';
      else input.value = value === undefined ? '' : value;
      mqttLoaded[name] = mqttValue(input);
    }
    form.elements.MqttPassword.value = '';
  } catch (e) {
    say(form, e.message, true);
  }
}

/* Only what was changed is sent: a field left alone keeps its default
 * (an empty Topic stays "derived from the MAC"). */
async function saveMqtt(form) {
  await busy(form, async () => {
    let changed = 0;
    for (const name of MQTT_FIELDS) {
      const value = mqttValue(form.elements[name]);
      if (value === mqttLoaded[name]) continue;
      await command(name + ' ' + (value === '' ? '""' : value));
      mqttLoaded[name] = value;
      changed++;
    }
    if (form.elements.MqttPassword.value) {
      await command('MqttPassword ' + form.elements.MqttPassword.value);
      changed++;
    }
    form.elements.MqttPassword.value = '';
    return changed ? 'Saved.' : 'Nothing changed.';
  });
}

/* ---- Device ---- */

async function loadDevice() {
  try {
    $('#name-form').elements.DeviceName.value = (await query('DeviceName')).DeviceName;
    $('#pos-form').elements.PowerOnState.value = String((await query('PowerOnState')).PowerOnState);
  } catch (e) {
    say($('#name-form'), e.message, true);
  }
}

function setting(form, name) {
  return busy(form, async () => {
    const reply = await command(name + ' ' + form.elements[name].value.trim());
    if (name === 'DeviceName') showName(reply.DeviceName);
  });
}

function showName(name) {
  if (!name || name === plug.deviceName) return;
  plug.deviceName = name;
  text('title', name);
  document.title = name;
}

async function savePassword(form) {
  const { password, again } = form.elements;
  if (password.value !== again.value) {
    say(form, 'The two passwords differ.', true);
    return;
  }
  await busy(form, async () => {
    await command('WebPassword ' + (password.value || '0'));
    password.value = again.value = '';
    return 'Password changed.';
  });
}

async function restart(kind) {
  const msg = $('#system-msg');
  try {
    const before = await request('GET', '/api/state');
    const since = Date.now();
    await command(kind === 'reset' ? 'Reset 1' : 'Restart 1');
    msg.textContent = kind === 'reset' ? 'Erasing the settings and restarting…' : 'Restarting…';
    const seconds = await waitForBoot(before.uptime_s, since, 60);
    msg.textContent = 'Restarted: the plug answered again after ' + seconds + ' s.';
  } catch (e) {
    msg.textContent = e.message;
  }
}

/* Wait until the plug answers from a new boot: it was down meanwhile, or
 * its uptime is behind what the old boot's would be.  Returns the seconds
 * it took; throws after `limit` seconds. */
async function waitForBoot(uptimeBefore, since, limit) {
  let down = false;
  while (Date.now() - since < limit * 1000) {
    await sleep(500);
    try {
      const s = await request('GET', '/api/state');
      if (down || s.uptime_s + 1.5 < uptimeBefore + (Date.now() - since) / 1000) {
        stateChanged(s);
        return Math.max(1, Math.round((Date.now() - since) / 1000));
      }
    } catch (e) {
      if (e instanceof PlugError && !/^\d/.test(e.message)) throw e; /* it answered with a refusal */
      down = true;
    }
  }
  throw new PlugError('the plug did not come back within ' + limit + ' s');
}

/* ---- Template ---- */

let shownTemplate = null; /* as exported: the editor keeps its other members */
let pinChoices = null; /* {gpios, roles}: the plug's own, from GET /api/pins */

function cell(child) {
  const td = document.createElement('td');
  td.append(child);
  return td;
}

/* One row of the pin editor: GPIO (fixed, or a choice for the new row),
 * role and channel. */
function pinRow(gpio, role, channel, freeGpios) {
  const row = document.createElement('tr');
  let first;
  if (freeGpios) {
    first = document.createElement('select');
    first.className = 'gpio';
    first.setAttribute('aria-label', 'GPIO of a new pin');
    for (const g of freeGpios) first.add(new Option(String(g), String(g)));
  } else {
    first = document.createTextNode(String(gpio));
    row.dataset.gpio = String(gpio);
  }
  const select = document.createElement('select');
  select.className = 'role';
  select.setAttribute('aria-label', freeGpios ? 'Role of the new pin' : 'Role of GPIO ' + gpio);
  for (const r of pinChoices.roles) select.add(new Option(r, r, false, r === role));
  const number = document.createElement('input');
  number.className = 'channel';
  number.type = 'number';
  number.min = '0';
  number.max = '63';
  number.value = channel || '0';
  number.setAttribute('aria-label', freeGpios ? 'Channel of the new pin' : 'Channel of GPIO ' + gpio);
  row.append(cell(first), cell(select), cell(number));
  return row;
}

async function loadTemplate() {
  const form = $('#pins-form');
  try {
    const template = await query('Template');
    pinChoices = pinChoices || (await request('GET', '/api/pins'));
    shownTemplate = template;
    form.elements.name.value = template.name || '';
    $('#template-command').textContent = template.command || '(nothing)';
    const text = JSON.stringify(template);
    $('#export-form').elements.json.value = text;
    const link = $('#template-download');
    if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([text + '\n'], { type: 'application/json' }));
    link.download = (template.name || 'template').replace(/[^A-Za-z0-9._-]+/g, '_') + '.json';
    const body = $('#pins-body');
    body.textContent = '';
    const used = Object.keys(template.pins).map(Number).sort((a, b) => a - b);
    for (const gpio of used) {
      const [role, channel] = template.pins[gpio].split(';');
      body.append(pinRow(gpio, role, channel));
    }
    const free = [...Array(pinChoices.gpios).keys()].filter((g) => !used.includes(g));
    body.append(pinRow(null, 'none', '0', free));
  } catch (e) {
    say(form, e.message, true);
  }
}

/* The template the editor shows, with the other members it was loaded
 * with (image, wiki, command …); a pin set to "none" is left out. */
function templateFromForm(form) {
  const pins = {};
  for (const row of form.querySelectorAll('#pins-body tr')) {
    const gpio = row.dataset.gpio || $('.gpio', row).value;
    const role = $('.role', row).value;
    if (role !== 'none') pins[gpio] = role + ';' + ($('.channel', row).value || '0');
  }
  return { ...(shownTemplate || {}), name: form.elements.name.value.trim(), pins };
}

/* Copy the export: the clipboard where the page may use it (https or
 * localhost), else the text selected for the user's own copy. */
async function copyTemplate(form) {
  const area = form.elements.json;
  try {
    await navigator.clipboard.writeText(area.value);
    say(form, 'Copied.');
  } catch (e) {
    area.focus();
    area.select();
    say(form, document.execCommand && document.execCommand('copy') ? 'Copied.' : 'Selected: copy it with Ctrl+C.');
  }
}

async function savePins(form) {
  await busy(form, async () => {
    await command('Template ' + JSON.stringify(templateFromForm(form)));
    await loadTemplate();
    return 'Pins saved.';
  });
}

async function importTemplate(form, json) {
  await busy(form, async () => {
    let template;
    try { template = JSON.parse(json); } catch (e) { throw new PlugError('Not JSON: ' + e.message); }
    if (!template || typeof template.pins !== 'object') throw new PlugError('A template needs a "pins" map.');
    const reply = await command('Template ' + JSON.stringify(template));
    await loadTemplate();
    return reply && reply.command ? 'Template applied. Runs at start: ' + reply.command : 'Template applied.';
  });
}

/* ---- Calibration ---- */

async function calibrate(form, name) {
  await busy(form, async () => {
    const value = form.elements[name].value;
    if (!value) throw new PlugError('Type the reference reading first.');
    await command(name + ' ' + value);
    return name + ' ' + value + ': calibrated.';
  });
}

/* ---- Console ---- */

const consoleLines = [];
function logLine(line) {
  consoleLines.push(line);
  while (consoleLines.length > 300) consoleLines.shift();
  const log = $('#log');
  const atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.textContent = consoleLines.join('\n');
  if (atEnd) log.scrollTop = log.scrollHeight;
}

let logLoaded = false;
async function loadLog() {
  if (logLoaded) return;
  try {
    const logs = await request('GET', '/api/logs');
    consoleLines.length = 0;
    for (const line of logs.lines || []) logLine(line);
    logLoaded = true;
  } catch (e) {
    logLine('(log: ' + e.message + ')');
  }
}

async function runConsole(form) {
  const input = form.elements.cmd;
  const line = input.value.trim();
  if (!line) return;
  logLine('> ' + line);
  input.value = '';
  try {
    logLine(await request('POST', '/api/command', { cmnd: line }, true)); /* as the plug wrote it: 230.0 stays */
  } catch (e) {
    logLine('error: ' + e.message);
  }
}

/* ---- Sign in ---- */

let lockTimer = null;
async function login(form) {
  clearInterval(lockTimer);
  await busy(form, async () => {
    try {
      await request('POST', '/api/login', { password: form.elements.password.value });
    } catch (e) {
      if (e.retry) lockedOut(form, e.message.replace(/: wait and retry$/, ''), e.retry);
      throw e;
    }
    form.elements.password.value = '';
    location.hash = '#home';
    route();
    connect();
  });
}

/* The lock-out's seconds, counted down; the button waits for them. */
function lockedOut(form, reason, seconds) {
  const end = Date.now() + seconds * 1000;
  const tick = () => {
    const left = Math.ceil((end - Date.now()) / 1000);
    const button = $('button', form);
    button.disabled = left > 0;
    if (left > 0) say(form, reason + ': try again in ' + left + ' s', true);
    else { clearInterval(lockTimer); say(form, 'You can try again now.'); }
  };
  setTimeout(tick, 0);
  lockTimer = setInterval(tick, 1000);
}

/* ---- Start ---- */

function onSubmit(id, fn) {
  const form = document.getElementById(id);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    fn(form, ev.submitter);
  });
}

/* The state first: if a password is wanted, that shows the sign-in page
 * (and no event stream is opened that the browser would ask a password
 * for); then the pushed changes. */
async function connect() {
  try {
    stateChanged(await request('GET', '/api/state'));
  } catch (e) {
    if (!(e instanceof PlugError)) text('link', 'plug unreachable');
    if (currentPage === 'login') return;
  }
  follow();
  await loadTrail();
  await discover();
  if (location.hash === '#mqtt') route();
}

/* Whether this firmware has MQTT: its command answers, or is unknown. */
async function discover() {
  try {
    const reply = await request('POST', '/api/command', { cmnd: 'MqttHost' });
    plug.mqtt = reply.Command !== 'Unknown';
    $('nav a[data-needs="mqtt"]').hidden = !plug.mqtt;
  } catch (e) { /* the state request says what is wrong */ }
}

function start() {
  $('#relay').addEventListener('click', toggleRelay);
  onSubmit('wifi-form', saveWifi);
  onSubmit('setup-form', saveWifi);
  onSubmit('mqtt-form', saveMqtt);
  onSubmit('name-form', (f) => setting(f, 'DeviceName'));
  onSubmit('pos-form', (f) => setting(f, 'PowerOnState'));
  onSubmit('password-form', savePassword);
  onSubmit('pins-form', savePins);
  onSubmit('import-form', (f) => importTemplate(f, f.elements.json.value));
  onSubmit('export-form', copyTemplate);
  onSubmit('cal-form', (f, submitter) => calibrate(f, submitter.value));
  onSubmit('console-form', runConsole);
  onSubmit('login-form', login);
  $('#restart').addEventListener('click', () => restart('restart'));
  const dialog = $('#reset-dialog');
  $('#reset').addEventListener('click', () => dialog.showModal());
  dialog.addEventListener('close', () => { if (dialog.returnValue === 'reset') restart('reset'); });
  wireBars();
  window.addEventListener('hashchange', route);
  window.addEventListener('resize', () => { if (currentPage === 'home') showHome(); });
  setInterval(sample, 1000);
  setInterval(watchPlug, 1000);
  setInterval(() => { if (currentPage === 'home') loadHistory(); }, 60000);
  route();
  connect();
}

start();
