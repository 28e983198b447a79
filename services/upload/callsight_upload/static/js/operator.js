// An operator's weekly trend: QA score and talk share, silences and interruptions.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trend-data").textContent);
  if (!window.Chart) return;
  // drawn at once: no motion to wait for (or to distract), and screenshots show the data
  window.Chart.defaults.animation = false;
  var weeks = data.trend.map(function (w) { return w.week; });
  function series(name, scale) {
    return data.trend.map(function (w) { return w[name] === null ? null : w[name] * (scale || 1); });
  }
  new window.Chart(document.getElementById("trend-chart"), {
    type: "line",
    data: { labels: weeks, datasets: [
      { label: data.labels.qa, data: series("mean_qa_score"), borderColor: "#2563eb", backgroundColor: "#2563eb", spanGaps: true },
      { label: data.labels.talk + " (%)", data: series("mean_operator_talk_share", 100), borderColor: "#d97706", backgroundColor: "#d97706", spanGaps: true },
    ] },
    options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } },
  });
  new window.Chart(document.getElementById("trend-chart-2"), {
    type: "bar",
    data: { labels: weeks, datasets: [
      { label: data.labels.silence, data: series("mean_silence_s"), backgroundColor: "#9ca3af" },
      { label: data.labels.interruptions, data: series("mean_interruptions"), backgroundColor: "#dc2626" },
    ] },
    options: { maintainAspectRatio: false },
  });
})();
