// A staff login's idle timeout, as the screen sees it (ketacare.accounts.sessions):
// - htmx requests fired by a timer (hx-trigger="every ...") carry X-Ketacare-Poll: 1, so a
//   polling page does not keep a login alive;
// - the seconds of idleness left come with every answer (X-Session-Idle-Left); in the last
//   minute a notice counts down with a button to stay signed in; at zero the page goes to the
//   login page.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="ketacare-session-idle"]');
  if (!meta) return; // not signed in
  var left = parseInt(meta.content, 10);
  var notice = null;

  function isPoll(detail) {
    var spec = (detail.elt && detail.elt.getAttribute("hx-trigger")) || "";
    return /\bevery\b/.test(spec) && !detail.triggeringEvent;
  }

  document.addEventListener("htmx:configRequest", function (e) {
    if (isPoll(e.detail)) e.detail.headers["X-Ketacare-Poll"] = "1";
  });
  document.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail.xhr;
    var value = xhr && xhr.getResponseHeader("X-Session-Idle-Left");
    if (value !== null && value !== undefined && value !== "") update(parseInt(value, 10));
  });

  function update(seconds) {
    left = seconds;
    if (left > 60 && notice) {
      notice.remove();
      notice = null;
    }
  }

  function stay() {
    var token = document.querySelector('input[name="csrfmiddlewaretoken"]');
    fetch("/accounts/keepalive/", {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token ? token.value : "" },
    }).then(function (r) {
      var value = r.headers.get("X-Session-Idle-Left");
      if (r.ok && value) update(parseInt(value, 10));
      else location.reload();
    });
  }

  function show() {
    if (!notice) {
      notice = document.createElement("div");
      notice.className = "session-notice";
      notice.setAttribute("role", "alert");
      var text = document.createElement("span");
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Stay signed in";
      button.addEventListener("click", stay);
      notice.appendChild(text);
      notice.appendChild(button);
      document.body.insertBefore(notice, document.body.firstChild);
    }
    notice.firstChild.textContent =
      "You will be signed out in " + left + " s because nothing was done on this screen. ";
  }

  setInterval(function () {
    left -= 1;
    if (left <= 0) {
      location.assign("/accounts/login/?next=" + encodeURIComponent(location.pathname));
    } else if (left <= 60) {
      show();
    }
  }, 1000);
})();
