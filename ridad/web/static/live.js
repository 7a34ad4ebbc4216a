/* ridad status page: live updates.
 *
 * The page is complete without this script. With it, the page listens to
 * the event stream named by <main data-events> (Server-Sent Events); after
 * each event (debounced by data-debounce milliseconds) it fetches the same
 * page again and puts the new #live-content in place of the old one,
 * keeping the scroll position, the focus and which <details> are open. The
 * #live-status line (role=status) takes the new page's text, so screen
 * readers hear what changed; #live-indicator says whether the page is live.
 */
(function () {
  "use strict";
  var main = document.getElementById("main");
  var indicator = document.getElementById("live-indicator");
  var url = main && main.getAttribute("data-events");
  if (!url || !indicator || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var delay = Number(main.getAttribute("data-debounce")) || 300;
  var timer = null;
  var busy = false;
  var again = false;

  function show(state, text) {
    indicator.className = "live live-" + state;
    indicator.textContent = text;
  }

  function focusPath() {
    var element = document.activeElement;
    var content = document.getElementById("live-content");
    if (!element || !content || !content.contains(element)) {
      return null;
    }
    var anchor = element.id ? element : element.parentElement.closest("[id]");
    if (!anchor) {
      return null;
    }
    var same = anchor.querySelectorAll(element.tagName);
    return {
      id: anchor.id,
      tag: element.tagName,
      index: element === anchor ? -1 : Array.prototype.indexOf.call(same, element)
    };
  }

  function restoreFocus(path) {
    var anchor = path && document.getElementById(path.id);
    if (!anchor) {
      return;
    }
    var target = path.index < 0 ? anchor : anchor.querySelectorAll(path.tag)[path.index];
    if (target && target.focus) {
      target.focus({ preventScroll: true });
    }
  }

  function swap(fresh) {
    var content = document.getElementById("live-content");
    var replacement = fresh.getElementById("live-content");
    if (!content || !replacement) {
      return;
    }
    var open = {};
    content.querySelectorAll("details[id]").forEach(function (d) {
      open[d.id] = d.open;
    });
    var focus = focusPath();
    var x = window.scrollX;
    var y = window.scrollY;
    replacement = document.adoptNode(replacement);
    replacement.querySelectorAll("details[id]").forEach(function (d) {
      if (Object.prototype.hasOwnProperty.call(open, d.id)) {
        d.open = open[d.id];
      }
    });
    content.replaceWith(replacement);
    restoreFocus(focus);
    window.scrollTo(x, y);
    var status = document.getElementById("live-status");
    var freshStatus = fresh.getElementById("live-status");
    if (status && freshStatus && status.textContent !== freshStatus.textContent) {
      status.textContent = freshStatus.textContent;
    }
    if (fresh.title) {
      document.title = fresh.title;
    }
    document.dispatchEvent(new CustomEvent("ridad:updated"));
  }

  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    fetch(window.location.href, {
      headers: { Accept: "text/html" },
      credentials: "same-origin",
      cache: "no-store"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        swap(new DOMParser().parseFromString(html, "text/html"));
        if (source.readyState === EventSource.OPEN) {
          show("on", "Live");
        }
      })
      .catch(function () {
        show("error", "Update failed; reload the page");
      })
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          schedule();
        }
      });
  }

  function schedule() {
    if (timer === null) {
      timer = window.setTimeout(function () {
        timer = null;
        refresh();
      }, delay);
    }
  }

  show("wait", "Connecting…");
  var source = new EventSource(url);
  // Changes between the page's rendering and the stream's opening (or while
  // it reconnected) have no event of their own: fetch the page once then.
  source.addEventListener("open", function () {
    show("on", "Live");
    schedule();
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      show("off", "Not live; reload the page");
    } else {
      show("wait", "Reconnecting…");
    }
  });
  ["module.state.change", "component.state.change", "gap", "message"].forEach(function (type) {
    source.addEventListener(type, schedule);
  });
})();
