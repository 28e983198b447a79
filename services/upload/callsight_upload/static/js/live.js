// Shared by the dashboard and the upload page: the organisation's live call events
// (Server-Sent Events from /web/events) and how a call's progress is written.
(function () {
  "use strict";

  function clock(seconds) {
    var t = Math.max(0, Math.round(seconds));
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m));
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // "42% · transcribing · about 1:05 left": the ETA counts down from when the event arrived
  function progressText(progress, labels, receivedAt) {
    var parts = [progress.percent + "%", labels["step_" + progress.step] || progress.step];
    if (progress.eta_s === null || progress.eta_s === undefined) {
      parts.push(labels.eta_estimating);
    } else {
      var left = progress.eta_s - (Date.now() - receivedAt) / 1000;
      parts.push(labels.eta_left.replace("{t}", clock(left)));
    }
    return parts.join(" · ");
  }

  // Opens the event stream; `onCall(body)` for each call event, `onMode("sse"|"polling")`.
  function listen(url, onCall, onMode) {
    if (!window.EventSource) { onMode("polling"); return null; }
    var failures = 0;
    var source = new EventSource(url);
    source.addEventListener("open", function () { failures = 0; onMode("sse"); });
    source.addEventListener("call", function (e) {
      var body;
      try { body = JSON.parse(e.data); } catch (err) { return; }
      body.receivedAt = Date.now();
      onCall(body);
    });
    source.addEventListener("unavailable", function () { onMode("polling"); });
    source.addEventListener("error", function () {
      failures += 1;
      // EventSource reconnects by itself; poll meanwhile when it keeps failing
      if (failures >= 2 || source.readyState === EventSource.CLOSED) onMode("polling");
    });
    return source;
  }

  window.CallsightLive = { listen: listen, progressText: progressText };
})();
