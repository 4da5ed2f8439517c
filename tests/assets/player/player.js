// Plays a live MPD with dash.js and records what the player itself observed: its
// events (playback started, waiting/stalled, buffer empty/loaded, errors) and, for every
// segment it loaded, the response status and the origin's Live-Pipeline header (read
// through dash.js's response interceptor; the origin exposes it with CORS).
'use strict';

const params = new URLSearchParams(location.search);
const mpdUrl = params.get('mpd') || 'http://127.0.0.1:8080/live/try/_dash.mpd';
const seconds = Number(params.get('seconds') || 20);
const reportUrl = params.get('report');
// hold_load=URL: an image from there keeps the page's load event pending until it
// arrives, so `chromium --headless --screenshot` takes its picture when the caller
// answers it, mid-playback.
const holdLoad = params.get('hold_load');
if (holdLoad) {
  const img = document.createElement('img');
  img.src = holdLoad;
  img.style.display = 'none';
  document.body.appendChild(img);
}

const t0 = performance.now();
const now = () => Math.round(performance.now() - t0);
const $ = (id) => document.getElementById(id);

const report = {
  mpd: mpdUrl,
  dashjs: dashjs.Version || (dashjs.MediaPlayer().create().getVersion && dashjs.MediaPlayer().create().getVersion()),
  user_agent: navigator.userAgent,
  mse_support: {},
  started_ms: null,       // first 'playing' (ms since page start)
  played_s: 0,            // currentTime advanced while playing, after start
  stalls: [],             // {type, from_ms, to_ms, ms}: waiting/bufferStalled after start
  longest_stall_ms: 0,
  events: [],             // {t, name, ...}
  segments: [],           // {t, type, media, url, status, pipeline, held_ms}
  errors: [],
  samples: [],            // {t, current_time, latency, buffer}
};

for (const type of ['video/mp4; codecs="avc1.64000d"', 'audio/mp4; codecs="mp4a.40.2"', 'audio/mp4; codecs="opus"',
                    'video/mp4; codecs="vp09.00.10.08"', 'video/mp4; codecs="av01.0.04M.08"',
                    'video/mp4; codecs="hvc1.1.6.L93.B0"']) {
  report.mse_support[type] = window.MediaSource ? MediaSource.isTypeSupported(type) : false;
}

$('mpd-url').textContent = mpdUrl;
const video = $('video');
video.muted = true;
const player = dashjs.MediaPlayer().create();
player.updateSettings({
  debug: { logLevel: dashjs.Debug.LOG_LEVEL_WARNING },
  streaming: { cmsd: { enabled: true } },
});

