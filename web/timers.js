/* OpenPlug web UI: the Timers page (#timers).  Its own file, loaded after
 * app.js and using its helpers ($, text, say, command, pages, route): it
 * builds its section and registers the page.  Everything goes through
 * Tasmota's commands, as a console would send them: `Timers` lists the
 * sixteen timers and arms or disarms them all, `Timer<x> {json}` sets one
 * (the plug checks every value and its error is shown as it is),
 * `Timer<x> 0` clears one; Latitude and Longitude for sunrise and sunset.
 * A timer whose fields are all at their cleared values is a free slot:
 * "Add a timer" edits the first one. */
'use strict';

/* list: the timers as the plug last sent them; saved: the last timer saved (tests) */
const timers = { list: [], saved: null, editing: 0 };
window.openplugTimers = timers;

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ACTIONS = ['Off', 'On', 'Toggle', 'Script event'];
const CLEARED = '{"Enable":0,"Mode":0,"Time":"00:00","Window":0,"Days":"0000000","Repeat":0,"Output":1,"Action":0}';

const TIMERS_PAGE = `
<h2>Timers</h2>
<div class="card form">
  <label class="check"><input id="timers-armed" type="checkbox"> Timers armed (off: none of them fires)</label>
  <ul id="timer-list" class="timer-list" aria-label="Timers"></ul>
  <button id="timer-add" type="button">Add a timer</button>
  <p id="timers-msg" class="msg" role="status" aria-live="polite"></p>
</div>
<form id="timer-form" class="card form" hidden>
  <h3 id="timer-title"></h3>
  <label class="check"><input name="Enable" type="checkbox"> Enabled</label>
  <label>When <select name="Mode">
    <option value="0">At a time of day</option><option value="1">At sunrise, with an offset</option>
    <option value="2">At sunset, with an offset</option></select></label>
  <div class="timer-time">
    <label id="timer-sign-label" hidden>Offset <select name="sign">
      <option value="+">after</option><option value="-">before</option></select></label>
    <label><span id="timer-time-label">Time</span> <input name="Time" required inputmode="numeric" maxlength="5"
      pattern="[0-9]{1,2}:[0-9]{2}" placeholder="hh:mm" autocomplete="off"></label>
  </div>
  <label>Random shift, up to ± minutes (0..15) <input name="Window" type="number" min="0" max="15" required></label>
  <fieldset class="timer-days"><legend>Days</legend>${DAY_NAMES.map((d, i) =>
    `<label class="check"><input type="checkbox" name="day${i}"> ${d}</label>`).join('')}</fieldset>
  <label class="check"><input name="Repeat" type="checkbox"> Repeat (off: it fires once, then disarms itself)</label>
  <label>Action <select name="Action">${ACTIONS.map((a, i) => `<option value="${i}">${a}</option>`).join('')}</select></label>
  <label>Relay (Output) <input name="Output" type="number" min="1" max="16" required></label>
  <p id="timer-event-hint" class="hint" hidden>Runs the script handlers added with
    <code>addEventHandler OnTimer <span id="timer-event-number"></span> …</code> (Tasmota: Clock#Timer).</p>
  <div class="buttons timer-buttons">
    <button type="button" id="timer-delete" class="danger">Delete</button>
    <button type="button" id="timer-cancel" class="quiet">Cancel</button>
    <button type="submit">Save</button>
  </div>
  <p class="msg" role="status" aria-live="polite"></p>
</form>
<form id="location-form" class="card form">
  <p class="hint">Sunrise and sunset are worked out for the plug's place.</p>
  <div class="row timer-location">
    <label>Latitude, ° north <input name="Latitude" type="number" min="-90" max="90" step="0.000001"></label>
    <label>Longitude, ° east <input name="Longitude" type="number" min="-180" max="180" step="0.000001"></label>
  </div>
  <button type="submit">Save the place</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>`;

