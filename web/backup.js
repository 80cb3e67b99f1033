/* OpenPlug web UI: the Backup & restore page (#backup).  Its own file,
 * loaded after app.js and using its helpers ($, say, busy, request,
 * postFile, addPage, showLogin, route, PlugError).  A backup is GET /api/backup (with
 * the energy records and the passwords only when ticked); a restore is
 * POST /api/restore with the file: the plug checks all of it before
 * anything changes and answers the exact reason of a refusal, shown as it
 * is; a good file is committed and applied by the restart that follows,
 * after which the page shows what the new boot says it applied
 * (GET /api/restore). */
'use strict';

const backup = { stages: [] };
window.openplugBackup = backup;

const BACKUP_PAGE = `
<h2>Backup &amp; restore</h2>
<form id="backup-form" class="card form">
  <p>One file with the settings, the template, the scripts and the other files of the plug.</p>
  <label class="check"><input name="energy" type="checkbox"> Energy counters and history</label>
  <label class="check"><input name="secrets" type="checkbox"> Passwords (Wi-Fi, MQTT, web): keep such a file safe</label>
  <button type="submit">Download backup</button>
  <p class="msg" role="status"></p>
</form>
<form id="restore-form" class="card form">
  <p>The whole file is checked before anything changes; then the plug restarts to apply it. A file without
     passwords keeps this plug's own. Files of the plug that are not in the backup are removed.</p>
  <label>Backup file (.opb) <input type="file" name="file" accept=".opb" required></label>
  <progress id="restore-progress" max="100" value="0" hidden></progress>
  <button type="submit">Restore</button>
  <p class="msg" role="status" aria-live="polite"></p>
</form>`;

async function backupDownload(form) {
  const query = ['energy', 'secrets'].filter((n) => form.elements[n].checked).map((n) => n + '=1').join('&');
  await busy(form, async () => {
    const reply = await fetch('/api/backup' + (query ? '?' + query : ''),
      { credentials: 'same-origin', headers: { 'X-Requested-With': 'OpenPlug' } });
    if (reply.status === 401) { showLogin(); throw new PlugError('sign in first'); }
    if (!reply.ok) throw new PlugError(reply.status + ' ' + reply.statusText);
    const blob = await reply.blob();
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = ($('#title').textContent || 'openplug').replace(/[^A-Za-z0-9._-]+/g, '_') + '-backup.opb';
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    return 'Saved ' + link.download + ' (' + blob.size + ' bytes).';
  });
}

/* The plug restarts to apply the file: wait for the new boot's account. */
async function restoreWaitBack(form) {
  const since = Date.now();
  while (Date.now() - since < 60000) {
    await sleep(500);
    try {
      const s = await request('GET', '/api/restore');
      if (s.State === 'idle' && s.LastRestore) return s.LastRestore;
    } catch (e) { /* restarting */ }
    say(form, 'Restarting to apply it… (' + Math.round((Date.now() - since) / 1000) + ' s)');
  }
  throw new PlugError('the plug did not come back within a minute');
}

async function restoreUpload(form) {
  const file = form.elements.file.files[0];
  const bar = $('#restore-progress');
  const button = $('button', form);
  if (!file || button.disabled) return;
  backup.stages = [];
  bar.hidden = false;
  bar.value = 0;
  button.disabled = true;
  say(form, 'Sending ' + file.name + '…');
  try {
    await postFile('/api/restore', file, 'nothing was changed', bar);
    backup.stages.push('committed');
    say(form, 'Checked: every part of the file is good. Restarting to apply it…');
    const applied = await restoreWaitBack(form);
    backup.stages.push('applied');
    say(form, 'Restored (' + applied + '). Reload the page to see the restored settings.');
  } catch (e) {
    backup.stages.push('failed');
    bar.hidden = true; /* the bytes went, the plug refused them: no full bar beside its reason */
    say(form, e.message, true);
  } finally {
    button.disabled = false;
  }
}

(function backupStart() {
  addPage('backup', BACKUP_PAGE, () => {});
  $('#backup-form').addEventListener('submit', (ev) => { ev.preventDefault(); backupDownload(ev.target); });
  $('#restore-form').addEventListener('submit', (ev) => { ev.preventDefault(); restoreUpload(ev.target); });
  if (location.hash === '#backup') route();
})();
