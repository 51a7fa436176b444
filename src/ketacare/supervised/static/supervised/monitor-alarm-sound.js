/* The live monitor's audible alarm: a short two-tone beep (Web Audio, no sound file) when an
   alarm appears that this screen has not sounded yet. Muting is per screen (localStorage); the
   red alarm boxes on the board stay whatever the sound. Alarms already sounded are remembered
   for this tab (sessionStorage), so a page reload or an htmx poll does not sound them again. */
(function () {
  "use strict";
  var MUTED = "ketacare.monitor.muted";
  var HEARD = "ketacare.monitor.heard";
  var context = null;

  function muted() {
    try { return window.localStorage.getItem(MUTED) === "1"; } catch (e) { return false; }
  }

  function heard() {
    try { return JSON.parse(window.sessionStorage.getItem(HEARD) || "[]"); } catch (e) { return []; }
  }

  function remember(ids) {
    try { window.sessionStorage.setItem(HEARD, JSON.stringify(ids.slice(-500))); } catch (e) { /* private mode */ }
  }

  function audio() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    if (context === null) { context = new Context(); }
    if (context.state === "suspended" && context.resume) { context.resume(); }
    return context;
  }

  /* One alert: 880 Hz then 660 Hz, 0.4 s in all, with a soft attack and release. */
  function sound() {
    var ctx = audio();
    if (ctx === null) { return; }
    var now = ctx.currentTime;
    var tone = ctx.createOscillator();
    var gain = ctx.createGain();
    tone.type = "sine";
    tone.frequency.setValueAtTime(880, now);
    tone.frequency.setValueAtTime(660, now + 0.2);
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.3, now + 0.02);
    gain.gain.setValueAtTime(0.3, now + 0.36);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.4);
    tone.connect(gain);
    gain.connect(ctx.destination);
    tone.start(now);
    tone.stop(now + 0.42);
    showBlocked(ctx.state === "suspended");
  }

  function showBlocked(blocked) {
    var hint = document.getElementById("alarm-sound-blocked");
    if (hint) { hint.hidden = !blocked || muted(); }
  }

  /* Sound once for any alarm on the board not sounded on this screen before. */
  function check() {
    var seen = heard();
    var fresh = [];
    document.querySelectorAll("[data-alarm-id]").forEach(function (el) {
      var id = el.getAttribute("data-alarm-id");
      if (seen.indexOf(id) === -1 && fresh.indexOf(id) === -1) { fresh.push(id); }
    });
    if (fresh.length === 0) { return; }
    remember(seen.concat(fresh));
    if (!muted()) { sound(); }
  }

  function label(button) {
    var off = muted();
    button.textContent = off ? "Alarm sound: muted" : "Alarm sound: on";
    button.title = off ? "Alarms show on the board but make no sound; press to turn the sound on"
                       : "Press to mute alarm sounds on this screen";
    showBlocked(false);
  }

  function start() {
    var button = document.getElementById("alarm-sound");
    if (button) {
      button.hidden = false;
      label(button);
      button.addEventListener("click", function () {
        try { window.localStorage.setItem(MUTED, muted() ? "0" : "1"); } catch (e) { /* kept for this page only */ }
        label(button);
        if (!muted()) { audio(); }  // a click lets the browser start audio
      });
    }
    ["pointerdown", "keydown"].forEach(function (type) {
      document.addEventListener(type, function () {
        if (context !== null && context.state === "suspended") { context.resume(); showBlocked(false); }
      });
    });
    check();
    document.body.addEventListener("htmx:afterSettle", check);
  }

  window.ketacareMonitorSound = { check: check, sound: sound };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
