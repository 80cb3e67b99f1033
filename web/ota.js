/* OpenPlug web UI: the firmware update page (#ota).  Its own file, loaded
 * after app.js and using its helpers ($, text, say, request, command,
 * showLogin, pages, route): it builds its section, registers the page, and
 * uploads the image with POST /api/ota (docs/API.md), showing the plug's own
 * progress (GET /api/ota: the bytes written to flash) in a progress bar,
 * then waits for the plug to come back with the new version. */
'use strict';

/* seen: progress values shown; stages: written, verified, restarting, running (or failed) */
const ota = { uploading: false, done: null, seen: [], stages: [] };
window.openplugOta = ota;

const OTA_PAGE = `
<h2>Firmware update</h2>
<div class="card">
  <p>Running <b id="ota-version">–</b> from slot <b id="ota-slot">–</b><span id="ota-trial"></span></p>
  <p id="ota-last" class="msg"></p>
  <button id="ota-confirm" type="button" hidden>Keep this firmware</button>
</div>
<form id="ota-form" class="card form">
  <p>An OTA image made by <code>mkota</code> (RAW: the plug can go back if the new firmware does not start;
     XZ: smaller, no way back). It is checked before anything is switched.</p>
  <label>Image (.ota) <input type="file" name="image" accept=".ota,.bin" required></label>
  <progress id="ota-progress" max="100" value="0" hidden></progress>
  <button type="submit">Upload and install</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>
<form id="ota-url-form" class="card form">
  <label>Or let the plug download it (OtaUrl) <input name="url" type="url" maxlength="127" spellcheck="false"
    autocomplete="off" placeholder="http://192.168.1.10:8000/openplug.ota" required></label>
  <button type="submit">Download and install</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>`;

function otaShowStatus(s) {
  text('ota-slot', String(s.Slot));
  text('ota-trial', s.Trial ? ' (on trial: it keeps itself after 30 s online)' : '');
  $('#ota-confirm').hidden = !s.Trial;
  const last = otaFailure(s);
  text('ota-last', last);
  $('#ota-last').classList.toggle('error', !!last);
}

/* What went wrong with the last update, from the plug's own account
 * (GET /api/ota, as OtaStatus): '' when nothing did. */
function otaFailure(s) {
  if (s.LastUpdate === 'rolled back') return 'The last update did not start: the plug went back to this firmware.';
  if (s.LastUpdate === 'failed' && s.State !== 'failed')
    return 'The last update failed at the restart: the boot loader could not install the image, this firmware stayed.';
  if (s.State === 'failed' || s.LastUpdate === 'failed') return 'Last update failed: ' + (s.Error || 'no reason given');
  return '';
}

async function otaLoad() {
  try {
    $('#ota-url-form').elements.url.value = (await command('OtaUrl')).OtaUrl;
    const fw = await command('Status 2');
    text('ota-version', fw.StatusFWR.Version);
    otaShowStatus(await request('GET', '/api/ota'));
  } catch (e) {
    text('ota-last', e.message);
  }
}

