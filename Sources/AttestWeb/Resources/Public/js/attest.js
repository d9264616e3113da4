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

  // Resumable uploads (tus 1.0.0) with progress, pause and resume, and the file's SHA-256 computed here
  // (WebCrypto) so the server can check it received exactly what this device sent. Without JavaScript the
  // file field is sent with the form instead.
  var panel = document.querySelector(".upload-panel");
  var picker = document.getElementById("evidence");
  var canUpload = panel && picker && window.XMLHttpRequest && window.File && File.prototype.slice &&
    window.crypto && window.crypto.subtle && window.Blob && Blob.prototype.arrayBuffer;
  if (canUpload) {
    var form = picker.form;
    var list = document.getElementById("upload-list");
    var wait = document.getElementById("upload-wait");
    var chunkSize = 8 * 1024 * 1024;
    var texts = panel.dataset;
    var active = [];
    panel.hidden = false;

    var hex = function (buffer) {
      return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
        return ("0" + b.toString(16)).slice(-2);
      }).join("");
    };

    var request = function (method, url, headers, body, onProgress, owner) {
      return new Promise(function (resolve, reject) {
        var xhr = new XMLHttpRequest();
        if (owner) { owner.xhr = xhr; }
        xhr.open(method, url);
        xhr.setRequestHeader("Tus-Resumable", "1.0.0");
        Object.keys(headers).forEach(function (name) { xhr.setRequestHeader(name, headers[name]); });
        if (onProgress) { xhr.upload.onprogress = function (event) { onProgress(event.loaded); }; }
        xhr.onload = function () { resolve(xhr); };
        xhr.onerror = function () { reject(new Error("network")); };
        xhr.onabort = function () { reject(new Error("aborted")); };
        xhr.send(body || null);
      });
    };

    var startUpload = function (file) {
      var item = { file: file, url: null, offset: 0, paused: false, done: false, failed: false, xhr: null, tries: 0 };
      var li = document.createElement("li");
      li.className = "upload-item";
      var name = document.createElement("span");
      name.className = "upload-name";
      name.textContent = file.name;
      var bar = document.createElement("progress");
      bar.max = file.size || 1;
      bar.value = 0;
      var status = document.createElement("span");
      status.className = "upload-status";
      status.setAttribute("role", "status");
      var fingerprint = document.createElement("code");
      fingerprint.className = "hash upload-sha256";
      var pause = document.createElement("button");
      pause.type = "button";
      pause.className = "button-secondary upload-pause";
      pause.textContent = texts.pause;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button-secondary upload-remove";
      remove.textContent = texts.remove;
      [name, bar, status, pause, remove, fingerprint].forEach(function (node) { li.appendChild(node); });
      list.appendChild(li);
      active.push(item);
      var hidden = null;

      var fail = function (message) {
        item.failed = true;
        status.textContent = texts.failed + " " + message;
        pause.hidden = true;
      };
      var finish = function () {
        item.done = true;
        bar.value = bar.max;
        status.textContent = texts.done;
        pause.hidden = true;
        hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "uploads";
        hidden.value = item.url.split("/").pop();
        form.appendChild(hidden);
        if (wait) { wait.hidden = true; }
      };
      var send = function () {
        if (item.paused || item.done || item.failed) { return; }
        status.textContent = texts.uploading;
        var end = Math.min(item.offset + chunkSize, file.size);
        var chunk = file.slice(item.offset, end);
        var started = item.offset;
        request("PATCH", item.url, { "Upload-Offset": String(item.offset),
          "Content-Type": "application/offset+octet-stream" }, chunk, function (loaded) {
          bar.value = started + loaded;
        }, item).then(function (xhr) {
          if (xhr.status === 204) {
            item.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
            item.tries = 0;
            bar.value = item.offset;
            if (item.offset >= file.size) { finish(); } else { send(); }
          } else if (xhr.status === 409) {
            resume();
          } else {
            fail(xhr.responseText);
          }
        }, retry);
      };
      // After a dropped connection or a pause: ask the server where the upload stands, then continue.
      var resume = function () {
        request("HEAD", item.url, {}, null).then(function (xhr) {
          if (xhr.status !== 200) { fail(xhr.responseText || String(xhr.status)); return; }
          item.offset = parseInt(xhr.getResponseHeader("Upload-Offset"), 10);
          bar.value = item.offset;
          if (item.offset >= file.size) { finish(); } else { send(); }
        }, retry);
      };
      var retry = function (error) {
        if (item.paused || item.failed || (error && error.message === "aborted")) { return; }
        item.tries += 1;
        if (item.tries > 8) { fail(texts.retrying); return; }
        status.textContent = texts.retrying;
        setTimeout(resume, Math.min(30000, 1000 * Math.pow(2, item.tries - 1)));
      };

      pause.addEventListener("click", function () {
        if (item.paused) {
          item.paused = false;
          pause.textContent = texts.pause;
          resume();
        } else {
          item.paused = true;
          pause.textContent = texts.resume;
          status.textContent = texts.paused;
          if (item.xhr) { item.xhr.abort(); }
        }
      });
      remove.addEventListener("click", function () {
        item.failed = true;
        if (item.xhr) { item.xhr.abort(); }
        if (item.url && !item.done) { request("DELETE", item.url, {}, null).catch(function () {}); }
        if (hidden) { hidden.remove(); }
        active.splice(active.indexOf(item), 1);
        li.remove();
      });

      if (file.size > parseInt(texts.max, 10)) { fail(texts.tooLarge); return; }
      var hashed = file.size <= parseInt(texts.hashMax, 10)
        ? (status.textContent = texts.hashing, file.arrayBuffer().then(function (bytes) {
          return crypto.subtle.digest("SHA-256", bytes);
        }).then(hex))
        : Promise.resolve(null);
      hashed.then(function (sha256) {
        var headers = { "Upload-Length": String(file.size) };
        if (sha256) {
          headers["Upload-Metadata"] = "sha256 " + btoa(sha256);
          fingerprint.textContent = texts.fingerprint + " " + sha256;
        }
        return request("POST", texts.uploads, headers, null);
      }).then(function (xhr) {
        if (xhr.status !== 201) { fail(xhr.responseText); return; }
        item.url = xhr.getResponseHeader("Location");
        send();
      }, function () { fail(texts.retrying); });
    };

    picker.addEventListener("change", function () {
      Array.prototype.forEach.call(picker.files, startUpload);
      // The files now travel resumably; the form must not send them a second time.
      picker.value = "";
    });
    form.addEventListener("submit", function (event) {
      var pending = active.filter(function (item) { return !item.done && !item.failed; });
      if (pending.length > 0) {
        event.preventDefault();
        wait.textContent = texts.wait;
        wait.hidden = false;
      }
    });
  }

  // Print button on the receipt (printing from the browser menu works without it).
  var print = document.getElementById("print-receipt");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
