// Upload page: pick or drop several recordings, then send each one with its own
// progress bar to the Ingest endpoint (session + CSRF token instead of an API key).
// Once a file is accepted, the same row follows its call: Queued, then Processing with
// the worker's progress and ETA, then Done or Failed (the live events of /web/events).
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form) return;
  var labels = JSON.parse(form.dataset.labels);
  var liveLabels = JSON.parse(form.dataset.liveLabels);
  var watched = {}; // call_id -> entry
  var listening = false;
  var maxBytes = Number(form.dataset.maxBytes);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var input = document.getElementById("files");
  var zone = document.getElementById("dropzone");
  var rows = document.getElementById("file-rows");
  var message = document.getElementById("form-message");
  var entries = [];

  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) return (bytes / 1024 / 1024).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function setOutcome(entry, kind, text, link) {
    entry.row.dataset.outcome = kind;
    entry.outcome.textContent = "";
    var badge = document.createElement("span");
    badge.className = "badge outcome-" + kind;
    badge.textContent = labels[kind] || kind;
    entry.outcome.appendChild(badge);
    if (text) {
      var reason = document.createElement("span");
      reason.className = "reason";
      reason.textContent = " " + text;
      entry.outcome.appendChild(reason);
    }
    if (link) {
      var a = document.createElement("a");
      a.href = link;
      a.textContent = " " + labels.view_call;
      entry.outcome.appendChild(a);
    }
  }

  function addFiles(files) {
    message.hidden = true;
    Array.prototype.forEach.call(files, function (file) {
      var row = document.createElement("tr");
      var name = document.createElement("td");
      name.textContent = file.name + " (" + sizeText(file.size) + ")";
      var idCell = document.createElement("td");
      var idInput = document.createElement("input");
      idInput.className = "row-call-id";
      idInput.maxLength = 255;
      idInput.placeholder = file.name;
      idInput.setAttribute("aria-label", labels.call_id + ": " + file.name);
      idCell.appendChild(idInput);
      var progressCell = document.createElement("td");
      var progress = document.createElement("progress");
      progress.max = 100;
      progress.value = 0;
      progress.setAttribute("aria-label", file.name);
      progressCell.appendChild(progress);
      var outcome = document.createElement("td");
      outcome.className = "outcome";
      var actions = document.createElement("td");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link";
      remove.textContent = labels.remove;
      actions.appendChild(remove);
      row.append(name, idCell, progressCell, outcome, actions);
      rows.appendChild(row);
      var entry = { file: file, row: row, progress: progress, outcome: outcome, idInput: idInput, done: false };
      remove.addEventListener("click", function () {
        entries = entries.filter(function (e) { return e !== entry; });
        row.remove();
      });
      entries.push(entry);
      if (file.size > maxBytes) {
        entry.done = true;
        setOutcome(entry, "too_large", labels.too_large_reason);
      } else {
        setOutcome(entry, "waiting");
      }
    });
  }

  function send(entry) {
    return new Promise(function (resolve) {
      var data = new FormData();
      // text fields first: the server checks them before the recording's bytes arrive
      ["language", "operator_id", "customer_id", "department", "call_date"].forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) data.append(name, value);
      });
      var callId = entry.idInput.value.trim() || form.elements.call_id.value.trim();
      if (callId) data.append("call_id", callId);
      data.append("file", entry.file, entry.file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.dataset.endpoint);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) entry.progress.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {}; }
        entry.done = true;
        if (xhr.status === 201) {
          entry.progress.value = 100;
          setOutcome(entry, "accepted", body.call_id, form.dataset.callUrl.replace("__ID__", encodeURIComponent(body.call_id)));
          follow(entry, body);
        } else if (xhr.status === 409) {
          setOutcome(entry, "duplicate", body.message);
        } else if (xhr.status === 413) {
          setOutcome(entry, "too_large", body.message || labels.too_large_reason);
        } else if (xhr.status === 415) {
          setOutcome(entry, "unsupported", body.message);
        } else {
          setOutcome(entry, "failed", body.message || ("HTTP " + xhr.status));
        }
        resolve();
      });
      xhr.addEventListener("error", function () {
        setOutcome(entry, "failed", "network error");
        resolve();
      });
      setOutcome(entry, "uploading");
      xhr.send(data);
    });
  }

  // ---- after the upload: the call's processing in the same row --------------------------

  var RANK = { Queued: 0, Processing: 1, Done: 2, Failed: 2 };

  function showCall(entry, call, receivedAt) {
    var row = entry.row;
    // a read that left before a newer event arrived never moves the row back (a retry is a new upload)
    if (row.dataset.status && RANK[call.status] < RANK[row.dataset.status]) return;
    row.dataset.phase = "processing";
    row.dataset.status = call.status;
    var state = entry.state;
    if (!state) {
      state = document.createElement("div");
      state.className = "call-state";
      entry.outcome.appendChild(state);
      entry.state = state;
    }
    var text = liveLabels[call.status] || call.status;
    if (call.status === "Processing" && call.progress) {
      entry.progress.value = call.progress.percent;
      row.dataset.progress = String(call.progress.percent);
      text += " · " + window.CallsightLive.progressText(call.progress, liveLabels, receivedAt);
    } else if (call.status === "Queued") {
      entry.progress.value = 0;
    } else {
      entry.progress.value = 100;
    }
    if (call.status === "Failed" && call.error) text += " · " + call.error;
    state.textContent = text;
  }

  function onCall(call) {
    var entry = watched[call.call_id];
    if (entry) showCall(entry, call, call.receivedAt);
  }

  function catchUp() {
    // what happened before the stream was open: each followed call's state now
    Object.keys(watched).forEach(function (callId) {
      fetch(form.dataset.callApi.replace("__ID__", encodeURIComponent(callId)),
            { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (call) {
          var entry = watched[callId];
          if (call && entry && entry.row.dataset.status !== "Done" && entry.row.dataset.status !== "Failed") {
            showCall(entry, call, Date.now());
          }
        })
        .catch(function () { /* the next event tells */ });
    });
  }

  function follow(entry, call) {
    watched[call.call_id] = entry;
    showCall(entry, call, Date.now());
    if (listening) return;
    listening = true;
    var poll = null;
    window.CallsightLive.listen(form.dataset.events, onCall, function (mode) {
      if (mode === "sse") {
        if (poll) { clearInterval(poll); poll = null; }
        catchUp();
      } else if (!poll) {
        poll = setInterval(catchUp, 5000);
      }
    });
  }

  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { addFiles(e.dataTransfer.files); });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var pending = entries.filter(function (entry) { return !entry.done; });
    if (!pending.length) {
      message.textContent = labels.no_files;
      message.hidden = false;
      return;
    }
    var button = document.getElementById("upload-button");
    button.disabled = true;
    // one at a time: the files share the link, and the order of outcomes stays readable
    pending.reduce(function (chain, entry) {
      return chain.then(function () { return send(entry); });
    }, Promise.resolve()).then(function () { button.disabled = false; });
  });
})();
