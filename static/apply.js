/* apply.js: checks files in the browser before upload, mirroring the server's rules, so
   nobody uploads 60 MB to be told no. The server stays the authority; without this script
   the form works the same, only the checks happen after the upload. */
(function () {
  "use strict";
  var form = document.querySelector("form.apply-form");
  if (!form) return;
  var data = form.dataset;
  var maxFile = Number(data.maxFile), maxTotal = Number(data.maxTotal), maxFiles = Number(data.maxFiles);
  var extensions = (data.extensions || "").split(",");
  var status = document.getElementById("file-status");
  var inputs = Array.prototype.slice.call(form.querySelectorAll("input[type=file]"));

  function message(template, name) {
    return template.replace("{name}", name);
  }

  function extensionOf(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? "" : name.slice(dot + 1).toLowerCase();
  }

  /* Every problem with the chosen files, and the total count and size. */
  function problems() {
    var found = [], count = 0, total = 0;
    inputs.forEach(function (input) {
      var own = [];
      Array.prototype.forEach.call(input.files || [], function (file) {
        count += 1;
        total += file.size;
        if (extensions.indexOf(extensionOf(file.name)) < 0) own.push(message(data.msgFileType, file.name));
        else if (file.size === 0) own.push(message(data.msgFileEmpty, file.name));
        else if (file.size > maxFile) own.push(message(data.msgFileSize, file.name));
      });
      input.setCustomValidity(own.join(" "));
      found = found.concat(own);
    });
    if (count > maxFiles) found.push(data.msgCount);
    else if (total > maxTotal) found.push(data.msgTotal);
    if (count > maxFiles || total > maxTotal) inputs[inputs.length - 1].setCustomValidity(found[found.length - 1]);
    return found;
  }

  inputs.forEach(function (input) {
    input.addEventListener("change", function () {
      var found = problems();
      status.textContent = found.length ? data.msgSummary + " " + found.join(" ") : "";
    });
  });

  form.addEventListener("submit", function (event) {
    var found = problems();
    if (found.length) {
      event.preventDefault();
      status.textContent = data.msgSummary + " " + found.join(" ");
      form.reportValidity();
      return;
    }
    status.textContent = data.msgSending;
    var button = form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-disabled", "true");
  });

  /* After a failed submission, move focus to the list of problems. */
  var summary = document.getElementById("error-summary") || document.getElementById("form-notice");
  if (summary) summary.focus();
})();