function timerDays(days) {
  const on = DAY_NAMES.filter((d, i) => days[i] === '1');
  if (on.length === 7) return 'every day';
  if (days === '0111110') return 'Mon–Fri';
  if (days === '1000001') return 'weekends';
  return on.length ? on.join(', ') : 'no day';
}

function timerWhen(t) {
  if (t.Mode === 0) return t.Time;
  const sign = t.Time.startsWith('-') ? '−' : '+';
  return (t.Mode === 1 ? 'Sunrise ' : 'Sunset ') + sign + t.Time.replace('-', '');
}

function timerSummary(t) {
  return timerWhen(t) + (t.Window ? ' ±' + t.Window + ' min' : '') + ' · ' + timerDays(t.Days) + ' · ' +
    (t.Action === 3 ? 'script event' : ACTIONS[t.Action] + ' relay ' + t.Output) + (t.Repeat ? '' : ' · once');
}

function timerRow(t, x) {
  const row = document.createElement('li');
  const toggle = document.createElement('input');
  toggle.type = 'checkbox';
  toggle.className = 'timer-switch';
  toggle.checked = !!t.Enable;
  toggle.setAttribute('role', 'switch');
  toggle.setAttribute('aria-label', 'Timer ' + x + ' enabled');
  toggle.addEventListener('change', () => timerSend(x, { Enable: toggle.checked ? 1 : 0 }, $('#timers-msg')));
  const label = document.createElement('span');
  label.className = 'grow';
  label.innerHTML = '<b></b> <span></span>';
  label.firstChild.textContent = 'Timer ' + x;
  label.lastChild.textContent = timerSummary(t);
  const edit = document.createElement('button');
  edit.type = 'button';
  edit.className = 'quiet';
  edit.textContent = 'Edit';
  edit.setAttribute('aria-label', 'Edit timer ' + x);
  edit.addEventListener('click', () => timerEdit(x));
  row.append(toggle, label, edit);
  return row;
}

function timersShow(reply) {
  $('#timers-armed').checked = reply.Timers === 'ON';
  $('#timer-list').classList.toggle('disarmed', reply.Timers !== 'ON');
  timers.list = [];
  for (let x = 1; x <= 16; x++) timers.list.push(reply['Timers' + Math.ceil(x / 4)]['Timer' + x]);
  const rows = [];
  timers.list.forEach((t, i) => { if (JSON.stringify(t) !== CLEARED) rows.push(timerRow(t, i + 1)); });
  $('#timer-list').replaceChildren(...rows);
  if (!rows.length) text('timers-msg', 'No timers yet.');
}

async function timersLoad() {
  try {
    timersShow(await command('Timers'));
    const form = $('#location-form');
    form.elements.Latitude.value = (await command('Latitude')).Latitude;
    form.elements.Longitude.value = (await command('Longitude')).Longitude;
  } catch (e) {
    say($('#timers-msg').parentElement, e.message, true);
  }
}

/* The form's sign and labels follow the mode. */
function timerModeShown(form) {
  const sun = form.elements.Mode.value !== '0';
  $('#timer-sign-label').hidden = !sun;
  text('timer-time-label', sun ? 'hours:minutes' : 'Time');
  const event = form.elements.Action.value === '3';
  $('#timer-event-hint').hidden = !event;
  form.elements.Output.disabled = event;
}

function timerEdit(x, fresh) {
  const form = $('#timer-form');
  const t = fresh || timers.list[x - 1];
  timers.editing = x;
  text('timer-title', 'Timer ' + x);
  text('timer-event-number', String(x));
  form.elements.Enable.checked = !!t.Enable;
  form.elements.Mode.value = String(t.Mode);
  form.elements.sign.value = t.Time.startsWith('-') ? '-' : '+';
  form.elements.Time.value = fresh ? '' : t.Time.replace('-', '');
  form.elements.Window.value = t.Window;
  DAY_NAMES.forEach((d, i) => { form.elements['day' + i].checked = t.Days[i] === '1'; });
  form.elements.Repeat.checked = !!t.Repeat;
  form.elements.Action.value = String(t.Action);
  form.elements.Output.value = t.Output;
  $('#timer-delete').hidden = !!fresh;
  say(form, '');
  timerModeShown(form);
  form.hidden = false;
  form.scrollIntoView({ block: 'nearest' });
  form.elements.Time.focus();
}

