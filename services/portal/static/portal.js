// Live parts over Server-Sent Events ([data-unread] counters, the [data-watch] vote or issue).
// Everything works without this file; it only saves a reload.
(function () {
  "use strict";
  // Live parts: one EventSource per page, proxied by the portal from notify's live stream;
  // if the stream cannot be had, a slow look at /live/poll instead.
  var counters = document.querySelectorAll("[data-unread]");
  var watched = document.querySelector("[data-watch]");
  function showCount(count) {
    counters.forEach(function (el) {
      el.textContent = count === "0" && !el.classList.contains("inline") ? "" : count;
      el.dataset.count = count;
    });
  }
  function showTurnout(data) {
    var t = typeof data === "string" ? JSON.parse(data) : data;
    var ballots = watched.querySelector('[data-field="ballots"]');
    if (ballots) { ballots.textContent = t.ballots; }
    ["area", "headcount"].forEach(function (key) {
      var bar = watched.querySelector('[data-bar="' + key + '"]');
      var text = watched.querySelector('[data-field="' + key + '-text"]');
      if (bar) {
        bar.setAttribute("aria-valuenow", t[key].pct);
        bar.querySelector(".fill").style.width = t[key].pct + "%";
      }
      if (text) { text.textContent = t[key].text; }
    });
  }
  function showStatus(data) {
    var s = typeof data === "string" ? JSON.parse(data) : data;
    var badge = document.querySelector('[data-field="status"]');
    var cosigns = document.querySelector('[data-field="cosigns"]');
    if (badge) { badge.textContent = s.label; badge.className = "status s-" + s.status; }
    if (cosigns) { cosigns.textContent = s.cosigns; }
  }
  // a form sent from this page navigates by itself: the page must not reload itself meanwhile
  // (closing a vote from its own page would otherwise make the browser drop one of the two)
  var leaving = false;
  window.addEventListener("submit", function (e) { if (!e.defaultPrevented) { leaving = true; } });
  function reload() { if (!leaving) { window.location.reload(); } }
  var shows = {unread: showCount, turnout: showTurnout, status: showStatus, closed: reload};
  function live() {
    if (!counters.length && !watched) { return; }
    var query = watched ? "?compound=" + encodeURIComponent(watched.dataset.compound) + "&" +
      watched.dataset.watch + "=" + encodeURIComponent(watched.dataset.id) : "";
    var polling = false;
    function poll() {
      fetch("/live/poll" + query, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; })
        .then(function (found) {
          Object.keys(shows).forEach(function (name) {
            if (found && found[name] !== undefined) { shows[name](found[name]); }
          });
          window.setTimeout(poll, ((found && found.every) || 30) * 1000);
        });
    }
    function fallBack() { if (!polling) { polling = true; window.setTimeout(poll, 1000); } }
    if (!window.EventSource) { fallBack(); return; }
    var source = new EventSource("/live" + query);
    Object.keys(shows).forEach(function (name) {
      source.addEventListener(name, function (e) {
        if (name === "closed") { source.close(); }
        shows[name](e.data);
      });
    });
    source.addEventListener("session", function () { source.close(); });
    // an EventSource retries a dropped stream by itself; CLOSED means it was refused (503)
    source.onerror = function () {
      if (source.readyState === EventSource.CLOSED) { fallBack(); }
    };
    window.addEventListener("pagehide", function () { source.close(); });
  }
  live();
  // a category's extra questions show only when it is chosen (without script: after a round trip)
  var category = document.getElementById("category");
  if (category) {
    var showAttributes = function () {
      document.querySelectorAll("fieldset.attrs").forEach(function (set) {
        set.hidden = set.dataset.category !== category.value;
      });
    };
    category.addEventListener("change", showAttributes);
    showAttributes();
  }
  // htmx posts carry the page's CSRF token like the forms do
  document.addEventListener("htmx:configRequest", function (e) {
    var field = document.querySelector('input[name="csrf"]');
    if (field) { e.detail.headers["X-CSRF-Token"] = field.value; }
  });
})();
