/* OpenPlug web UI: the pages beyond the basics, in one file (a browser
 * loads the UI over the plug's few connections: one more file would be one
 * more connection at once).  Loaded after app.js and using its helpers ($,
 * text, say, busy, fact, request, command, showLogin, pages, route, onSubmit).
 *
 * - #scripts, the automation page: the startup command (GET/POST
 *   /api/config), autoexec.bat edited in place and the other files of the
 *   store (/api/files: list, upload, download, delete), and the event
 *   tables (listEvents, clearEvents).  Both scripts run at the next boot,
 *   not in safe mode.
 * - #info, #time, #energy: Information, Time and Energy.  Every value shown
 *   is the plug's answer to a console command or GET /api/state; settings
 *   are sent as those same commands, only the ones changed.
 */
'use strict';

const scripts = { saved: null };
window.openplugScripts = scripts;

const SCRIPTS_PAGE = `
<h2>Automation</h2>
<form id="startup-form" class="card form">
  <label>Startup command (run at every boot, before autoexec.bat; not in safe mode)
    <textarea name="StartupCommand" rows="2" maxlength="255" spellcheck="false"
      placeholder="startDriver BL0937; startDriver NTP; startDriver SSDP"></textarea></label>
  <button type="submit">Save</button>
  <p class="msg" role="status"></p>
</form>
<form id="autoexec-form" class="card form">
  <label>autoexec.bat (one command a line; // comments)
    <textarea name="text" rows="8" spellcheck="false"
      placeholder="addEventHandler OnClick 17 toggleChannel 1&#10;addClockEvent 07:30 0x3E Power on"></textarea></label>
  <button type="submit">Save</button>
  <p class="msg" role="status"></p>
</form>
<form id="files-form" class="card form">
  <table class="files"><caption>Files (8 at most, 8128 bytes each)</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">Bytes</th><th scope="col"></th></tr></thead>
    <tbody id="files-body"></tbody></table>
  <label>Upload a file (a certificate, a script) <input type="file" name="file"></label>
  <button type="submit">Upload</button>
  <p class="msg" role="status"></p>
</form>
<div class="card">
  <pre id="events" class="log" aria-label="Event handlers, repeating and clock events"></pre>
  <button id="events-refresh" type="button">Refresh</button>
  <button id="events-clear" type="button" class="danger">Remove all events</button>
</div>`;

/* A file's bytes over /api/files (a body that is not JSON). */
async function filesFetch(method, name, body) {
  const options = { method, credentials: 'same-origin', headers: { 'X-Requested-With': 'OpenPlug' } };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/octet-stream';
    options.body = body;
  }
  const reply = await fetch('/api/files/' + encodeURIComponent(name), options);
  if (reply.status === 401) { showLogin(); throw new PlugError('sign in first'); }
  return reply;
}

async function filesError(reply) {
  let data = null;
  try { data = await reply.json(); } catch (e) { /* no JSON body */ }
  return new PlugError((data && data.error) || reply.status + ' ' + reply.statusText);
}

function filesRow(file) {
  const row = document.createElement('tr');
  const name = document.createElement('td');
  const link = document.createElement('a');
  link.href = '/api/files/' + encodeURIComponent(file.name);
  link.textContent = file.name;
  link.download = file.name;
  name.appendChild(link);
  const size = document.createElement('td');
  size.textContent = String(file.size);
  const action = document.createElement('td');
  const del = document.createElement('button');
  del.type = 'button';
  del.className = 'danger';
  del.textContent = 'Delete';
  del.addEventListener('click', () => filesDelete(file.name));
  action.appendChild(del);
  row.append(name, size, action);
  return row;
}

async function filesList() {
  const list = await request('GET', '/api/files');
  const body = $('#files-body');
  body.replaceChildren(...list.files.map(filesRow));
  return list;
}

async function filesDelete(name) {
  const form = $('#files-form');
  const reply = await filesFetch('DELETE', name);
  if (reply.status !== 204) say(form, (await filesError(reply)).message, true);
  else say(form, name + ' deleted.');
  await filesList();
  if (name === 'autoexec.bat') $('#autoexec-form').elements.text.value = '';
}

