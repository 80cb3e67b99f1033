/* OpenPlug web UI: the Information, Time and Energy pages (#info, #time,
 * #energy).  Loaded after app.js and using its helpers ($, text, say, busy,
 * fact, request, command, pages, route).  Every value shown is the plug's
 * answer to a console command or GET /api/state; settings are sent as those
 * same commands, only the ones changed. */
'use strict';

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

async function energyLoad() {
  const errors = await loadFields($('#energy-form'), ENERGY_FIELDS);
  if (errors.length) say($('#energy-form'), errors[0], true);
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
  onSubmit('counters-form', (f) => saveFields(f, COUNTER_FIELDS));
  $('#energy-reset').addEventListener('click', energyReset);
  pages.info = { show: infoLoad };
  pages.time = { show: timeLoad };
  pages.energy = { show: energyLoad };
  if (['#info', '#time', '#energy'].includes(location.hash)) route();
})();
