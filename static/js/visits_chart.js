/* Draws the "visits over time" bar chart on the company page. The data comes from the
   <script type="application/json" id="visits-chart-data"> element written with json_script:
   {label, days, labels: ["YYYY-MM-DD", ...], counts: [n, ...]}. No data is ever read from
   anywhere else, so nothing user-supplied is evaluated as code. */
(function () {
  "use strict";
  var source = document.getElementById("visits-chart-data");
  var canvas = document.getElementById("visits-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var labels = data.labels.map(function (day) {
    var d = new Date(day + "T00:00:00Z");
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  });
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [{
        label: data.label,
        data: data.counts,
        backgroundColor: "rgba(79, 70, 229, 0.75)",
        borderRadius: 3,
        maxBarThickness: 18
      }]
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: { grid: { display: false }, ticks: { maxTicksLimit: 10, autoSkip: true } },
        y: { beginAtZero: true, ticks: { precision: 0 } }
      }
    }
  });
  canvas.dataset.rendered = "true";
}());
