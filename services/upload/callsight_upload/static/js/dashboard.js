// Dashboard: counts and latest calls, kept live by the server's events (Server-Sent
// Events): a progress event moves that call's bar and ETA in place; a change of status
// (or a call the table does not show yet) refetches the counts and rows. Polls every
// 5 s when the event stream cannot be used.
(function () {
  "use strict";
  var table = document.getElementById("latest-calls");
  if (!table) return;
  var live = document.getElementById("live-state");
  var body = table.querySelector("tbody");
  var labels = JSON.parse(table.dataset.labels);
  var timer = null;
  var poller = null;

  function setMode(mode) {
    live.dataset.mode = mode;
    live.textContent = "● " + live.dataset[mode];
    if (mode === "polling") startPolling(); else stopPolling();
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

  function progressBlock() {
    var box = document.createElement("div");
    box.className = "call-progress";
    box.hidden = true;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var text = document.createElement("span");
    text.className = "progress-text";
    box.append(bar, text);
    return box;
  }

  // the status cell of one row, from a call as the JSON or an event has it
  function showStatus(row, call, receivedAt) {
    row.dataset.status = call.status;
    var badge = row.querySelector(".badge");
    badge.className = "badge status-" + call.status.toLowerCase();
    badge.textContent = labels[call.status] || call.status;
    var box = row.querySelector(".call-progress");
    if (!box) { box = progressBlock(); badge.parentNode.appendChild(box); }
    var p = call.status === "Processing" ? call.progress : null;
    box.hidden = !p;
    if (!p) { delete row.dataset.progress; return; }
    row.dataset.progress = String(p.percent);
    box.querySelector("progress").value = p.percent;
    var text = box.querySelector(".progress-text");
    text.dataset.etaS = p.eta_s === null || p.eta_s === undefined ? "" : String(p.eta_s);
    text.dataset.receivedAt = String(receivedAt);
    text.dataset.percent = String(p.percent);
    text.dataset.step = p.step || "";
    text.textContent = window.CallsightLive.progressText(p, labels, receivedAt);
  }

  function render(state) {
    var now = Date.now();
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
      var first = document.createElement("td");
      var a = document.createElement("a");
      a.href = c.view_url;
      a.textContent = c.call_id;
      first.appendChild(a);
      row.appendChild(first);
      var st = document.createElement("td");
      st.className = "status-cell";
      var badge = document.createElement("span");
      badge.className = "badge";
      st.appendChild(badge);
      row.appendChild(st);
      cell(row, c.operator_id || "–");
      cell(row, c.department || "–");
      cell(row, c.call_date);
      cell(row, duration(c.duration_s));
      body.appendChild(row);
      showStatus(row, c, now);
    });
  }

  function refresh() {
    return fetch(table.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(render)
      .catch(function () { /* the next push or poll tries again */ });
  }

  function refreshSoon() {
    // a burst of status changes (several workers) becomes one request
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 250);
  }

  function startPolling() {
    if (poller) return;
    poller = setInterval(refresh, 5000);
  }

  function stopPolling() {
    if (poller) { clearInterval(poller); poller = null; }
  }

  function onCall(call) {
    var row = body.querySelector('tr[data-call-id="' + CSS.escape(call.call_id) + '"]');
    if (call.deleted) { // gone everywhere: drop its row, the counts follow
      if (row) row.remove();
      refreshSoon();
      return;
    }
    var changed = !row || row.dataset.status !== call.status;
    if (row) showStatus(row, call, call.receivedAt);
    if (changed) refreshSoon(); // counts move, a new call joins the table
  }

  // the ETA counts down between two events
  setInterval(function () {
    body.querySelectorAll(".call-progress:not([hidden]) .progress-text").forEach(function (text) {
      if (!text.dataset.receivedAt) return;
      text.textContent = window.CallsightLive.progressText({
        percent: Number(text.dataset.percent), step: text.dataset.step,
        eta_s: text.dataset.etaS === "" ? null : Number(text.dataset.etaS),
      }, labels, Number(text.dataset.receivedAt));
    });
  }, 1000);

  window.CallsightLive.listen(table.dataset.events, onCall, function (mode) {
    setMode(mode);
    if (mode === "sse") refreshSoon(); // catch up on anything missed before or while (re)connecting
  });
})();
