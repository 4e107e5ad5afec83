/* share.js: the copy buttons of a job's share links (templates/jobs/_share.html). They are
   shown only where a page may write to the clipboard; without this script the mail,
   LinkedIn and XING links work the same. */
(function () {
  "use strict";
  var status = document.querySelector(".share__status");
  if (!status || !navigator.clipboard || !window.isSecureContext) return;
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.parentNode.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "";
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
        function () { status.textContent = status.getAttribute("data-copied"); },
        function () { status.textContent = status.getAttribute("data-failed"); }
      );
    });
  });
})();
