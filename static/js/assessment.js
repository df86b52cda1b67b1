// The self-assessment dashboard (templates/assessment/dashboard.html): draws the progress of each practice area
// as a stacked bar chart with Chart.js. The table under it has the same numbers, for those who would rather read.
(function () {
  "use strict";

  // app.css's colours: accepted in the brand green, in place in a lighter green, in progress in amber.
  var COLORS = { accepted: "#0b5c4a", in_place: "#5fae8f", in_progress: "#d9a21b", not_started: "#dde3e0" };
  var INK = "#1d2521";
  var GRID = "#cfd8d3";
  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif';

  function draw() {
    var source = document.getElementById("progress-data");
    var canvas = document.getElementById("progress-chart");
    if (!source || !canvas || typeof window.Chart !== "function") {
      return;
    }
    var data = JSON.parse(source.textContent);
    var box = canvas.parentNode;
    box.hidden = false;
    // One row per practice area; Chart.js fills its box, so the box is given the height the rows need.
    box.style.height = Math.max(160, data.labels.length * 34 + 70) + "px";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.series.map(function (series) {
          return { label: series.label, data: series.data, backgroundColor: COLORS[series.key], maxBarThickness: 26 };
        }),
      },
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: true, ticks: { precision: 0, color: INK, font: { family: FONT } }, grid: { color: GRID } },
          y: { stacked: true, ticks: { color: INK, font: { family: FONT } }, grid: { display: false } },
        },
        plugins: {
          legend: { position: "bottom", labels: { color: INK, font: { family: FONT } } },
          tooltip: {
            callbacks: {
              title: function (items) {
                var index = items[0].dataIndex;
                return data.labels[index] + " · " + data.names[index];
              },
            },
          },
        },
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