async function eventsShow() {
  try {
    const e = (await command('listEvents')).Events;
    const lines = [];
    for (const h of e.Handlers) lines.push('#' + h.Id + ' ' + h.Event + ' ' + h.Arg + ': ' + h.Command + (h.Disabled ? '  (disabled: it looped)' : ''));
    for (const r of e.Repeating) lines.push('#' + r.Id + ' every ' + r.Seconds + ' s (' + (r.TimesLeft < 0 ? 'forever' : r.TimesLeft + ' left') + '): ' + r.Command);
    for (const c of e.Clock) lines.push('#' + c.Id + ' at ' + c.Time + ' (days ' + c.Days + '): ' + c.Command);
    if (!lines.length) lines.push('No events.');
    lines.push('', 'Script commands run: ' + e.Commands + ', errors: ' + e.Errors + ', dropped: ' + e.Dropped);
    text('events', lines.join('\n'));
  } catch (err) {
    text('events', err.message);
  }
}

async function scriptsLoad() {
  try {
    const config = await request('GET', '/api/config');
    $('#startup-form').elements.StartupCommand.value = config.StartupCommand || '';
    const reply = await filesFetch('GET', 'autoexec.bat');
    $('#autoexec-form').elements.text.value = reply.ok ? await reply.text() : '';
    await filesList();
  } catch (e) {
    say($('#files-form'), e.message, true);
  }
  await eventsShow();
}

async function startupSave(form) {
  try {
    await request('POST', '/api/config', { StartupCommand: form.elements.StartupCommand.value.trim() });
    scripts.saved = 'startup';
    say(form, 'Saved: it runs at the next boot.');
  } catch (e) {
    say(form, e.message, true);
  }
}

async function autoexecSave(form) {
  const value = form.elements.text.value;
  try {
    const reply = value.trim() ? await filesFetch('PUT', 'autoexec.bat', value) : await filesFetch('DELETE', 'autoexec.bat');
    if (!reply.ok && reply.status !== 404) throw await filesError(reply);
    scripts.saved = 'autoexec';
    say(form, value.trim() ? 'Saved: it runs at the next boot.' : 'Removed.');
    await filesList();
  } catch (e) {
    say(form, e.message, true);
  }
}

async function fileUpload(form) {
  const file = form.elements.file.files[0];
  if (!file) return;
  try {
    const reply = await filesFetch('PUT', file.name, file);
    if (!reply.ok) throw await filesError(reply);
    scripts.saved = file.name;
    say(form, file.name + ' uploaded (' + file.size + ' bytes).');
    await filesList();
  } catch (e) {
    say(form, e.message, true);
  }
}

(function scriptsStart() {
  const section = document.createElement('section');
  section.id = 'page-scripts';
  section.className = 'page';
  section.hidden = true;
  section.innerHTML = SCRIPTS_PAGE;
  $('main').appendChild(section);
  const on = (id, fn) => $(id).addEventListener('submit', (ev) => { ev.preventDefault(); fn(ev.target); });
  on('#startup-form', startupSave);
  on('#autoexec-form', autoexecSave);
  on('#files-form', fileUpload);
  $('#events-refresh').addEventListener('click', eventsShow);
  $('#events-clear').addEventListener('click', async () => { await command('clearEvents'); await eventsShow(); });
  pages.scripts = { show: scriptsLoad };
  if (location.hash === '#scripts') route();
})();

/* ---- Information, Time, Energy ---- */

