// Call view: the transcript follows the recording (the turn being spoken is
// highlighted), a click on a turn or a piece of evidence seeks there, and the
// analytics charts are drawn with the locally served Chart.js.
(function () {
  "use strict";
  var player = document.getElementById("player");
  var turns = Array.prototype.slice.call(document.querySelectorAll("#turns .turn"));
  var labels = document.getElementById("labels").dataset;
  var current = null;

  function seek(seconds) {
    if (!player) return;
    player.currentTime = Number(seconds);
    var playing = player.play();
    if (playing && playing.catch) playing.catch(function () { /* autoplay refused: the seek stands */ });
    highlight();
  }

  function highlight() {
    var t = player.currentTime;
    var found = null;
    for (var i = 0; i < turns.length; i++) {
      var start = Number(turns[i].dataset.start), end = Number(turns[i].dataset.end);
      if (t >= start && t < end) { found = turns[i]; }
      if (start > t) break;
    }
    if (found === current) return;
    if (current) { current.classList.remove("active"); current.removeAttribute("aria-current"); }
    current = found;
    if (current) {
      current.classList.add("active");
      current.setAttribute("aria-current", "true");
      var box = current.getBoundingClientRect();
      if (box.top < 0 || box.bottom > window.innerHeight) current.scrollIntoView({ block: "nearest" });
    }
    var cursor = document.getElementById("timeline-cursor");
    if (cursor && player.duration) cursor.style.left = (100 * t / player.duration) + "%";
  }

  if (player) {
    ["timeupdate", "seeked", "play"].forEach(function (type) { player.addEventListener(type, highlight); });
  }
  turns.forEach(function (turn) {
    turn.querySelector(".turn-button").addEventListener("click", function () { seek(turn.dataset.start); });
    turn.querySelector(".text").addEventListener("click", function () { seek(turn.dataset.start); });
  });
  document.querySelectorAll("[data-seek]").forEach(function (el) {
    el.addEventListener("click", function () { seek(el.dataset.seek); });
  });
  // positions from data attributes: the CSP allows no inline style attributes
  document.querySelectorAll(".timeline .mark").forEach(function (mark) {
    mark.style.left = (100 * Number(mark.dataset.left)) + "%";
    if (mark.dataset.width) mark.style.width = Math.max(0.5, 100 * Number(mark.dataset.width)) + "%";
  });

  var retry = document.getElementById("retry");
  if (retry) {
    retry.addEventListener("click", function () {
      retry.disabled = true;
      fetch(retry.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        window.location.reload();
      }).catch(function () {
        retry.disabled = false;
        document.getElementById("retry-message").hidden = false;
      });
    });
  }

  var swap = document.getElementById("swap-roles");
  if (swap) {
    swap.addEventListener("click", function () {
      swap.disabled = true;
      document.getElementById("swap-error").hidden = true;
      fetch(swap.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
                   "Content-Type": "application/json" },
        body: JSON.stringify({ swap: true }),
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        document.getElementById("swap-message").hidden = false;
        // the analysis workers rename the turns and analyse again: show the result when it is there
        setTimeout(function () { window.location.reload(); }, 3000);
      }).catch(function () {
        swap.disabled = false;
        document.getElementById("swap-error").hidden = false;
      });
    });
  }

  var deleteButton = document.getElementById("delete-call");
  var dialog = document.getElementById("delete-dialog");
  if (deleteButton && dialog) {
    deleteButton.addEventListener("click", function () { dialog.showModal(); });
    document.getElementById("delete-cancel").addEventListener("click", function () { dialog.close(); });
    var confirmButton = document.getElementById("delete-confirm");
    confirmButton.addEventListener("click", function () {
      confirmButton.disabled = true;
      fetch(deleteButton.dataset.url, {
        method: "DELETE", credentials: "same-origin",
        headers: { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content },
      }).then(function (r) {
        if (r.status !== 204) throw new Error(r.status);
        window.location.assign(deleteButton.dataset.done);
      }).catch(function () {
        confirmButton.disabled = false;
        document.getElementById("delete-message").hidden = false;
      });
    });
  }

  var data = JSON.parse(document.getElementById("chart-data").textContent);
  if (!data.analysis || !window.Chart) return;
  // drawn at once: no motion to wait for (or to distract), and screenshots show the data
  window.Chart.defaults.animation = false;
  var colours = { operator: "#2563eb", customer: "#d97706", mixed: "#6b7280" };
  var talk = data.analysis.talk;
  var names = Object.keys(talk);
  new window.Chart(document.getElementById("talk-chart"), {
    type: "doughnut",
    data: {
      labels: names.map(function (n) { return labels[n] || n; }),
      datasets: [{ data: names.map(function (n) { return talk[n]; }),
                   backgroundColor: names.map(function (n) { return colours[n] || "#6b7280"; }) }],
    },
    options: { maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } },
  });
  var speakers = {};
  data.analysis.sentiment.forEach(function (p) {
    (speakers[p.speaker] = speakers[p.speaker] || []).push({ x: p.start, y: p.score });
  });
  new window.Chart(document.getElementById("sentiment-chart"), {
    type: "line",
    data: {
      datasets: Object.keys(speakers).map(function (s) {
        return { label: labels[s] || s, data: speakers[s], borderColor: colours[s] || "#6b7280",
                 backgroundColor: colours[s] || "#6b7280", tension: 0.3 };
      }),
    },
    options: {
      maintainAspectRatio: false,
      scales: { x: { type: "linear", min: 0, max: data.duration || undefined, title: { display: true, text: "s" } },
                y: { min: -1, max: 1 } },
      onClick: function (evt, elements, chart) {
        var x = chart.scales.x.getValueForPixel(evt.x);
        if (x >= 0) seek(x);
      },
    },
  });
})();
