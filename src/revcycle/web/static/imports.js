/* The import page: a drop zone over the file input, and an upload with a progress bar.
   Without this file the form still posts the file (the page works without JavaScript). */
(function () {
  "use strict";

  function meta(name, fallback) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : fallback;
  }

  function showFileName(form) {
    var input = form.querySelector("input[type=file]");
    var label = form.querySelector("[data-file-name]");
    if (input && label) {
      label.textContent = input.files && input.files.length ? "Chosen: " + input.files[0].name : "";
    }
  }

  function bindDropzone(form) {
    var zone = form.querySelector("[data-dropzone]");
    var input = form.querySelector("input[type=file]");
    if (!zone || !input) {
      return;
    }
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("rc-dropzone-over");
      });
    });
    ["dragleave", "dragend"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("rc-dropzone-over");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      zone.classList.remove("rc-dropzone-over");
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        showFileName(form);
      }
    });
    input.addEventListener("change", function () {
      showFileName(form);
    });
  }

  // The answer to a refused upload is the upload page with its message: show its content.
  function showPage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var incoming = doc.querySelector("main");
    var current = document.querySelector("main");
    if (incoming && current) {
      current.innerHTML = incoming.innerHTML;
      init();
      var feedback = current.querySelector(".alert");
      if (feedback) {
        feedback.scrollIntoView({ block: "center" });
      }
    }
  }

  function upload(form) {
    var progress = form.querySelector("[data-upload-progress]");
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("[data-upload-button]");
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action"));
    request.setRequestHeader(meta("csrf-header", "X-CSRF-Token"), meta("csrf-token", ""));
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    progress.hidden = false;
    button.disabled = true;
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        var percent = Math.round((event.loaded / event.total) * 100);
        bar.value = percent;
        status.textContent = "Uploading… " + percent + "%";
      }
    });
    request.upload.addEventListener("load", function () {
      bar.value = 100;
      status.textContent = "Uploaded. Reading and matching the rows…";
    });
    request.addEventListener("load", function () {
      var type = request.getResponseHeader("content-type") || "";
      if (request.status < 300 && type.indexOf("application/json") === 0) {
        window.location.assign(JSON.parse(request.responseText).location);
        return;
      }
      if (request.status === 401) {
        window.location.assign("/login");
        return;
      }
      showPage(request.responseText);
    });
    request.addEventListener("error", function () {
      button.disabled = false;
      status.textContent = "The upload did not reach the server. Check the connection and try again.";
    });
    request.send(new FormData(form));
  }

  function bindUpload(form) {
    bindDropzone(form);
    form.addEventListener("submit", function (event) {
      if (typeof window.FormData === "undefined" || !form.checkValidity()) {
        return; // the browser's own validation or a plain post
      }
      event.preventDefault();
      upload(form);
    });
  }

  function bindMapping() {
    var select = document.querySelector("[data-mapping-target]");
    if (!select) {
      return;
    }
    function show() {
      document.querySelectorAll("[data-mapping-fields]").forEach(function (fieldset) {
        var chosen = fieldset.getAttribute("data-mapping-fields") === select.value;
        fieldset.hidden = !chosen;
        fieldset.disabled = !chosen;
      });
    }
    select.addEventListener("change", show);
    show();
  }

  function init() {
    document.querySelectorAll("[data-upload-form]").forEach(bindUpload);
    bindMapping();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
