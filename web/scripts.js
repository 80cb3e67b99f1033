/* OpenPlug web UI: the automation page (#scripts).  Its own file, loaded
 * after app.js and using its helpers ($, text, say, request, command,
 * showLogin, pages, route): the startup command (GET/POST /api/config),
 * autoexec.bat edited in place and the other files of the store
 * (/api/files: list, upload, download, delete), and the event tables
 * (listEvents, clearEvents).  Both scripts run at the next boot, not in
 * safe mode. */
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
