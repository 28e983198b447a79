// Dashboard: counts and latest calls, refreshed when the server pushes a status change
// (Server-Sent Events); polls every 5 s when the event stream cannot be used.
(function () {
  "use strict";
  var table = document.getElementById("latest-calls");
  if (!table) return;
  var live = document.getElementById("live-state");
  var body = table.querySelector("tbody");
  var timer = null;
  var poller = null;

  function setMode(mode) {
    live.dataset.mode = mode;
    live.textContent = "● " + live.dataset[mode];
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function duration(s) {
    if (!s) return "–";
    var t = Math.round(s);
    return Math.floor(t / 60) + ":" + String(t % 60).padStart(2, "0");
  }

  function render(state) {
    Object.keys(state.counts).forEach(function (status) {
      var el = document.getElementById("count-" + status);
      if (el) el.textContent = state.counts[status];
    });
    body.textContent = "";
    if (!state.calls.length) {
      var empty = document.createElement("tr");
      var td = cell(empty, table.dataset.empty);
      td.colSpan = 6;
      td.className = "empty";
      body.appendChild(empty);
    }
    state.calls.forEach(function (c) {
      var row = document.createElement("tr");
      row.dataset.callId = c.call_id;
      row.dataset.status = c.status;
      var first = document.createElement("td");
      var a = document.createElement("a");
      a.href = c.view_url;
      a.textContent = c.call_id;
      first.appendChild(a);
      row.appendChild(first);
      var st = document.createElement("td");
      var badge = document.createElement("span");
      badge.className = "badge status-" + c.status.toLowerCase();
      badge.textContent = c.status_label;
      st.appendChild(badge);
      row.appendChild(st);
      cell(row, c.operator_id || "–");
      cell(row, c.department || "–");
      cell(row, c.call_date);
      cell(row, duration(c.duration_s));
      body.appendChild(row);
    });
  }

  function refresh() {
    return fetch(table.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function () { /* the next push or poll tries again */ });
  }

  function refreshSoon() {
    // a burst of events (several workers) becomes one request
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 250);
  }

  function startPolling() {
    if (poller) return;
    setMode("polling");
    poller = setInterval(refresh, 5000);
  }

  function stopPolling() {
    if (poller) { clearInterval(poller); poller = null; }
  }

  if (!window.EventSource) { startPolling(); return; }
  var failures = 0;
  var source = new EventSource(table.dataset.events);
  source.addEventListener("open", function () {
    failures = 0;
    stopPolling();
    setMode("sse");
    refreshSoon(); // catch up on anything missed while reconnecting
  });
  source.addEventListener("call", refreshSoon);
  source.addEventListener("unavailable", startPolling);
  source.addEventListener("error", function () {
    failures += 1;
    // EventSource reconnects by itself (the server ends each stream after a minute);
    // poll meanwhile when it keeps failing
    if (failures >= 2 || source.readyState === EventSource.CLOSED) startPolling();
  });
})();