const PAGES_HTML = {
  info: `<h2>Information</h2>
<div class="card"><dl id="info-facts" class="facts"></dl></div>
<p class="msg" id="info-msg" role="status"></p>`,
  time: `<h2>Time</h2>
<div class="card"><dl id="time-facts" class="facts"></dl></div>
<form id="time-form" class="card form">
  <label>Time zone <input name="Timezone" maxlength="64" spellcheck="false" autocomplete="off"
    placeholder="+01:00, 99, or CET-1CEST,M3.5.0,M10.5.0/3"></label>
  <p class="hint">A fixed offset, a POSIX rule with its daylight saving dates, or 99 for the two rules below.</p>
  <label>Standard time starts (hemisphere,week,month,day,hour,offset)
    <input name="TimeStd" maxlength="40" spellcheck="false" autocomplete="off" placeholder="0,0,10,1,3,60"></label>
  <label>Daylight saving starts <input name="TimeDst" maxlength="40" spellcheck="false" autocomplete="off"
    placeholder="0,0,3,1,2,120"></label>
  <label>NTP server 1 <input name="NtpServer1" maxlength="64" spellcheck="false" autocomplete="off"></label>
  <label>NTP server 2 <input name="NtpServer2" maxlength="64" spellcheck="false" autocomplete="off"></label>
  <label>NTP server 3 <input name="NtpServer3" maxlength="64" spellcheck="false" autocomplete="off"></label>
  <button type="submit">Save</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>`,
  energy: `<h2>Energy</h2>
<form id="energy-form" class="card form">
  <label>Switch off above, W (0: never) <input name="MaxPower" type="number" min="0" max="4000"></label>
  <label>… for longer than, s <input name="MaxPowerHold" type="number" min="1" max="3600"></label>
  <label>Most energy a power cut may lose, Wh <input name="EnergySaveWh" type="number" min="1" max="1000"></label>
  <button type="submit">Save</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>
<form id="cost-form" class="card form">
  <label>Price per kWh, standard (every hour without tariffs; 0: no costs)
    <input name="EnergyPrice2" inputmode="decimal" maxlength="9" autocomplete="off"></label>
  <label>Price per kWh, off-peak <input name="EnergyPrice1" inputmode="decimal" maxlength="9" autocomplete="off"></label>
  <label>Off-peak starts (standard time, summer time) <input name="Tariff1" maxlength="11" spellcheck="false"
    autocomplete="off" placeholder="22:00,23:00"></label>
  <label>Standard starts (standard time, summer time) <input name="Tariff2" maxlength="11" spellcheck="false"
    autocomplete="off" placeholder="06:00,07:00"></label>
  <label>Weekends <select name="Tariff9"><option value="0">as weekdays</option>
    <option value="1">off-peak all day</option></select></label>
  <label>Currency <input name="Currency" maxlength="7" autocomplete="off" placeholder="EUR"></label>
  <button type="submit">Save</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>
<form id="counters-form" class="card form">
  <label>Total, kWh <input name="EnergyTotal" type="number" min="0" step="0.001"></label>
  <label>Today, kWh <input name="EnergyToday" type="number" min="0" step="0.001"></label>
  <div class="row"><button type="submit">Set counters</button>
    <button type="button" id="energy-reset" class="danger">Reset to zero…</button></div>
  <p class="msg" role="status" aria-live="polite"></p>
</form>`,
};

/* Fields of a form loaded from the plug's commands, one by one (a command
 * that answers with an error leaves its field empty and says why). */
const loaded = {};
async function loadFields(form, names, pick) {
  const errors = [];
  for (const name of names) {
    try {
      const reply = await command(name);
      form.elements[name].value = loaded[name] = String(pick ? pick(name, reply) : reply[name]);
    } catch (e) {
      form.elements[name].value = loaded[name] = '';
      errors.push(e.message);
    }
  }
  return errors;
}

/* Send the fields changed since loading, in order; the first refusal stops
 * and is said (what was sent before it stays, as on the console). */
function saveFields(form, names) {
  return busy(form, async () => {
    const sent = [];
    for (const name of names) {
      const value = form.elements[name].value.trim();
      if (value === loaded[name] || value === '') continue;
      await command(name + ' ' + value);
      loaded[name] = value;
      sent.push(name);
    }
    return sent.length ? 'Saved: ' + sent.join(', ') + '.' : 'Nothing changed.';
  });
}

/* ---- Information ---- */

async function infoLoad() {
  const list = $('#info-facts');
  try {
    const [state, st] = [await request('GET', '/api/state'), await command('Status 0')];
    const ota = await request('GET', '/api/ota');
    const h = state.health || {}, w = state.wifi || {};
    list.textContent = '';
    fact(list, 'Name', state.device_name);
    fact(list, 'Firmware', st.StatusFWR.Version);
    fact(list, 'Board', st.StatusFWR.Board + ', ' + st.StatusFWR.Hardware);
    fact(list, 'Slot', ota.Slot + (ota.Trial ? ' (on trial)' : ''));
    fact(list, 'Uptime', state.uptime);
    fact(list, 'Local time', state.time || 'not known yet');
    fact(list, 'Last restart', h.RestartReason || st.StatusPRM.RestartReason);
    fact(list, 'Boots', String(st.StatusPRM.BootCount));
    fact(list, 'Free heap', (state.heap_free / 1024).toFixed(1) + ' KiB (lowest ' + ((h.HeapMin || 0) / 1024).toFixed(1) + ' KiB)');
    fact(list, 'Settings saved', st.StatusPRM.SaveCount + ' times');
    fact(list, 'Wi-Fi', w.state + (w.ssid ? ', ' + w.ssid + ' ' + w.rssi + ' dBm' : ''));
    fact(list, 'Sockets', h.Sockets + ' of ' + h.SocketsMax);
    fact(list, 'MQTT', plug.mqtt ? (st.StatusSTS.MqttCount ? 'connected ' + st.StatusSTS.MqttCount + ' times' : 'not connected') : 'not in this firmware');
    fact(list, 'Safe mode', state.safe_mode ? 'yes' : 'no');
    text('info-msg', '');
  } catch (e) {
    text('info-msg', e.message);
  }
}

