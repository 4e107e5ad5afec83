/* apply.js: the application form's documents and sending, made comfortable.

   Each document input becomes a drop zone: files dropped on it or chosen with its button are
   added to a list showing name and size, each with a Remove button. Every file is checked
   against the limits the server renders into the form's data attributes (the server stays
   the authority), and a problem is shown in red beside the file before anything is sent.
   The form is then sent in the background so a progress bar can show the upload moving;
   the server's answer is shown as it came: the receipt, or the form with its problems.

   Files kept from a refused post (the server lists them above the zone, each with a "Remove"
   checkbox that works without this script) count toward the same limits; removing one hides
   it, and a required document input is required again once nothing is attached to it.

   The real <input type=file> stays the source of truth (the list is written back into it),
   so the keyboard path, the browser's own validation and a plain post all keep working.
   Without this script the form is an ordinary form and the server checks after the upload. */
(function () {
  "use strict";

  function supported() {
    try {
      return Boolean(new DataTransfer().items && window.FormData && window.XMLHttpRequest);
    } catch (error) {
      return false; // an older browser: the plain file inputs, checked on change as before
    }
  }

  var rich = supported();

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  /* "1.2 MB", "340 kB" in the page's language; decimal units, as the limits are stated. */
  function sizeText(bytes) {
    var big = bytes >= 100000;
    var amount = big ? bytes / 1e6 : Math.max(1, Math.round(bytes / 1e3));
    try {
      return new Intl.NumberFormat(document.documentElement.lang || undefined, {
        style: "unit", unit: big ? "megabyte" : "kilobyte", unitDisplay: "short",
        maximumFractionDigits: 1
      }).format(amount);
    } catch (error) {
      return (big ? amount.toFixed(1) + " MB" : amount + " kB");
    }
  }

  function extensionOf(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  }

  function enhance(form) {
    if (!form || form.hasAttribute("data-enhanced")) return;
    form.setAttribute("data-enhanced", "");
    var data = form.dataset;
    var maxFile = Number(data.maxFile), maxTotal = Number(data.maxTotal), maxFiles = Number(data.maxFiles);
    var extensions = (data.extensions || "").split(",");
    var status = form.querySelector("#file-status");
    var template = form.querySelector("#file-item");
    var zones = Array.prototype.map.call(form.querySelectorAll("input[type=file]"), function (input) {
      var keptList = input.closest(".field--file").querySelector(".file-list--kept");
      var kept = keptList ? Array.prototype.map.call(keptList.querySelectorAll(".file-item--kept"), function (item) {
        return { item: item, box: item.querySelector("input[type=checkbox]"), size: Number(item.dataset.size) };
      }) : [];
      return {
        input: input, files: Array.prototype.slice.call(input.files || []), kept: kept,
        required: Boolean(keptList && keptList.hasAttribute("data-required")) || input.required
      };
    });

    function keptOf(zone) {
      return zone.kept.filter(function (entry) { return !entry.box.checked; });
    }

    /* A required document is satisfied by a kept file as by a chosen one. */
    function updateRequired(zone) {
      zone.input.required = zone.required && keptOf(zone).length === 0;
    }

    zones.forEach(function (zone) {
      zone.kept.forEach(function (entry) {
        entry.box.addEventListener("change", function () {
          entry.item.hidden = entry.box.checked;
          updateRequired(zone);
          report();
          if (entry.box.checked) {
            // Focus goes to the next kept file's control, else to the drop zone's input.
            var next = keptOf(zone)[0];
            (next ? next.box : zone.input).focus();
          }
        });
        entry.item.hidden = entry.box.checked; // a page restored from the history
      });
      updateRequired(zone);
    });

    function fileProblem(file) {
      if (extensions.indexOf(extensionOf(file.name)) < 0) return fill(data.msgFileType, { name: file.name });
      if (file.size === 0) return fill(data.msgFileEmpty, { name: file.name });
      if (file.size > maxFile) return fill(data.msgFileSize, { name: file.name });
      return "";
    }

    /* Every problem with the chosen files, each input's own as its validity message, so the
       browser refuses to send the form and says why at the input. */
    function problems() {
      var found = [], count = 0, total = 0;
      zones.forEach(function (zone) {
        keptOf(zone).forEach(function (entry) {
          count += 1;
          total += entry.size;
        });
        var own = [];
        zone.files.forEach(function (file) {
          count += 1;
          total += file.size;
          var problem = fileProblem(file);
          if (problem) own.push(problem);
        });
        zone.input.setCustomValidity(own.join(" "));
        found = found.concat(own);
      });
      if (count > maxFiles) found.push(data.msgCount);
      else if (total > maxTotal) found.push(data.msgTotal);
      if ((count > maxFiles || total > maxTotal) && zones.length) {
        zones[zones.length - 1].input.setCustomValidity(found[found.length - 1]);
      }
      return found;
    }

    function report() {
      var found = problems();
      status.textContent = found.length ? data.msgSummary + " " + found.join(" ") : "";
      status.classList.toggle("file-status--problem", found.length > 0);
      return found;
    }

    if (!rich) {
      zones.forEach(function (zone) {
        zone.input.addEventListener("change", function () {
          zone.files = Array.prototype.slice.call(zone.input.files || []);
          report();
        });
      });
      form.addEventListener("submit", function (event) {
        if (report().length) {
          event.preventDefault();
          form.reportValidity();
        }
      });
      return;
    }

    zones.forEach(function (zone) {
      var box = zone.input.parentNode;
      zone.list = box.nextElementSibling;
      box.classList.add("dropzone--ready");
      box.querySelector(".dropzone__prompt").hidden = false;
      zone.input.addEventListener("change", function () {
        add(zone, zone.input.files);
      });
      box.addEventListener("dragover", function (event) {
        event.preventDefault();
        box.classList.add("dropzone--over");
      });
      box.addEventListener("dragleave", function () {
        box.classList.remove("dropzone--over");
      });
      box.addEventListener("drop", function (event) {
        event.preventDefault();
        box.classList.remove("dropzone--over");
        if (event.dataTransfer) add(zone, event.dataTransfer.files);
      });
      render(zone);
    });

    /* Files add to what is listed (a second choice or drop does not drop the first); the
       same file twice is listed once. A chooser closed without a choice changes nothing. */
    function add(zone, fileList) {
      Array.prototype.forEach.call(fileList || [], function (file) {
        var known = zone.files.some(function (other) {
          return other.name === file.name && other.size === file.size && other.lastModified === file.lastModified;
        });
        if (!known) zone.files.push(file);
      });
      store(zone);
      render(zone);
      report();
    }

    function store(zone) {
      var transfer = new DataTransfer();
      zone.files.forEach(function (file) { transfer.items.add(file); });
      zone.input.files = transfer.files;
    }

    function render(zone) {
      zone.list.textContent = "";
      zone.files.forEach(function (file, index) {
        var item = template.content.firstElementChild.cloneNode(true);
        item.querySelector(".file-item__name").textContent = file.name;
        item.querySelector(".file-item__size").textContent = sizeText(file.size);
        var problem = fileProblem(file);
        item.querySelector(".file-item__error").textContent = problem;
        item.classList.toggle("file-item--invalid", Boolean(problem));
        var remove = item.querySelector(".file-item__remove");
        remove.querySelector(".visually-hidden").textContent = " " + file.name;
        remove.addEventListener("click", function () {
          zone.files.splice(index, 1);
          store(zone);
          render(zone);
          report();
          // Focus goes to the next file's button, else back to the drop zone's input.
          var next = zone.list.querySelectorAll(".file-item__remove")[Math.min(index, zone.files.length - 1)];
          (next || zone.input).focus();
        });
        zone.list.appendChild(item);
      });
      zone.list.hidden = zone.files.length === 0;
    }

    /* A file dropped next to a zone would make the browser open it and leave the form. */
    ["dragover", "drop"].forEach(function (type) {
      form.addEventListener(type, function (event) {
        if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
          event.preventDefault();
        }
      });
    });

    var upload = form.querySelector("#upload");
    var bar = form.querySelector("#upload-bar");
    var text = form.querySelector("#upload-text");
    var failed = form.querySelector("#upload-failed");
    var cancelled = form.querySelector("#upload-cancelled");
    var cancel = form.querySelector("#upload-cancel");
    var button = form.querySelector("button[type=submit]");
    var said = form.querySelector("#upload-status"); // read out at the start and when all is sent
    var request = null;

    function showState(state) {
      upload.hidden = false;
      [bar, text, upload.querySelector("#upload-label")].forEach(function (el) {
        el.hidden = state !== "sending";
      });
      cancel.hidden = state !== "sending";
      failed.hidden = state !== "failed";
      cancelled.hidden = state !== "cancelled";
      if (state === "sending") button.setAttribute("aria-disabled", "true");
      else button.removeAttribute("aria-disabled");
    }

    function stopped(state) {
      request = null;
      showState(state);
      said.textContent = "";
    }

    cancel.addEventListener("click", function () {
      if (request) request.abort();
    });

    /* Leaving the page while sending would drop the upload: the browser asks first. */
    window.addEventListener("beforeunload", function (event) {
      if (request && form.isConnected) {
        event.preventDefault();
        event.returnValue = "";
      }
    });

    form.addEventListener("submit", function (event) {
      if (request) {
        event.preventDefault(); // a second click while sending: one application
        return;
      }
      if (report().length) {
        event.preventDefault();
        form.reportValidity();
        return;
      }
      event.preventDefault();
      send();
    });

    function send() {
      var xhr = new XMLHttpRequest();
      request = xhr;
      xhr.open("POST", form.action);
      xhr.responseType = "document";
      bar.value = 0;
      bar.max = 100;
      text.textContent = "";
      showState("sending");
      said.textContent = data.msgSending;
      upload.scrollIntoView({ block: "nearest" });
      xhr.upload.addEventListener("progress", function (event) {
        if (!event.lengthComputable) return;
        bar.max = event.total;
        bar.value = event.loaded;
        text.textContent = fill(data.msgProgress, { sent: sizeText(event.loaded), total: sizeText(event.total) });
      });
      xhr.upload.addEventListener("load", function () {
        // Everything is on the server; it checks and stores the application now.
        cancel.hidden = true;
        bar.value = bar.max;
        text.textContent = data.msgWaiting;
        said.textContent = data.msgWaiting;
      });
      xhr.addEventListener("load", function () {
        request = null;
        answered(xhr);
      });
      xhr.addEventListener("error", function () { stopped("failed"); });
      xhr.addEventListener("timeout", function () { stopped("failed"); });
      xhr.addEventListener("abort", function () { stopped("cancelled"); });
      xhr.send(new FormData(form));
    }

    /* Accepted: the server answered 303 and the request followed it to the receipt, which is
       opened as the plain form would have. Anything else is the page the server answered
       with (the form with its problems, "too large", "try again", …), shown in place. */
    function answered(xhr) {
      var target = xhr.responseURL ? new URL(xhr.responseURL) : null;
      if (xhr.status === 200 && target && target.pathname !== new URL(form.action).pathname) {
        window.location.assign(target.href);
        return;
      }
      var doc = xhr.response;
      var main = doc && doc.querySelector("main");
      if (!main) {
        stopped("failed");
        return;
      }
      document.title = doc.title;
      main = document.adoptNode(main);
      document.querySelector("main").replaceWith(main);
      window.scrollTo(0, 0);
      enhance(main.querySelector("form.apply-form"));
      focusFirst(main);
    }
  }

  /* After a refused submission, focus goes to the list of problems, else to the page. */
  function focusFirst(main) {
    var target = document.getElementById("error-summary") || document.getElementById("form-notice");
    if (target) target.focus();
    else if (main) main.focus();
  }

  enhance(document.querySelector("form.apply-form"));
  focusFirst(null);
})();
