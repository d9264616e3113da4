// Attest progressive enhancement. Every page works without this file; it only adds conveniences.
(function () {
  "use strict";

  // "Use my location": fills the coordinate fields from the device's position, on request only.
  var tool = document.querySelector(".location-tool");
  if (tool && "geolocation" in navigator) {
    var button = document.getElementById("use-location");
    var status = document.getElementById("location-status");
    var latitude = document.getElementById("location-latitude");
    var longitude = document.getElementById("location-longitude");
    tool.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = tool.dataset.locating;
      navigator.geolocation.getCurrentPosition(function (position) {
        latitude.value = position.coords.latitude.toFixed(5);
        longitude.value = position.coords.longitude.toFixed(5);
        status.textContent = tool.dataset.found;
      }, function () {
        status.textContent = tool.dataset.failed;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  // Move focus to the error summary, so keyboard and screen-reader users hear what to fix.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Print button on the receipt (printing from the browser menu works without it).
  var print = document.getElementById("print-receipt");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