/* ---- Time ---- */

const TIME_FIELDS = ['Timezone', 'TimeStd', 'TimeDst', 'NtpServer1', 'NtpServer2', 'NtpServer3'];

async function timeLoad() {
  const form = $('#time-form');
  try {
    const tim = (await command('Status 7')).StatusTIM;
    const list = $('#time-facts');
    list.textContent = '';
    fact(list, 'Local time', tim.Local || 'not known yet');
    fact(list, 'UTC', tim.UTC || 'not known yet');
    fact(list, 'Set by', tim.ClockSource);
    fact(list, 'Rule', tim.TZ);
  } catch (e) {
    say(form, e.message, true);
  }
  /* TimeStd/TimeDst answer only for a zone with rules: empty otherwise. */
  await loadFields(form, TIME_FIELDS, (name, reply) =>
    (typeof reply[name] === 'object' && reply[name] !== null ? Object.values(reply[name]).join(',') : reply[name]));
}

/* ---- Energy ---- */

const ENERGY_FIELDS = ['MaxPower', 'MaxPowerHold', 'EnergySaveWh'];
const COUNTER_FIELDS = ['EnergyTotal', 'EnergyToday'];

/* Tasmota's Tariff1/2/9 and OpenPlug's EnergyPrice1/2, Currency (README, "Energy cost"). */
const COST_FIELDS = ['EnergyPrice2', 'EnergyPrice1', 'Tariff1', 'Tariff2', 'Tariff9', 'Currency'];
function costField(name, reply) {
  if (name.startsWith('EnergyPrice')) return reply.EnergyPrice[name === 'EnergyPrice1' ? 'Off-Peak' : 'Standard'];
  if (name === 'Tariff9') return reply.Tariff.Weekend === 'ON' ? 1 : 0;
  if (name.startsWith('Tariff')) {
    const starts = reply.Tariff[name === 'Tariff1' ? 'Off-Peak' : 'Standard'];
    return starts.STD + ',' + starts.DST;
  }
  return reply[name];
}

async function energyLoad() {
  const errors = await loadFields($('#energy-form'), ENERGY_FIELDS);
  if (errors.length) say($('#energy-form'), errors[0], true);
  await loadFields($('#cost-form'), COST_FIELDS, costField);
  await loadFields($('#counters-form'), COUNTER_FIELDS,
    (name, reply) => reply[name][name === 'EnergyTotal' ? 'Total' : 'Today'].toFixed(3));
}

async function energyReset() {
  const form = $('#counters-form');
  if (!confirm('Set Total, Yesterday and Today to zero? The history bars stay.')) return;
  await busy(form, async () => {
    await command('EnergyReset');
    await energyLoad();
    return 'Counters reset.';
  });
}

(function pagesStart() {
  for (const name of Object.keys(PAGES_HTML)) {
    const section = document.createElement('section');
    section.id = 'page-' + name;
    section.className = 'page';
    section.hidden = true;
    section.innerHTML = PAGES_HTML[name];
    $('main').appendChild(section);
  }
  onSubmit('time-form', (f) => saveFields(f, TIME_FIELDS).then(timeLoad));
  onSubmit('energy-form', (f) => saveFields(f, ENERGY_FIELDS));
  onSubmit('cost-form', (f) => saveFields(f, COST_FIELDS));
  onSubmit('counters-form', (f) => saveFields(f, COUNTER_FIELDS));
  $('#energy-reset').addEventListener('click', energyReset);
  pages.info = { show: infoLoad };
  pages.time = { show: timeLoad };
  pages.energy = { show: energyLoad };
  if (['#info', '#time', '#energy'].includes(location.hash)) route();
})();
