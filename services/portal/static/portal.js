// Live parts over Server-Sent Events: [data-live] elements listen to their stream.
// Everything works without this file; it only saves a reload.
(function () {
  "use strict";
  function showCount(el, count) {
    el.textContent = count === "0" && !el.classList.contains("inline") ? "" : count;
    el.dataset.count = count;
  }
  function showTurnout(el, data) {
    var t = JSON.parse(data);
    var ballots = el.querySelector('[data-field="ballots"]');
    if (ballots) { ballots.textContent = t.ballots; }
    ["area", "headcount"].forEach(function (key) {
      var bar = el.querySelector('[data-bar="' + key + '"]');
      var text = el.querySelector('[data-field="' + key + '-text"]');
      if (bar) {
        bar.setAttribute("aria-valuenow", t[key].pct);
        bar.querySelector(".fill").style.width = t[key].pct + "%";
      }
      if (text) { text.textContent = t[key].text; }
    });
  }
  function showStatus(el, data) {
    var s = JSON.parse(data);
    var badge = document.querySelector('[data-field="status"]');
    var cosigns = document.querySelector('[data-field="cosigns"]');
    if (badge) { badge.textContent = s.label; badge.className = "status s-" + s.status; }
    if (cosigns) { cosigns.textContent = s.cosigns; }
  }
  document.querySelectorAll("[data-live]").forEach(function (el) {
    if (!window.EventSource) { return; }
    var source = new EventSource(el.dataset.live);
    source.addEventListener("unread", function (e) { showCount(el, e.data); });
    source.addEventListener("turnout", function (e) { showTurnout(el, e.data); });
    source.addEventListener("status", function (e) { showStatus(el, e.data); });
    source.addEventListener("closed", function () { source.close(); window.location.reload(); });
    source.addEventListener("session", function () { source.close(); });
    window.addEventListener("pagehide", function () { source.close(); });
  });
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
