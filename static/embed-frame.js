/* embed-frame.js: runs inside the widget's iframe. Tells the host page (embed.js) how tall
   the content is and which job is open. Messages carry a version and a type and nothing
   else: no personal data, so sending them to whichever page frames us is harmless (and
   only origins in CAREERS_FRAME_ANCESTORS may frame us at all). */
(function () {
  "use strict";
  if (window.parent === window) return;
  var root = document.documentElement;
  var last = 0;

  function post(message) {
    message.careers = 1;
    window.parent.postMessage(message, "*");
  }

  function sendHeight() {
    var height = Math.ceil(Math.max(document.body.scrollHeight, root.getBoundingClientRect().height));
    if (height !== last) {
      last = height;
      post({ type: "resize", height: height });
    }
  }

  var job = root.getAttribute("data-careers-job");
  post({ type: "navigate", view: root.getAttribute("data-careers-view") || "page", job: job ? Number(job) : null });
  sendHeight();
  if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(document.body);
  window.addEventListener("load", sendHeight);
  window.addEventListener("resize", sendHeight);

  /* Links that leave the widget (Personio's own pages, the privacy policy) open a new tab
     instead of loading a foreign site inside the frame. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && link.origin !== window.location.origin && !link.target) link.target = "_blank";
  });
})();
