/* OpenPlug web UI: the protection banner and the PulseTime countdown of the
 * home page.  Loaded after app.js; app.js hands it the "limits" object of
 * each state (/api/state, the event stream's "state"): Tripped (a latched
 * cut-off, or "OFF") with its Limit, the margins' "ON"/"OFF", and
 * PulseTime<n> (ms left) while a countdown runs (docs/API.md). */
'use strict';

const TRIPS = {
  MaxPower: (l) => 'the power stayed above MaxPower (' + l + ' W)',
  MaxEnergy: (l) => "today's energy reached MaxEnergy (" + l + ' Wh); it comes back on at MaxEnergyStart tomorrow',
  MaxVoltage: (l) => 'the mains voltage stayed above MaxVoltage (' + l + ' V)',
  MinVoltage: (l) => 'the mains voltage stayed below MinVoltage (' + l + ' V)',
};
const MARGINS = ['PowerLow', 'PowerHigh', 'VoltageLow', 'VoltageHigh', 'CurrentLow', 'CurrentHigh'];

const limitsView = { pulseEnd: 0, timer: null };

function limitsElements() {
  let banner = $('#trip-banner');
  if (!banner) {
    banner = document.createElement('div');
    banner.id = 'trip-banner';
    banner.className = 'card banner';
    banner.setAttribute('role', 'alert');
    banner.hidden = true;
    banner.innerHTML = '<b id="trip-title"></b> <span id="trip-text"></span> <span id="trip-margins" class="note"></span>';
    const home = $('#page-home');
    home.insertBefore(banner, home.firstChild);
    const count = document.createElement('div');
    count.id = 'pulse-countdown';
    count.className = 'note';
    $('#relay-state').after(count);
  }
  return banner;
}

function showPulse() {
  const left = Math.max(0, Math.ceil((limitsView.pulseEnd - Date.now()) / 1000));
  const m = Math.floor(left / 60), s = left % 60;
  text('pulse-countdown', limitsView.pulseEnd && left ? 'Off in ' + m + ':' + two(s) + ' (PulseTime)' : '');
  if (!left) { clearInterval(limitsView.timer); limitsView.timer = null; }
}

function showLimits(limits) {
  if (!limits) return;
  const banner = limitsElements();
  const trip = TRIPS[limits.Tripped];
  const crossed = MARGINS.filter((name) => limits[name] === 'ON');
  banner.hidden = !trip && !crossed.length;
  banner.classList.toggle('tripped', !!trip);
  text('trip-title', trip ? 'Switched off by protection:' : 'Limits crossed:');
  text('trip-text', trip ? trip(limits.Limit) + '. Switch the relay on to reset it; until then it stays off, ' +
    'through restarts and power cuts.' : '');
  text('trip-margins', crossed.length ? (trip ? 'Limits crossed: ' : '') + crossed.join(', ') : '');
  const ms = limits.PulseTime1 || 0;
  limitsView.pulseEnd = ms ? Date.now() + ms : 0;
  if (ms && !limitsView.timer) limitsView.timer = setInterval(showPulse, 1000);
  showPulse();
}
window.openplugLimits = { show: showLimits };
if (plug.limits) showLimits(plug.limits); /* a state that came before this file */

/* The Energy page's protection settings (pages.js builds the page first):
 * each field is its command, sent only when changed; a refusal is shown
 * and nothing else after it is sent. */
const PROTECTION_FIELDS = ['MaxPowerWindow', 'MaxEnergy', 'MaxEnergyStart', 'MaxVoltage', 'MinVoltage',
  'VoltageHold', 'PulseTime1'];
(function protectionStart() {
  const energy = $('#page-energy');
  if (!energy) return;
  const form = document.createElement('form');
  form.id = 'protection-form';
  form.className = 'card form';
  form.innerHTML = `<h3>Protection</h3>
  <label>After a MaxPower trip, on again after, s (0: stay off) <input name="MaxPowerWindow" type="number" min="0" max="3600"></label>
  <label>Switch off when today reaches, Wh (0: never) <input name="MaxEnergy" type="number" min="0" max="65000"></label>
  <label>… counting from, hour <input name="MaxEnergyStart" type="number" min="0" max="23"></label>
  <label>Switch off above, V (0: never) <input name="MaxVoltage" type="number" min="0" max="500"></label>
  <label>Switch off below, V (0: never) <input name="MinVoltage" type="number" min="0" max="500"></label>
  <label>… for longer than, s <input name="VoltageHold" type="number" min="0" max="60"></label>
  <label>Switch off after each switch-on (PulseTime: 1..111 tenths of a second, 112.. seconds + 100; 0: never)
    <input name="PulseTime1" type="number" min="0" max="64900"></label>
  <button type="submit">Save</button>
  <p class="msg" role="status" aria-live="polite"></p>`;
  energy.insertBefore(form, $('#counters-form'));
  onSubmit('protection-form', (f) => saveFields(f, PROTECTION_FIELDS));
  const show = pages.energy.show;
  pages.energy.show = async () => {
    await show();
    const errors = await loadFields(form, PROTECTION_FIELDS,
      (name, reply) => (name === 'PulseTime1' ? reply.PulseTime1.Set : reply[name]));
    if (errors.length) say(form, errors[0], true);
  };
  if (location.hash === '#energy') route(); /* shown before this file came: again, with these fields */
})();