function timerAdd() {
  const free = timers.list.findIndex((t) => JSON.stringify(t) === CLEARED);
  if (free < 0) { say($('#timers-msg').parentElement, 'All 16 timers are in use: delete one first.', true); return; }
  timerEdit(free + 1, { Enable: 1, Mode: 0, Time: '', Window: 0, Days: '1111111', Repeat: 1, Output: 1, Action: 1 });
}

/* Timer<x> with Tasmota's JSON (or 0 to clear); the plug's reply, or its error said where it belongs. */
async function timerSend(x, value, where) {
  try {
    await command('Timer' + x + ' ' + (typeof value === 'object' ? JSON.stringify(value) : value));
    timers.saved = x;
    timersShow(await command('Timers'));
    return true;
  } catch (e) {
    if (where.tagName === 'FORM') say(where, e.message, true);
    else { say(where.parentElement, e.message, true); timersShow(await command('Timers')); }
    return false;
  }
}

async function timerSave(form) {
  const f = form.elements;
  const sun = f.Mode.value !== '0';
  const json = {
    Enable: f.Enable.checked ? 1 : 0, Mode: Number(f.Mode.value),
    Time: (sun && f.sign.value === '-' ? '-' : '') + f.Time.value, Window: Number(f.Window.value),
    Days: DAY_NAMES.map((d, i) => (f['day' + i].checked ? '1' : '0')).join(''), Repeat: f.Repeat.checked ? 1 : 0,
    Action: Number(f.Action.value),
  };
  if (!f.Output.disabled) json.Output = Number(f.Output.value);
  if (await timerSend(timers.editing, json, form)) {
    form.hidden = true;
    say($('#timers-msg').parentElement, 'Timer ' + timers.editing + ' saved.');
  }
}

async function timerDelete() {
  const form = $('#timer-form');
  if (await timerSend(timers.editing, 0, form)) {
    form.hidden = true;
    say($('#timers-msg').parentElement, 'Timer ' + timers.editing + ' deleted.');
  }
}

async function locationSave(form) {
  try {
    for (const name of ['Latitude', 'Longitude']) form.elements[name].value = (await command(name + ' ' + form.elements[name].value))[name];
    say(form, 'Saved.');
  } catch (e) {
    say(form, e.message, true);
  }
}

async function timersArm(box) {
  try {
    timersShow(await command('Timers ' + (box.checked ? 1 : 0)));
    say($('#timers-msg').parentElement, box.checked ? 'Timers armed.' : 'Timers disarmed: none fires.');
  } catch (e) {
    say($('#timers-msg').parentElement, e.message, true);
  }
}

(function timersStart() {
  const section = document.createElement('section');
  section.id = 'page-timers';
  section.className = 'page';
  section.hidden = true;
  section.innerHTML = TIMERS_PAGE;
  $('main').appendChild(section);
  const form = $('#timer-form');
  form.addEventListener('submit', (ev) => { ev.preventDefault(); timerSave(form); });
  form.elements.Mode.addEventListener('change', () => timerModeShown(form));
  form.elements.Action.addEventListener('change', () => timerModeShown(form));
  $('#timer-cancel').addEventListener('click', () => { form.hidden = true; });
  $('#timer-delete').addEventListener('click', timerDelete);
  $('#timer-add').addEventListener('click', timerAdd);
  $('#timers-armed').addEventListener('change', (ev) => timersArm(ev.target));
  $('#location-form').addEventListener('submit', (ev) => { ev.preventDefault(); locationSave(ev.target); });
  pages.timers = { show: timersLoad };
  if (location.hash === '#timers') route();
})();