// Every response dash.js receives, before it uses it.
player.addResponseInterceptor((response) => {
  try {
    const req = response.request || {};
    const custom = (req.customData && req.customData.request) || {};
    const url = response.url || req.url || '';
    const headers = response.headers || {};
    const pick = (name) => headers[name] || headers[name.toLowerCase()] || null;
    const cmsd = pick('cmsd-static') || '';
    const held = /(?:^|,)ht=(\d+)/.exec(cmsd);
    const entry = {
      t: now(),
      type: custom.type || null,
      media: custom.mediaType || null,
      url: url.replace(/^.*\/live\//, '/live/'),
      status: response.status,
      pipeline: pick('live-pipeline'),
      held_ms: held ? Number(held[1]) : null,
    };
    report.segments.push(entry);
    if (entry.type === 'MediaSegment' && entry.media === 'video') showSegment(entry);
  } catch (e) {
    report.errors.push({ t: now(), error: String(e) });
  }
  return Promise.resolve(response);
});

let stallStart = {};  // by kind
function stallBegin(kind) {
  if (report.started_ms === null || stallStart[kind] !== undefined) return;
  stallStart[kind] = now();
}
function stallEnd(kind) {
  if (stallStart[kind] === undefined) return;
  const from = stallStart[kind];
  delete stallStart[kind];
  const ms = now() - from;
  report.stalls.push({ type: kind, from_ms: from, to_ms: from + ms, ms });
  report.longest_stall_ms = Math.max(report.longest_stall_ms, ms);
}
function event(name, extra) {
  report.events.push(Object.assign({ t: now(), name }, extra || {}));
}

const E = dashjs.MediaPlayer.events;
player.on(E.STREAM_INITIALIZED, () => event('streamInitialized'));
player.on(E.PLAYBACK_STARTED, () => event('playbackStarted'));
player.on(E.PLAYBACK_PLAYING, () => {
  event('playbackPlaying');
  if (report.started_ms === null) report.started_ms = now();
  stallEnd('playbackWaiting');
});
player.on(E.PLAYBACK_WAITING, () => { event('playbackWaiting'); stallBegin('playbackWaiting'); });
player.on(E.PLAYBACK_STALLED, () => event('playbackStalled'));
player.on(E.BUFFER_EMPTY, (e) => { event('bufferStalled', { media: e.mediaType }); stallBegin('bufferStalled:' + e.mediaType); });
player.on(E.BUFFER_LOADED, (e) => { event('bufferLoaded', { media: e.mediaType }); stallEnd('bufferStalled:' + e.mediaType); });
player.on(E.ERROR, (e) => { event('error'); report.errors.push({ t: now(), error: JSON.stringify(e.error || e) }); });
player.on(E.PLAYBACK_ERROR, (e) => report.errors.push({ t: now(), error: 'playback: ' + String(e.error) }));
video.addEventListener('waiting', () => { event('video.waiting'); stallBegin('video.waiting'); });
video.addEventListener('playing', () => { event('video.playing'); stallEnd('video.waiting'); });

const counts = { a: 0, b: 0 };
function showSegment(s) {
  if (s.pipeline in counts) counts[s.pipeline]++;
  $('counts').innerHTML = `<span class="a">${counts.a}</span> / <span class="b">${counts.b}</span>`;
  const table = $('segments');
  const row = table.insertRow(1);
  row.insertCell().textContent = s.url.replace(/^.*\//, '') + (s.status === 200 ? '' : ' ' + s.status);
  const cell = row.insertCell();
  cell.textContent = s.pipeline || '-';
  cell.className = s.pipeline === 'a' ? 'a' : s.pipeline === 'b' ? 'b' : 'bad';
  while (table.rows.length > 9) table.deleteRow(table.rows.length - 1);
}

let lastTime = null;
let reported = false;
setInterval(() => {
  const t = video.currentTime;
  const playing = !video.paused && video.readyState >= 3;
  if (report.started_ms !== null && lastTime !== null && t > lastTime && t - lastTime < 5) report.played_s += t - lastTime;
  lastTime = t;
  let latency = null, buffer = null;
  try { latency = player.getCurrentLiveLatency(); } catch (e) {}
  try { buffer = player.getBufferLength('video'); } catch (e) {}
  report.samples.push({ t: now(), current_time: Number(t.toFixed(3)), latency, buffer });
  $('state').innerHTML = playing ? '<span class="good">playing</span>'
                                 : (report.started_ms === null ? 'starting' : '<span class="bad">waiting</span>');
  $('played').textContent = report.played_s.toFixed(1) + ' s';
  $('latency').textContent = latency === null || isNaN(latency) ? '-' : latency.toFixed(2) + ' s';
  $('buffer').textContent = buffer === null || isNaN(buffer) ? '-' : buffer.toFixed(2) + ' s';
  $('stalls').textContent = String(report.stalls.length + Object.keys(stallStart).length);
  $('longest').textContent = report.longest_stall_ms + ' ms';
  if (!reported && report.started_ms !== null && report.played_s >= seconds) finish();
}, 250);

function finish() {
  reported = true;
  // A stall still open counts up to now.
  for (const kind of Object.keys(stallStart)) {
    const ms = now() - stallStart[kind];
    report.stalls.push({ type: kind, from_ms: stallStart[kind], to_ms: null, ms });
    report.longest_stall_ms = Math.max(report.longest_stall_ms, ms);
  }
  report.reported_ms = now();
  const text = JSON.stringify(report);
  $('report').textContent = text;
  if (reportUrl) fetch(reportUrl, { method: 'POST', body: text, headers: { 'Content-Type': 'text/plain' } }).catch(() => {});
}

player.initialize(video, mpdUrl, true);
