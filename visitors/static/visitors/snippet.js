/* SalesMonk tracking snippet. No dependencies, no third-party code.
 *
 * <script>window.salesmonk=window.salesmonk||function(){(salesmonk.q=salesmonk.q||[]).push(arguments)};</script>
 * <script async src="https://<salesmonk host>/t/s.js" data-site="<site key>"></script>
 *
 * salesmonk('identify', {email, first_name, last_name, phone, company})
 * salesmonk('chat', {message, conversation_id?, sender?})
 * salesmonk('meeting', {title, starts_at, duration})
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-site]");
  if (!script || !script.getAttribute("data-site")) return;
  var endpoint = new URL(script.src).origin + "/t/e?k=" + encodeURIComponent(script.getAttribute("data-site"));
  var COOKIE = "_smk_id";
  var queue = [];
  var timer = null;

  function randomId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var s = "";
    for (var i = 0; i < 32; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  }

  // First-party anonymous id: a cookie on the customer's own domain, mirrored in localStorage.
  function anonymousId() {
    var match = document.cookie.match(/(?:^|; )_smk_id=([A-Za-z0-9_-]{8,64})/);
    var id = match ? match[1] : null;
    try { id = id || localStorage.getItem(COOKIE); } catch (e) { /* storage blocked */ }
    id = id || randomId();
    document.cookie = COOKIE + "=" + id + "; path=/; max-age=63072000; SameSite=Lax";
    try { localStorage.setItem(COOKIE, id); } catch (e) { /* storage blocked */ }
    return id;
  }

  var anonId = anonymousId();

  function send() {
    timer = null;
    while (queue.length) {
      var batch = queue.splice(0, 50);
      var body = JSON.stringify({anonymous_id: anonId, sent_at: Date.now(), events: batch});
      // A string is sent as text/plain: no CORS preflight, and it survives page unload.
      var sent = false;
      try { sent = navigator.sendBeacon && navigator.sendBeacon(endpoint, body); } catch (e) { sent = false; }
      if (!sent) {
        fetch(endpoint, {method: "POST", body: body, keepalive: true, mode: "cors",
                         headers: {"Content-Type": "text/plain"}}).catch(function () {});
      }
    }
  }

  function track(event) {
    event.ts = Date.now();
    queue.push(event);
    if (!timer) timer = setTimeout(send, 50);
  }

  function millis(value) {
    if (value instanceof Date) return value.getTime();
    if (typeof value === "string") return Date.parse(value);
    return value;
  }

  function conversationId() {
    var key = "_smk_chat";
    try {
      var id = sessionStorage.getItem(key) || randomId();
      sessionStorage.setItem(key, id);
      return id;
    } catch (e) {
      return anonId;
    }
  }

  var commands = {
    page: function () {
      track({type: "page", url: location.href, title: document.title, referrer: document.referrer});
    },
    identify: function (traits) {
      var e = {type: "identify"};
      for (var k in traits || {}) if (Object.prototype.hasOwnProperty.call(traits, k)) e[k] = traits[k];
      track(e);
    },
    chat: function (data) {
      data = data || {};
      track({type: "chat", message: data.message, sender: data.sender || "visitor",
             conversation_id: data.conversation_id || conversationId()});
    },
    meeting: function (data) {
      data = data || {};
      track({type: "meeting", title: data.title, starts_at: millis(data.starts_at), duration: data.duration});
    }
  };

  function salesmonk(name, arg) {
    if (commands[name]) commands[name](arg);
  }

  var pending = (window.salesmonk && window.salesmonk.q) || [];
  window.salesmonk = salesmonk;
  commands.page();
  for (var i = 0; i < pending.length; i++) salesmonk.apply(null, pending[i]);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") send();
  });
  window.addEventListener("pagehide", send);
})();