/* The plug's own count of bytes written, while the upload runs. */
async function otaFollow(bar) {
  while (ota.uploading) {
    try {
      const s = await request('GET', '/api/ota');
      if ((s.State === 'receiving' || s.State === 'finishing') && s.Percent !== bar.value) {
        bar.value = s.Percent;
        ota.seen.push(s.Percent);
      }
    } catch (e) { /* the upload's reply says what went wrong */ }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function otaPost(file) {
  return postFile('/api/ota', file, 'the running firmware stays');
}

/* After the switch the plug restarts: wait until the new boot answers (the
 * old one still says "done"), then believe only what it says it runs. */
async function otaWaitBack(form) {
  const since = Date.now();
  while (Date.now() - since < 60000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    let s, fw;
    try {
      s = await request('GET', '/api/ota');
      if (s.State === 'done') continue;
      fw = (await command('Status 2')).StatusFWR.Version;
    } catch (e) {
      say(form, 'Restarting… (' + Math.round((Date.now() - since) / 1000) + ' s)');
      continue;
    }
    text('ota-version', fw);
    otaShowStatus(s);
    const failure = otaFailure(s);
    if (failure) throw new PlugError(failure + ' Running ' + fw + '.');
    return fw;
  }
  throw new PlugError('the plug did not come back within a minute');
}

function otaStage(form, stage, message) {
  ota.stages.push(stage);
  say(form, message);
}

async function otaUpload(form) {
  const file = form.elements.image.files[0];
  if (!file || ota.uploading) return;
  const bar = $('#ota-progress');
  const button = $('button[type=submit]', form);
  bar.hidden = false;
  bar.value = 0;
  button.disabled = true;
  ota.uploading = true;
  ota.done = null;
  ota.seen = [];
  ota.stages = [];
  say(form, 'Uploading ' + file.name + '…');
  otaFollow(bar);
  try {
    const result = await otaPost(file);
    bar.value = 100;
    ota.stages.push('written');
    otaStage(form, 'verified', 'Version ' + result.Version + ' written and verified (read back from flash).');
    ota.uploading = false;
    otaStage(form, 'restarting', 'Version ' + result.Version + ' written and verified. Restarting into it…');
    const running = await otaWaitBack(form);
    ota.done = running;
    otaStage(form, 'running', 'Updated: now running ' + running + '.');
  } catch (e) {
    ota.done = 'failed';
    ota.stages.push('failed');
    say(form, e.message, true);
  } finally {
    ota.uploading = false;
    button.disabled = false;
  }
}

/* OtaUrl, then Upgrade 1: the plug pulls the image; the page follows the
 * same progress and restart as an upload. */
async function otaPull(form) {
  if (ota.uploading) return;
  const button = $('button', form);
  button.disabled = true;
  ota.uploading = true;
  ota.done = null;
  ota.stages = [];
  try {
    await command('OtaUrl ' + form.elements.url.value.trim());
    await command('Upgrade 1');
    say(form, 'Downloading…');
    /* Until the image is in ("done"), or the plug has already restarted
     * into it (gone, or idle after it worked). */
    for (let working = false; ;) {
      await new Promise((resolve) => setTimeout(resolve, 400));
      let s;
      try { s = await request('GET', '/api/ota'); } catch (e) { if (working) break; throw e; }
      if (s.State === 'failed') throw new PlugError('The plug refused the image: ' + (s.Error || 'no reason given'));
      if (s.State === 'done' || (s.State === 'idle' && working)) break;
      working = working || s.State !== 'idle';
      if (s.Total) say(form, 'Downloading and writing: ' + s.Percent + ' %');
    }
    ota.stages.push('written');
    otaStage(form, 'verified', 'Written and verified (read back from flash).');
    ota.uploading = false;
    otaStage(form, 'restarting', 'Written and verified. Restarting into it…');
    const running = await otaWaitBack(form);
    ota.done = running;
    otaStage(form, 'running', 'Updated: now running ' + running + '.');
  } catch (e) {
    ota.done = 'failed';
    ota.stages.push('failed');
    say(form, e.message, true);
  } finally {
    ota.uploading = false;
    button.disabled = false;
  }
}

/* Keep the new firmware: the table is written in the next loop turns. */
async function otaConfirm() {
  try {
    await command('OtaConfirm');
    for (let i = 0; i < 20; i++) {
      const s = await request('GET', '/api/ota');
      otaShowStatus(s);
      if (!s.Trial) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch (e) {
    text('ota-last', e.message);
  }
}

(function otaStart() {
  const section = document.createElement('section');
  section.id = 'page-ota';
  section.className = 'page';
  section.hidden = true;
  section.innerHTML = OTA_PAGE;
  $('main').appendChild(section);
  $('#ota-form').addEventListener('submit', (ev) => { ev.preventDefault(); otaUpload(ev.target); });
  $('#ota-confirm').addEventListener('click', otaConfirm);
  $('#ota-url-form').addEventListener('submit', (ev) => { ev.preventDefault(); otaPull(ev.target); });
  pages.ota = { show: otaLoad };
  if (location.hash === '#ota') route();
})();
